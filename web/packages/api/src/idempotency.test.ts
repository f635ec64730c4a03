import { describe, expect, it } from 'vitest'
import { IdempotencyKey, keySpent } from './idempotency'

describe('payment idempotency key', () => {
  it('is spent by a success or a refusal, kept when the answer may have been lost', () => {
    expect(keySpent(undefined)).toBe(true)
    expect(keySpent({ status: 409, code: 'wallet_insufficient_funds', title: '' })).toBe(true)
    expect(keySpent({ status: 503, code: 'network_error', title: '' })).toBe(false)
    expect(keySpent({ status: 502, code: 'unexpected_response', title: '' })).toBe(false)
    expect(keySpent({ status: 429, code: 'rate_limited', title: '' })).toBe(true)
  })
})

describe('IdempotencyKey.settle', () => {
  it('renews a spent key and keeps one whose attempt may have gone through', () => {
    const k = new IdempotencyKey()
    const first = k.value
    k.settle({ status: 0, code: 'network_error', title: '' })
    expect(k.value).toBe(first)
    k.settle({ status: 402, code: 'wallet_insufficient_funds', title: '' })
    expect(k.value).not.toBe(first)
  })
})
