// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { admin } from '../../auth'
import { platformEn } from '../../messages'
import PlansView from './PlansView.vue'
import type { Plan } from './data'

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}
const problem = (status: number, code: string, extra: object = {}) =>
  json({ status, code, title: 'Refused', ...extra }, status, 'application/problem+json')

const pro: Plan = {
  id: 'pro',
  name: { zh: '专业版', en: 'Pro' },
  currency: 'cny',
  monthlyAmount: 19900,
  yearlyAmount: 199900,
  trialDays: 14,
  stripePrices: { monthly: 'price_1Mon' },
  limits: { maxOrdersPerMonth: 5000, maxActiveCouriers: null, maxStaffSeats: 10, customDomain: true },
  status: 'active',
  sort: 2,
  tenantCount: 3,
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
}

function fakeApi(answer: (method: string, path: string, body: unknown) => Response | undefined) {
  const calls: { call: string; query: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url, 'http://localhost')
      const text = req.method === 'GET' ? '' : await req.text()
      const body = text ? JSON.parse(text) : undefined
      calls.push({ call: `${req.method} ${url.pathname}`, query: url.search, body })
      return answer(req.method, url.pathname, body) ?? problem(404, 'not_found')
    }),
  )
  return calls
}

function mountView(role = 'finance') {
  admin.value = { id: 'a1', email: 'fin@paotui.example', role, createdAt: '2025-01-01T00:00:00Z' }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', platformEn as never)
  return mount(PlansView, { global: { plugins: [i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

afterEach(() => {
  vi.unstubAllGlobals()
  admin.value = null
  document.body.innerHTML = ''
})

const dialog = () => document.querySelector<HTMLElement>('[data-testid=plan-dialog]')!
const field = (testid: string) => document.querySelector<HTMLInputElement>(`[data-testid=${testid}] input, input[data-testid=${testid}]`)!
function setValue(testid: string, v: string) {
  const el = field(testid)
  el.value = v
  el.dispatchEvent(new Event('input'))
}
const marked = () => [...dialog().querySelectorAll('.el-form-item.is-error')].map((x) => x.querySelector('.el-form-item__label')!.textContent)
const click = async (testid: string) => {
  document.querySelector<HTMLElement>(`[data-testid=${testid}]`)!.click()
  await flushPromises()
}

describe('PlansView', () => {
  it('lists plans and offers no changes to support', async () => {
    const calls = fakeApi((m, p) => (m === 'GET' && p === '/api/v1/platform/plans' ? json({ items: [pro], total: 1 }) : undefined))
    const w = mountView('support')
    await flushPromises()
    expect(w.get('[data-testid=plans-table]').text()).toContain('Pro')
    expect(w.get('[data-testid=plan-status-pro]').text()).toBe('On sale')
    expect(w.find('[data-testid=plan-create]').exists()).toBe(false)
    expect(w.find('[data-testid=plan-edit-pro]').exists()).toBe(false)
    expect(w.text()).toContain(platformEn.platform.plans.readOnly)
    await w.get('[data-testid=plans-include-retired] input').setValue(true)
    await flushPromises()
    expect(calls.map((c) => c.query)).toEqual(['?limit=100&includeRetired=false', '?limit=100&includeRetired=true'])
  })

  it('replaces the whole plan on edit and shows a refused price by its field', async () => {
    let refuse = true
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET') return json({ items: [pro], total: 1 })
      if (m === 'PUT' && p === '/api/v1/platform/plans/pro') {
        if (refuse) {
          refuse = false
          return problem(422, 'plan_invalid', { errors: [{ location: 'body.stripePrices.yearly', message: 'no such price at Stripe' }] })
        }
        return json({ ...pro, ...(body as object) })
      }
      return undefined
    })
    mountView()
    await flushPromises()
    await click('plan-edit-pro')
    expect(field('plan-id').disabled).toBe(true)
    setValue('plan-monthly', '249.9')
    setValue('plan-price-yearly', 'price_1Year')
    await click('plan-unlimited-maxStaffSeats')
    await click('plan-save')
    expect(marked()).toEqual(['Yearly price'])
    // Element Plus shows a field's message a moment after marking it (a debounce).
    await new Promise((r) => setTimeout(r, 150))
    expect(dialog().querySelector('.el-form-item.is-error .el-form-item__error')!.textContent).toContain('no such price at Stripe')
    await click('plan-save')
    const puts = calls.filter((c) => c.call === 'PUT /api/v1/platform/plans/pro')
    expect(puts).toHaveLength(2)
    expect(puts[1]!.body).toEqual({
      name: { zh: '专业版', en: 'Pro' },
      currency: 'cny',
      monthlyAmount: 24990,
      yearlyAmount: 199900,
      trialDays: 14,
      sort: 2,
      stripePrices: { monthly: 'price_1Mon', yearly: 'price_1Year' },
      limits: { maxOrdersPerMonth: 5000, maxActiveCouriers: null, maxStaffSeats: null, customDomain: true },
    })
    expect(document.querySelector('[data-testid=plans-notice]')!.textContent).toContain('Plan pro saved')
  })

  it('checks a new plan before sending and puts a taken id by the id', async () => {
    const calls = fakeApi((m, p) => {
      if (m === 'GET') return json({ items: [pro], total: 1 })
      if (m === 'POST' && p === '/api/v1/platform/plans') return problem(409, 'plan_exists')
      return undefined
    })
    mountView('owner')
    await flushPromises()
    await click('plan-create')
    await click('plan-save')
    expect(marked()).toEqual(['ID', 'Name (Chinese)', 'Name (English)', 'Monthly price (¥)', 'Yearly price (¥)'])
    expect(calls.some((c) => c.call.startsWith('POST'))).toBe(false)
    setValue('plan-id', 'pro')
    setValue('plan-name-zh', '专业版')
    setValue('plan-name-en', 'Pro')
    setValue('plan-monthly', '199')
    setValue('plan-yearly', '1999')
    await click('plan-save')
    expect(calls.filter((c) => c.call === 'POST /api/v1/platform/plans')).toHaveLength(1)
    expect(marked()).toEqual(['ID'])
    expect(dialog().querySelector('[role=alert]')).toBeNull()
  })

  it('retires a plan after asking, and shows why the server refused', async () => {
    let refuse = true
    const calls = fakeApi((m, p) => {
      if (m === 'GET') return json({ items: [pro], total: 1 })
      if (m === 'POST' && p === '/api/v1/platform/plans/pro/retire') {
        if (refuse) {
          refuse = false
          return problem(409, 'last_active_plan')
        }
        return json({ ...pro, status: 'retired' })
      }
      return undefined
    })
    const w = mountView()
    await flushPromises()
    await click('plan-retire-pro')
    expect(calls.some((c) => c.call.endsWith('/retire'))).toBe(false)
    expect(document.body.textContent).toContain('The 3 tenants on it keep it')
    await click('plan-retire-confirm')
    expect(document.querySelector('[data-code=last_active_plan]')).not.toBeNull()
    await click('plan-retire-confirm')
    expect(calls.filter((c) => c.call.endsWith('/retire'))).toHaveLength(2)
    expect(w.get('[data-testid=plans-notice]').text()).toContain('Plan pro retired')
  })
})
