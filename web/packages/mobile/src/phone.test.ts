import { describe, expect, it } from 'vitest'
import { normalizePhone, safeRedirect, validateLogin } from './phone'

describe('sign-in form', () => {
  it('accepts mainland numbers written the ways people type them', () => {
    expect(normalizePhone('13800000000')).toBe('13800000000')
    expect(normalizePhone('+86 138 0000 0000')).toBe('13800000000')
    expect(normalizePhone('0086-138-0000-0000')).toBe('13800000000')
    expect(normalizePhone('1380000000')).toBeNull()
    expect(normalizePhone('12800000000')).toBeNull()
    expect(normalizePhone('138000000001')).toBeNull()
  })

  it('checks only the phone before sending a code, and both before signing in', () => {
    expect(validateLogin('138', null)).toEqual({ phone: 'badPhone' })
    expect(validateLogin('13800000000', null)).toEqual({})
    expect(validateLogin('13800000000', '')).toEqual({ code: 'badCode' })
    expect(validateLogin('13800000000', '12a456')).toEqual({ code: 'badCode' })
    expect(validateLogin('13800000000', ' 123456 ')).toEqual({})
  })

  it('returns only to a page of this app after signing in', () => {
    expect(safeRedirect('/orders/42')).toBe('/orders/42')
    expect(safeRedirect('//evil.example/x')).toBe('/')
    expect(safeRedirect('https://evil.example')).toBe('/')
    expect(safeRedirect(['/a'])).toBe('/')
  })
})
