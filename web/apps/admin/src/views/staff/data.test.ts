import { describe, expect, it } from 'vitest'
import { emptyGrant, grantBody, isBuiltinRole, manageableRoles, normalizePhone, validateGrant } from './data'

describe('normalizePhone', () => {
  it('drops spaces, dashes and the country code', () => {
    expect(normalizePhone('+86 138-0000-0001')).toBe('13800000001')
    expect(normalizePhone('8613800000001')).toBe('13800000001')
    // Not a country code when the rest is no mobile number.
    expect(normalizePhone('86138')).toBe('86138')
  })
})

describe('validateGrant', () => {
  it('accepts a mobile number and a staff or custom role', () => {
    expect(validateGrant({ ...emptyGrant(), phone: '+86 13800000001' })).toEqual({})
    expect(validateGrant({ phone: '13800000001', role: '夜班', name: '' })).toEqual({})
  })
  it('refuses a bad phone, the self-service roles and odd role names', () => {
    expect(validateGrant({ phone: '1380000', role: '', name: '' })).toEqual({ phone: 'phone', role: 'required' })
    expect(validateGrant({ phone: '13800000001', role: 'courier', name: '' })).toEqual({ role: 'role' })
    expect(validateGrant({ phone: '13800000001', role: 'night shift', name: '' })).toEqual({ role: 'role' })
    expect(validateGrant({ phone: '13800000001', role: 'admin', name: '张'.repeat(65) })).toEqual({ name: 'tooLong' })
  })
  it('sends the normalised phone and leaves out an empty name', () => {
    expect(grantBody({ phone: '138 0000 0001', role: ' finance ', name: ' ' })).toEqual({ phone: '13800000001', role: 'finance' })
    expect(grantBody({ phone: '13800000001', role: 'admin', name: '王五' })).toEqual({ phone: '13800000001', role: 'admin', name: '王五' })
  })
})

describe('manageableRoles', () => {
  it('leaves out the student and courier roles', () => {
    expect(manageableRoles(['student', 'owner', 'courier', 'night'])).toEqual(['owner', 'night'])
    expect(manageableRoles(null)).toEqual([])
    expect(isBuiltinRole('support')).toBe(true)
    expect(isBuiltinRole('night')).toBe(false)
  })
})
