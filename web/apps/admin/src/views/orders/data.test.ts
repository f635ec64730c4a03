import { describe, expect, it } from 'vitest'
import { emptyFilter, filterToQuery, refundable, validateRefund } from './data'

describe('filterToQuery', () => {
  it('sends only what is set and pages by offset', () => {
    expect(filterToQuery(emptyFilter(), 3, 20)).toEqual({ limit: 20, offset: 40 })
    const f = { ...emptyFilter(), status: ['completed'], studentId: ' u1 ', range: [new Date(2026, 10, 1), new Date(2026, 10, 2)] as [Date, Date] }
    const q = filterToQuery(f, 1, 20)
    expect(q.status).toEqual(['completed'])
    expect(q.studentId).toBe('u1')
    // The whole of the last day is included.
    expect(new Date(q.to!).getTime() - new Date(q.from!).getTime()).toBe(2 * 24 * 3600 * 1000)
  })
})

describe('validateRefund', () => {
  it('refuses zero, more than what is left, and a missing reason', () => {
    const left = refundable({ paidAmount: 855, refundedAmount: 300 })
    expect(left).toBe(555)
    expect(validateRefund(5.55, 'late', left)).toEqual({})
    expect(validateRefund(5.56, 'late', left)).toEqual({ amount: 'amount' })
    expect(validateRefund(0, ' ', left)).toEqual({ amount: 'amount', reason: 'required' })
  })
})
