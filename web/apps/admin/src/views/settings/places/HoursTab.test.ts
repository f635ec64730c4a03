// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { me } from '../../../auth'
import HoursTab from './HoursTab.vue'
import { placesEn } from './messages'

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

const hours = {
  timezone: 'Asia/Shanghai',
  week: { mon: ['08:00-22:00'], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] },
  closedDates: [{ date: '2025-10-01', reason: '国庆假期' }],
}

/** Answers the API by method and path; records every request with its body. */
function fakeApi(answer: (method: string, path: string, body: unknown) => Response | undefined) {
  const calls: { call: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      const text = req.method === 'GET' ? '' : await req.text()
      const body = text ? JSON.parse(text) : undefined
      calls.push({ call: `${req.method} ${pathname}`, body })
      if (req.method === 'GET' && pathname === '/api/v1/admin/service-hours') return json(hours)
      return answer(req.method, pathname, body) ?? json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

function mountTab() {
  me.value = { id: 's1', name: 'S', phone: '', hasPassword: true, roles: ['owner'], permissions: ['settings:*'], tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', placesEn as never)
  return mount(HoursTab, { global: { plugins: [i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  document.body.innerHTML = ''
})

describe('HoursTab', () => {
  it('shows the week, the time zone and the closed dates', async () => {
    fakeApi(() => undefined)
    const w = mountTab()
    await flushPromises()
    expect(w.text()).toContain('Asia/Shanghai')
    expect((w.get('[data-testid=hours-mon-0-from]').element as HTMLInputElement).value).toBe('08:00')
    expect((w.get('[data-testid=hours-mon-0-to]').element as HTMLInputElement).value).toBe('22:00')
    // Other days have no windows in a week that has some: closed.
    expect(w.findAll('[data-testid=hours-closed-day]')).toHaveLength(6)
    expect(w.get('[data-testid=closed-table]').text()).toContain('国庆假期')
  })

  it('refuses overlapping windows without sending, and saves a valid week in opening order', async () => {
    const calls = fakeApi((method, path, body) => {
      if (method === 'PUT' && path === '/api/v1/admin/service-hours') {
        const week = (body as { week: Record<string, string[]> }).week
        return json({ ...hours, week: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [], ...week } })
      }
      return undefined
    })
    const w = mountTab()
    await flushPromises()
    await w.get('[data-testid=hours-mon-add]').trigger('click')
    // The new window starts where the last ended; make it overlap instead.
    await w.get('[data-testid=hours-mon-1-from]').setValue('07:00')
    await w.get('[data-testid=hours-mon-1-to]').setValue('09:00')
    await w.get('[data-testid=hours-save]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=hours-mon-0-error]').text()).toBe('Overlaps 07:00-09:00')
    expect(w.get('[data-testid=hours-mon-1-error]').text()).toBe('Overlaps 08:00-22:00')
    expect(calls.some((c) => c.call.startsWith('PUT'))).toBe(false)

    await w.get('[data-testid=hours-mon-1-to]').setValue('08:00')
    // The error follows the edit once a save was tried.
    expect(w.find('[data-testid=hours-mon-1-error]').exists()).toBe(false)
    await w.get('[data-testid=hours-save]').trigger('click')
    await flushPromises()
    const put = calls.find((c) => c.call === 'PUT /api/v1/admin/service-hours')
    expect(put?.body).toEqual({ week: { mon: ['07:00-08:00', '08:00-22:00'] } })
    expect(w.get('[data-testid=hours-notice]').text()).toContain('Service hours saved')
    expect((w.get('[data-testid=hours-mon-0-from]').element as HTMLInputElement).value).toBe('07:00')
  })

  it("shows the server's refusal of a window by that window", async () => {
    fakeApi((method) =>
      method === 'PUT'
        ? json(
            { status: 422, code: 'hours_invalid', title: 'Unprocessable Entity', errors: [{ location: 'body.week.mon[0]', message: 'window refused here' }] },
            422,
            'application/problem+json',
          )
        : undefined,
    )
    const w = mountTab()
    await flushPromises()
    await w.get('[data-testid=hours-save]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=hours-mon-0-error]').text()).toBe('window refused here')
  })

  it('adds and removes closed dates, checking the date first', async () => {
    const calls = fakeApi((method, path, body) => {
      if (method === 'POST' && path === '/api/v1/admin/closed-dates') return json(body)
      if (method === 'DELETE' && path === '/api/v1/admin/closed-dates/2025-10-01') return new Response(null, { status: 204 })
      return undefined
    })
    const w = mountTab()
    await flushPromises()
    await w.get('[data-testid=closed-add]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=closed-date]').classes()).toContain('is-error')
    expect(calls.some((c) => c.call.startsWith('POST'))).toBe(false)

    await w.get('[data-testid=closed-date] input').setValue('2025-12-25')
    await w.get('[data-testid=closed-date] input').trigger('change')
    await w.get('[data-testid=closed-reason]').setValue(' 圣诞 ')
    await w.get('[data-testid=closed-add]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.call === 'POST /api/v1/admin/closed-dates')?.body).toEqual({ date: '2025-12-25', reason: '圣诞' })
    expect(w.get('[data-testid=closed-table]').text()).toContain('2025-12-25')

    await w.get('[data-testid=closed-remove][data-date="2025-10-01"]').trigger('click')
    await flushPromises()
    await w.get('[data-testid=closed-remove-confirm]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.call === 'DELETE /api/v1/admin/closed-dates/2025-10-01')).toBe(true)
    expect(w.get('[data-testid=closed-table]').text()).not.toContain('2025-10-01')
  })
})
