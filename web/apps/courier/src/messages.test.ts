import { describe, expect, it } from 'vitest'
import { createPaotuiI18n } from '@paotui/i18n'
import { courierEn, courierMessages, courierZhCN } from './messages'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v as object, `${prefix}${k}.`)))
}

describe('courier messages', () => {
  it('has the same keys in both languages', () => {
    expect(keys(courierEn).sort()).toEqual(keys(courierZhCN).sort())
  })

  it('are available through the shared i18n next to the shared texts', () => {
    const i18n = createPaotuiI18n('en')
    for (const b of courierMessages) for (const [l, m] of Object.entries(b)) i18n.global.mergeLocaleMessage(l, m as never)
    expect(i18n.global.t('courier.hall.grab')).toBe('Grab')
    expect(i18n.global.t('courier.offers.left', { s: 9 })).toBe('9s left')
    expect(i18n.global.t('common.retry')).toBe('Retry')
    i18n.global.locale.value = 'zh-CN'
    expect(i18n.global.t('courier.hall.grab')).toBe('抢单')
  })
})
