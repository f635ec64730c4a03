import { describe, expect, it } from 'vitest'
import { clockSkew, secondsLeft } from './countdown'

describe('secondsLeft', () => {
  const now = Date.parse('2026-11-25T04:00:00Z')
  it('rounds up partial seconds', () => expect(secondsLeft('2026-11-25T04:00:10.200Z', now)).toBe(11))
  it('never goes below zero', () => expect(secondsLeft('2026-11-25T03:59:00Z', now)).toBe(0))
  it('uses the server clock when the phone is behind', () => expect(secondsLeft('2026-11-25T04:00:30Z', now, 20_000)).toBe(10))
  it('treats a bad timestamp as expired', () => expect(secondsLeft('soon', now)).toBe(0))
})

describe('clockSkew', () => {
  const local = Date.parse('2026-11-25T04:00:00Z')
  it('is the server minus the local clock', () => expect(clockSkew('Wed, 25 Nov 2026 04:00:30 GMT', local)).toBe(30_000))
  it('ignores second-precision noise', () => expect(clockSkew('Wed, 25 Nov 2026 04:00:01 GMT', local)).toBe(0))
  it('is zero without a usable header', () => {
    expect(clockSkew(null, local)).toBe(0)
    expect(clockSkew('garbage', local)).toBe(0)
  })
})
