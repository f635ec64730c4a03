// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import type { Schema } from '@paotui/api'
import { createPaotuiI18n } from '@paotui/i18n'
import { me } from '../../auth'
import { adminEn } from '../../messages'
import OrderActions from './OrderActions.vue'

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

/** Answers the API by path; records every request with its body. */
function fakeApi(answer: (method: string, path: string) => Response | undefined) {
  const calls: { call: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      const text = req.method === 'GET' ? '' : await req.text()
      calls.push({ call: `${req.method} ${pathname}`, body: text ? JSON.parse(text) : undefined })
      if (pathname === '/api/v1/admin/couriers') return json({ items: [], total: 0 })
      return answer(req.method, pathname) ?? json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

function signIn(permissions: string[]) {
  me.value = { id: 'staff1', name: 'S', phone: '', hasPassword: true, roles: ['dispatcher'], permissions, tenant: { name: '', slug: '' } }
}

const order = (over: Partial<Schema<'Detail'>> = {}): Schema<'Detail'> =>
  ({
    id: '00000000-0000-4000-8000-000000000001',
    number: 'P000001',
    status: 'accepted',
    allowed: ['release', 'cancel'],
    courierId: 'c1',
    paidAmount: 800,
    refundedAmount: 0,
    timeline: [],
    journals: [],
    notes: [],
    ...over,
  }) as Schema<'Detail'>

function mountActions(o: Schema<'Detail'>) {
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', adminEn as never)
  return mount(OrderActions, { props: { order: o }, global: { plugins: [i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  document.body.innerHTML = ''
})

describe('OrderActions', () => {
  it('offers what the order allows and the staff member may do', async () => {
    fakeApi(() => undefined)
    signIn(['orders:assign', 'orders:note'])
    const w = mountActions(order({ exception: 'late' }))
    await flushPromises()
    expect(w.find('[data-testid=order-assign]').exists()).toBe(true)
    expect(w.find('[data-testid=order-assign]').text()).toBe('Back to the hall')
    expect(w.find('[data-testid=order-note-add]').exists()).toBe(true)
    // No orders:cancel, orders:refund or orders:exception.
    expect(w.find('[data-testid=order-cancel]').exists()).toBe(false)
    expect(w.find('[data-testid=refund-submit]').exists()).toBe(false)
    expect(w.find('[data-testid=order-resolve]').exists()).toBe(false)
  })

  it('asks for a cancel reason before sending, then cancels and reports it', async () => {
    const calls = fakeApi((method, path) => (method === 'POST' && path.endsWith('/cancel') ? json(order({ status: 'cancelled' })) : undefined))
    signIn(['orders:*'])
    const w = mountActions(order())
    await flushPromises()
    await w.get('[data-testid=order-cancel-form]').trigger('submit')
    await flushPromises()
    expect(calls.some((c) => c.call.endsWith('/cancel'))).toBe(false)
    // Element Plus shows a field's error after a short debounce.
    await vi.waitFor(() => expect(w.get('[data-testid=order-cancel-form]').text()).toContain('Required'))

    await w.get('input[data-testid=order-cancel-reason]').setValue('student asked')
    await w.get('[data-testid=order-cancel-form]').trigger('submit')
    await flushPromises()
    expect(calls.find((c) => c.call.endsWith('/cancel'))).toEqual({
      call: 'POST /api/v1/admin/orders/00000000-0000-4000-8000-000000000001/cancel',
      body: { reason: 'student asked' },
    })
    expect(w.emitted('done')).toEqual([['cancel']])
  })

  it('shows the server refusal next to the form that caused it', async () => {
    fakeApi((method, path) =>
      method === 'POST' && path.endsWith('/notes')
        ? json({ status: 422, code: 'note_invalid', title: 'Unprocessable Entity' }, 422, 'application/problem+json')
        : undefined,
    )
    signIn(['orders:note', 'orders:cancel'])
    const w = mountActions(order())
    await flushPromises()
    await w.get('textarea[data-testid=order-note]').setValue('called the student')
    await w.get('[data-testid=order-note-form]').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid=order-note-form]').find('[role=alert]').attributes('data-code')).toBe('note_invalid')
    expect(w.get('[data-testid=order-cancel-form]').find('[role=alert]').exists()).toBe(false)
    expect(w.emitted('done')).toBeUndefined()
  })
})
