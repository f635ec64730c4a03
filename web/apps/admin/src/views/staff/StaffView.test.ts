// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { me } from '../../auth'
import { adminEn } from '../../messages'
import StaffView from './StaffView.vue'

const owner = { id: '00000000-0000-4000-8000-00000000000a', phone: '138****0001', name: '张*', status: 'active', roles: ['owner', 'student'], createdAt: '2026-01-01T00:00:00Z' }

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

function fakeApi(revoke: () => Response) {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      calls.push(`${req.method} ${pathname}`)
      if (req.method === 'GET' && pathname === '/api/v1/staff') return json({ items: [owner] })
      if (req.method === 'DELETE') return revoke()
      return json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

function signIn(permissions: string[]) {
  me.value = { id: 'me', name: '', phone: '', hasPassword: true, roles: ['owner'], permissions, tenant: { name: '', slug: '' } }
}

async function mountView() {
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', adminEn as never)
  const w = mount(StaffView, { global: { plugins: [i18n, ElementPlus] }, attachTo: document.body })
  await flushPromises()
  return w
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  document.body.innerHTML = ''
})

describe('StaffView', () => {
  it('lists staff roles without the buttons for staff who cannot manage roles', async () => {
    fakeApi(() => new Response(null, { status: 204 }))
    signIn(['staff:read'])
    const w = await mountView()
    expect(w.text()).toContain('Owner')
    expect(w.text()).not.toContain('Student')
    expect(w.find('[data-testid=staff-grant]').exists()).toBe(false)
    expect(w.find('[data-testid=staff-revoke]').exists()).toBe(false)
  })

  it('confirms a revoke and shows why the server refused the last owner', async () => {
    const calls = fakeApi(() =>
      json({ status: 409, code: 'last_owner', title: 'Conflict', detail: 'a service must keep at least one owner' }, 409, 'application/problem+json'),
    )
    signIn(['*:*'])
    const w = await mountView()
    await w.get('[data-testid=staff-revoke][data-role=owner]').trigger('click')
    await flushPromises()
    // Nothing is sent before the confirmation.
    expect(calls.filter((c) => c.startsWith('DELETE'))).toEqual([])
    expect(document.querySelector('[data-testid=staff-revoke-question]')?.textContent).toContain('Owner')
    ;(document.querySelector('[data-testid=staff-revoke-confirm]') as HTMLButtonElement).click()
    await flushPromises()
    expect(calls).toContain(`DELETE /api/v1/staff/${owner.id}/roles/owner`)
    const alert = document.querySelector('[role=alert][data-code=last_owner]')
    expect(alert?.textContent).toContain('at least one owner')
  })
})
