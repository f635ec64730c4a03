// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { me } from '../../auth'
import { adminEn } from '../../messages'
import UserDrawer from './UserDrawer.vue'

const user = { id: '00000000-0000-4000-8000-0000000000b1', phone: '138****0001', name: '李*', status: 'active', roles: ['student'], createdAt: '2026-01-01T00:00:00Z' }

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

function fakeApi(topup: () => Response) {
  const calls: { call: string; key: string | null; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      const body = req.method === 'POST' ? await req.json() : undefined
      calls.push({ call: `${req.method} ${pathname}`, key: req.headers.get('Idempotency-Key'), body })
      if (pathname.endsWith('/pii')) return json({ id: user.id, phone: '13800000001', name: '李四' })
      if (pathname.endsWith('/wallet/topups')) return topup()
      return json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

async function mountDrawer(permissions: string[]) {
  me.value = { id: 'me', name: '', phone: '', hasPassword: true, roles: ['finance'], permissions, tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', adminEn as never)
  const w = mount(UserDrawer, { props: { user: null }, global: { plugins: [i18n, ElementPlus] }, attachTo: document.body })
  await w.setProps({ user })
  await flushPromises()
  return w
}

const $ = (sel: string) => document.querySelector(sel) as HTMLElement | null

async function type(sel: string, value: string) {
  const el = $(sel) as HTMLInputElement
  el.value = value
  el.dispatchEvent(new Event('input'))
  el.dispatchEvent(new Event('change'))
  await flushPromises()
}

// happy-dom does not submit a form from its submit button; the browser does.
async function submitTopup() {
  $('[data-testid=users-topup]')!.closest('form')!.dispatchEvent(new Event('submit', { cancelable: true }))
  await flushPromises()
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  document.body.innerHTML = ''
})

describe('UserDrawer', () => {
  it('shows neither the reveal nor the top-up without their permissions', async () => {
    fakeApi(() => json({}))
    await mountDrawer(['users:read'])
    expect($('[data-testid=user-phone]')?.textContent).toBe('138****0001')
    expect($('[data-testid=users-reveal]')).toBeNull()
    expect($('[data-testid=users-topup]')).toBeNull()
  })

  it('reveals the phone and name on request, saying the view is logged', async () => {
    const calls = fakeApi(() => json({}))
    await mountDrawer(['pii:read'])
    expect(calls).toEqual([])
    expect(document.body.textContent).toContain('recorded in the audit log')
    $('[data-testid=users-reveal]')!.click()
    await flushPromises()
    expect(calls.map((c) => c.call)).toEqual([`GET /api/v1/users/${user.id}/pii`])
    expect($('[data-testid=user-phone]')?.textContent).toBe('13800000001')
  })

  it('credits yuan as 分 and keeps the idempotency key for a retry of the same credit', async () => {
    let fail = true
    const calls = fakeApi(() =>
      fail
        ? json({ status: 503, code: 'unavailable', title: 'Service Unavailable' }, 503, 'application/problem+json')
        : json({ id: 'p1', purpose: 'topup', userId: user.id, provider: 'staff', amount: 1250, refunded: 0, currency: 'cny', status: 'succeeded', createdAt: '2026-01-01T00:00:00Z' }),
    )
    await mountDrawer(['finance:topup'])
    await type('[data-testid=users-topup-amount] input', '12.5')
    await type('input[data-testid=users-topup-reason]', 'compensation')
    await submitTopup()
    fail = false
    await submitTopup()
    const posts = calls.filter((c) => c.call.endsWith('/wallet/topups'))
    expect(posts.map((p) => p.body)).toEqual([
      { amount: 1250, reason: 'compensation' },
      { amount: 1250, reason: 'compensation' },
    ])
    expect(posts[0]!.key).toBeTruthy()
    expect(posts[1]!.key).toBe(posts[0]!.key)
    expect($('[data-testid=users-topup-done]')?.textContent).toContain('12.50')
  })
})
