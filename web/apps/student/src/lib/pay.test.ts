import { describe, expect, it } from 'vitest'
import { keySpent } from './pay'

describe('payment idempotency key', () => {
  it('is spent by a success or a refusal, kept when the answer may have been lost', () => {
    expect(keySpent(undefined)).toBe(true)
    expect(keySpent({ status: 409, code: 'wallet_insufficient_funds', title: '' })).toBe(true)
    expect(keySpent({ status: 503, code: 'network_error', title: '' })).toBe(false)
    expect(keySpent({ status: 502, code: 'unexpected_response', title: '' })).toBe(false)
    expect(keySpent({ status: 429, code: 'rate_limited', title: '' })).toBe(true)
  })
})
