import { describe, expect, it } from 'vitest'
import { formatMoney, pickText } from './format'

describe('pickText', () => {
  it.each([
    [{ zh: '代取快递', en: 'Parcel pickup' }, 'zh-CN', '代取快递'],
    [{ zh: '代取快递', en: 'Parcel pickup' }, 'en', 'Parcel pickup'],
    [{ zh: '代取快递', en: '' }, 'en', '代取快递'],
    [{ zh: '', en: 'Parcel pickup' }, 'zh-CN', 'Parcel pickup'],
    [null, 'en', ''],
  ])('%j in %s', (text, locale, want) => {
    expect(pickText(text, locale)).toBe(want)
  })
})

describe('formatMoney', () => {
  it('formats minor units without float drift', () => {
    expect(formatMoney(1250, 'zh-CN')).toBe('¥12.50')
    expect(formatMoney(1, 'en')).toBe('CN¥0.01')
    expect(formatMoney(2999, 'en', 'cny')).toBe('CN¥29.99')
  })
})
