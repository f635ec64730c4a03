// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { session } from './api'
import { adoptImpersonation, grants, isStaff } from './auth'

describe('grants', () => {
  it('honours wildcards on the resource and the action', () => {
    expect(grants(['orders:*'], 'orders:refund')).toBe(true)
    expect(grants(['*:*'], 'billing:write')).toBe(true)
    expect(grants(['orders:read'], 'orders:refund')).toBe(false)
    expect(grants(null, 'orders:read')).toBe(false)
  })
})

describe('isStaff', () => {
  it('is false for students and couriers', () => {
    const base = { hasPassword: false, id: 'u', name: '', phone: '', permissions: [], tenant: { name: '', slug: '' } }
    expect(isStaff({ ...base, roles: ['student'] })).toBe(false)
    expect(isStaff({ ...base, roles: ['student', 'dispatcher'] })).toBe(true)
  })
})

describe('adoptImpersonation', () => {
  it('signs in with the token from the fragment and clears it from the address', () => {
    let replaced = ''
    expect(adoptImpersonation('#impersonate=tok123', (u) => (replaced = u))).toBe(true)
    expect(session.accessToken).toBe('tok123')
    expect(replaced).not.toContain('tok123')
    expect(adoptImpersonation('#other=1', () => {})).toBe(false)
    session.signOut()
  })
})
