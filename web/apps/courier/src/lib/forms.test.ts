import { describe, expect, it } from 'vitest'
import { deliverBody, validateApplication, validateDeliver, validSixDigits } from './forms'

describe('validSixDigits', () => {
  it.each([
    ['123456', true],
    ['12345', false],
    ['12345a', false],
    ['', false],
  ])('%s -> %s', (v, ok) => expect(validSixDigits(v)).toBe(ok))
})

describe('validateApplication', () => {
  const ok = { realName: '王五', studentNo: '2023001', vehicle: 'bike' as const, note: '' }
  it('accepts a complete application', () => expect(validateApplication(ok)).toEqual({}))
  it('names each wrong field', () => {
    expect(validateApplication({ ...ok, realName: ' 王 ', studentNo: '12' })).toEqual({
      realName: 'courier.apply.realNameInvalid',
      studentNo: 'courier.apply.studentNoInvalid',
    })
  })
  it('refuses student numbers with symbols', () => {
    expect(validateApplication({ ...ok, studentNo: '2023-001' }).studentNo).toBe('courier.apply.studentNoInvalid')
  })
})

describe('validateDeliver', () => {
  const cases = [
    { name: 'code only', form: { code: '123456', photoId: '' }, errs: {}, body: { code: '123456' } },
    { name: 'photo only', form: { code: '', photoId: 'p1' }, errs: {}, body: { photoId: 'p1' } },
    { name: 'code wins over photo', form: { code: ' 654321 ', photoId: 'p1' }, errs: {}, body: { code: '654321' } },
    { name: 'neither', form: { code: '', photoId: '' }, errs: { code: 'courier.trips.deliveryCodeInvalid' } },
    { name: 'short code even with a photo', form: { code: '12', photoId: 'p1' }, errs: { code: 'courier.trips.deliveryCodeInvalid' } },
  ]
  for (const tc of cases) {
    it(tc.name, () => {
      expect(validateDeliver(tc.form)).toEqual(tc.errs)
      if (tc.body) expect(deliverBody(tc.form)).toEqual(tc.body)
    })
  }
})
