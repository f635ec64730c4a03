// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { authGuard, router } from './router'

describe('sign-in guard', () => {
  it('sends a signed-out student to sign-in and back to where they were going', () => {
    const to = router.resolve('/orders/abc')
    expect(authGuard(to, false)).toEqual({ name: 'login', query: { redirect: '/orders/abc' } })
    expect(authGuard(to, true)).toBe(true)
  })

  it('lets anyone see the errands on offer', () => {
    expect(authGuard(router.resolve('/'), false)).toBe(true)
  })

  it('skips the sign-in page once signed in, but never to another site', () => {
    expect(authGuard(router.resolve('/login?redirect=/me'), true)).toEqual({ path: '/me' })
    expect(authGuard(router.resolve('/login?redirect=//evil.example'), true)).toEqual({ path: '/' })
    expect(authGuard(router.resolve('/login'), false)).toBe(true)
  })
})
