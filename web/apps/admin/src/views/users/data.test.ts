import { describe, expect, it } from 'vitest'
import { emptyUserFilter, maxTopup, usersQuery, validateTopup, validateUserFilter, yuanToFen } from './data'

describe('usersQuery', () => {
  it('pages by offset and sends only what is set', () => {
    expect(usersQuery(emptyUserFilter(), 2, 20)).toEqual({ limit: 20, offset: 20 })
    expect(usersQuery({ phone: ' 138 0000-0001 ', status: 'disabled' }, 1, 20)).toEqual({ limit: 20, offset: 0, phone: '13800000001', status: 'disabled' })
  })
  it('wants a whole number to search by', () => {
    expect(validateUserFilter({ phone: '1380000', status: '' })).toEqual({ phone: 'phone' })
    expect(validateUserFilter({ phone: '+8613800000001', status: '' })).toEqual({})
    expect(validateUserFilter(emptyUserFilter())).toEqual({})
  })
})

describe('validateTopup', () => {
  it('converts yuan to whole 分', () => {
    expect(yuanToFen(12.34)).toBe(1234)
    expect(yuanToFen(0.1 + 0.2)).toBe(30)
  })
  it('takes ¥0.01 to ¥5,000 with a reason', () => {
    expect(validateTopup(0.01, '补偿')).toEqual({})
    expect(validateTopup(maxTopup / 100, '补偿')).toEqual({})
    expect(validateTopup(5000.01, '补偿')).toEqual({ amount: 'topupAmount' })
    expect(validateTopup(0, ' ')).toEqual({ amount: 'topupAmount', reason: 'required' })
    expect(validateTopup(null, 'x'.repeat(201))).toEqual({ amount: 'topupAmount', reason: 'tooLong' })
  })
  it('refuses fractions of a 分 instead of rounding them away', () => {
    expect(validateTopup(1.005, '补偿')).toEqual({ amount: 'topupAmount' })
    expect(validateTopup(19.99, '补偿')).toEqual({})
  })
})
