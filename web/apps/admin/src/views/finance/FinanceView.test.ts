// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n, formatMoney, problemsEn } from '@paotui/i18n'
import { adminEn } from '../../messages'
import { financeEn } from './messages'
import FinanceView from './FinanceView.vue'

const student = '00000000-0000-4000-8000-000000000001'
const courier = '00000000-0000-4000-8000-000000000002'
const order = '00000000-0000-4000-8000-0000000000aa'

const summary = {
  zone: 'Asia/Shanghai',
  monthStart: '2026-10-31T16:00:00Z',
  balances: [
    { kind: 'wallet', accounts: 1, nonZero: 1, balance: 9550 },
    { kind: 'escrow', accounts: 1, nonZero: 1, balance: 450 },
    { kind: 'earnings', accounts: 0, nonZero: 0, balance: 0 },
    { kind: 'revenue', accounts: 0, nonZero: 0, balance: 0 },
    { kind: 'clearing', accounts: 0, nonZero: 0, balance: 0 },
    { kind: 'refunds', accounts: 0, nonZero: 0, balance: 0 },
    { kind: 'subsidy', accounts: 1, nonZero: 1, balance: -10000 },
  ],
  month: [
    { kind: 'payment', journals: 1, amount: 450 },
    { kind: 'adjustment', journals: 1, amount: 10000 },
  ],
}

const payment = {
  id: '10000000-0000-4000-8000-000000000001',
  seq: 3,
  kind: 'payment',
  ref: `order:${order}`,
  memo: 'wallet payment',
  createdBy: `user:${student}`,
  createdAt: '2026-11-25T04:00:00Z',
  amount: 450,
  entries: [
    { accountKind: 'escrow', owner: order, amount: 450 },
    { accountKind: 'wallet', owner: student, amount: -450 },
  ],
}
const topup = {
  ...payment,
  id: '10000000-0000-4000-8000-000000000002',
  seq: 1,
  kind: 'adjustment',
  ref: 'payment:p1',
  memo: 'welcome credit',
  amount: 10000,
  entries: [
    { accountKind: 'subsidy', amount: -10000 },
    { accountKind: 'wallet', owner: student, amount: 10000 },
  ],
}

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

const forbidden = () => json({ status: 403, code: 'permission_denied', title: 'Forbidden', detail: 'this needs the finance:read permission' }, 403, 'application/problem+json')

/** Answers the three finance reads; the journals come in pages of one, as the cursor asks. */
function fakeApi(opts: { summary?: () => Response; journals?: () => Response } = {}) {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url, 'http://localhost')
      calls.push(url.pathname + url.search)
      switch (url.pathname) {
        case '/api/v1/admin/finance/summary':
          return opts.summary ? opts.summary() : json(summary)
        case '/api/v1/admin/finance/journals':
          if (opts.journals) return opts.journals()
          if (url.searchParams.get('before') === '3') return json({ items: [topup] })
          return json({ items: [payment], nextBefore: 3 })
        case '/api/v1/admin/finance/accounts':
          return json({ items: [{ kind: 'earnings', owner: courier, balance: 360, updatedAt: '2026-11-25T05:00:00Z' }], total: 1 })
      }
      return json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

async function mountView() {
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', adminEn as never)
  i18n.global.mergeLocaleMessage('en', financeEn as never)
  const w = mount(FinanceView, { global: { plugins: [i18n, ElementPlus] }, attachTo: document.body })
  await flushPromises()
  return w
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('FinanceView', () => {
  it('shows the balances by group and this month in the team zone', async () => {
    fakeApi()
    const w = await mountView()
    const card = w.get('[data-testid=fin-summary]')
    expect(card.get('[data-testid=fin-balance-wallet]').text()).toContain(formatMoney(9550, 'en'))
    expect(card.get('[data-testid=fin-balance-wallet]').text()).toContain('Accounts: 1, holding money: 1')
    expect(card.get('[data-testid=fin-balance-subsidy]').text()).toContain(formatMoney(-10000, 'en'))
    // Held for others: wallets and escrow together.
    expect(card.get('[data-testid=fin-group-held]').text()).toContain(formatMoney(10000, 'en'))
    expect(card.get('[data-testid=fin-month]').text()).toContain('2026-11')
    expect(card.get('[data-testid=fin-month-adjustment]').text()).toContain('Journals: 1')
    expect(card.find('[data-testid=fin-month-topup]').exists()).toBe(false)
  })

  it('pages the journals with load more and opens a journal’s entries', async () => {
    const calls = fakeApi()
    const w = await mountView()
    expect(w.findAll('[data-testid=fin-journal-row]').map((r) => r.attributes('data-id'))).toEqual([payment.id])
    await w.get('[data-testid=fin-load-more]').trigger('click')
    await flushPromises()
    const more = calls.filter((c) => c.startsWith('/api/v1/admin/finance/journals?')).map((c) => new URLSearchParams(c.split('?')[1]))
    expect(more.map((q) => [q.get('before'), q.get('limit')])).toEqual([
      [null, '50'],
      ['3', '50'],
    ])
    expect(w.findAll('[data-testid=fin-journal-row]').map((r) => r.attributes('data-id'))).toEqual([payment.id, topup.id])
    expect(w.find('[data-testid=fin-load-more]').exists()).toBe(false)

    await w.get(`[data-testid=fin-entries-toggle-${payment.id}]`).trigger('click')
    await flushPromises()
    const entries = w.get(`[data-testid=fin-entries-${payment.id}]`)
    expect(entries.text()).toContain(order)
    expect(entries.text()).toContain(formatMoney(-450, 'en'))
  })

  it('checks the ref before sending it', async () => {
    const calls = fakeApi()
    const w = await mountView()
    const before = calls.length
    await w.get('input[data-testid=fin-filter-ref]').setValue('x'.repeat(121))
    await w.get('form').trigger('submit')
    // Element Plus shows a form item's error after a 100 ms debounce.
    await new Promise((r) => setTimeout(r, 150))
    await flushPromises()
    expect(calls.length).toBe(before)
    expect(w.get('[data-testid=fin-journals] .el-form-item__error').text()).toBe('At most 120 characters')
  })

  it("shows the server's date problem beside the date picker", async () => {
    fakeApi({
      journals: () =>
        json(
          {
            status: 422,
            code: 'finance_range_invalid',
            title: 'Unprocessable Entity',
            detail: 'from and to are dates (YYYY-MM-DD) and from is not after to',
            errors: [{ location: 'query.to', message: 'from is after to', value: '2026-11-01' }],
          },
          422,
          'application/problem+json',
        ),
    })
    const w = await mountView()
    await new Promise((r) => setTimeout(r, 150))
    await flushPromises()
    const journals = w.get('[data-testid=fin-journals]')
    expect(journals.get('.el-form-item__error').text()).toBe('from is after to')
    const alert = journals.get('.pt-problem[role=alert]')
    expect(alert.attributes('data-code')).toBe('finance_range_invalid')
    expect(alert.text()).toContain(problemsEn.finance_range_invalid)
    expect(alert.text()).not.toContain('from is after to')
  })

  it('shows why the summary failed, with a retry', async () => {
    fakeApi({ summary: forbidden })
    const w = await mountView()
    const alert = w.get('[data-testid=fin-summary] [role=alert]')
    expect(alert.attributes('data-code')).toBe('permission_denied')
    expect(alert.find('button').exists()).toBe(true)
  })

  it('loads the courier earnings when their section is opened', async () => {
    const calls = fakeApi()
    const w = await mountView()
    expect(calls.some((c) => c.startsWith('/api/v1/admin/finance/accounts'))).toBe(false)
    await w.get('[data-testid=fin-section-accounts] input').setValue(true)
    await flushPromises()
    expect(calls).toContain('/api/v1/admin/finance/accounts?kind=earnings&limit=50&offset=0')
    const row = w.get('[data-testid=fin-accounts] [data-testid=fin-account-row]')
    expect(row.text()).toBe(courier)
    expect(w.get('[data-testid=fin-accounts]').text()).toContain(formatMoney(360, 'en'))
  })
})
