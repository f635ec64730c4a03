import { describe, expect, it } from 'vitest'
import { actionsFor, impersonationUrl, tenantQuery } from './data'

describe('tenantQuery', () => {
  it('sends only the filters set', () => {
    expect(tenantQuery({ q: '  ', status: '', plan: '' }, 2, 20)).toEqual({ limit: 20, offset: 20 })
    expect(tenantQuery({ q: ' pku ', status: 'suspended', plan: 'pro' }, 1, 20)).toEqual({ q: 'pku', status: 'suspended', plan: 'pro', limit: 20, offset: 0 })
  })
})

describe('actionsFor', () => {
  it('offers suspend to active tenants and resume to suspended ones only', () => {
    expect(actionsFor('active')).toContain('suspend')
    expect(actionsFor('active')).not.toContain('resume')
    expect(actionsFor('suspended')).toContain('resume')
    expect(actionsFor('deleted')).toEqual([])
  })
})

describe('impersonationUrl', () => {
  it('puts the token in the fragment, never in the query', () => {
    const u = new URL(impersonationUrl('https://demo.paotui.example/admin', 'a.b/c'))
    expect(u.search).toBe('')
    expect(u.hash).toBe('#impersonate=a.b%2Fc')
  })
})
