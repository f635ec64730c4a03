// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Plugin } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { provideBoot, type Boot } from '@paotui/theme'
import { me } from '../../auth'
import { adminEn } from '../../messages'
import DashboardView from './DashboardView.vue'
import { dashboardMapEn } from './mapMessages'

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const dashboard = {
  zone: 'Asia/Shanghai',
  today: { date: '2026-11-25', orders: 4, completed: 2, gmv: 1300 },
  openOrders: 1,
  couriers: { approved: 3, online: 1 },
  trend: [],
}
const square = { type: 'Polygon', coordinates: [[[114.36, 30.53], [114.37, 30.53], [114.37, 30.54], [114.36, 30.53]]] }
const zones = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', id: 'z1', properties: { name: '主校区', enabled: true }, geometry: square },
    { type: 'Feature', id: 'z2', properties: { name: '停用区', enabled: false }, geometry: square },
  ],
}

/** An admin feed that sends the given SSE text and then stays open, as the server's does. */
function feed(text: string) {
  return new Response(
    new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(text))
      },
    }),
    { headers: { 'Content-Type': 'text/event-stream' } },
  )
}

function fakeApi(live: string) {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url, 'http://localhost')
      calls.push(`${req.method} ${url.pathname}${url.search}`)
      switch (url.pathname) {
        case '/api/v1/admin/dashboard':
          return json(dashboard)
        case '/api/v1/admin/live':
          return feed(live)
        case '/api/v1/admin/zones':
          return json(zones)
        case '/api/v1/admin/couriers':
          return json({ items: [{ userId: 'c1', realName: '张*' }], total: 1 })
      }
      return json({ status: 404, code: 'not_found', title: 'Not Found' }, 404)
    }),
  )
  return calls
}

function mountView(permissions: string[]) {
  me.value = { id: 's1', name: 'S', phone: '', hasPassword: true, roles: ['owner'], permissions, tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', adminEn as never)
  i18n.global.mergeLocaleMessage('en', dashboardMapEn as never)
  const b: Boot = { host: { kind: 'tenant' }, tenant: { slug: 'demo', name: 'Demo', status: 'active', branding: { displayName: 'Demo', primaryColor: '#1677ff' } } }
  const boot: Plugin = { install: (app) => provideBoot(app, b) }
  return mount(DashboardView, { global: { plugins: [i18n, ElementPlus, boot], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

async function settled() {
  await flushPromises()
  await vi.dynamicImportSettled()
  await flushPromises()
}

const position = (courierId: string, lat: number) =>
  `event: position\ndata: ${JSON.stringify({ courierId, lng: 114.365, lat, at: '2026-11-25T04:00:00Z' })}\n\n`

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
  me.value = null
  document.body.innerHTML = ''
})

describe('DashboardView live map', () => {
  it('follows the admin feed with positions and pins couriers over the enabled zones, figures unchanged', async () => {
    const calls = fakeApi(`id: 1-0\nevent: ready\ndata: {}\n\n${position('c1', 30.535)}${position('c2-xxxx-9e8f', 30.536)}`)
    const w = mountView(['*:*'])
    await settled()
    expect(calls).toContain('GET /api/v1/admin/live?map=true')
    // Positions are drawn in batches, once a second.
    expect(w.findAll('.pt-map__pin--courier')).toHaveLength(0)
    await new Promise((r) => setTimeout(r, 1100))
    await flushPromises()
    expect(w.get('[data-testid=fig-completed]').text()).toContain('2')
    const pins = w.findAll('.pt-map__pin--courier')
    expect(pins.map((p) => p.attributes('title')).sort()).toEqual(['Courier 9e8f', '张*'])
    expect(w.get('[data-testid=live-map-count]').text()).toBe('2 couriers reporting their position')
    // Only the enabled zone is drawn.
    expect(w.findAll('path.pt-map__zone')).toHaveLength(1)
    // Positions are not order changes: the figures were not reloaded for them.
    expect(calls.filter((c) => c.startsWith('GET /api/v1/admin/dashboard'))).toHaveLength(1)
    w.unmount()
  })

  it('dims a quiet courier and drops one silent for two minutes', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] })
    fakeApi(`event: ready\ndata: {}\n\n${position('c1', 30.535)}`)
    const w = mountView(['orders:read'])
    await settled()
    await new Promise((r) => setTimeout(r, 1100))
    await flushPromises()
    expect(w.findAll('.pt-map__pin--courier')).toHaveLength(1)
    // Without settings:read or couriers:read: no zones and no names are asked for.
    expect(w.findAll('path.pt-map__zone')).toHaveLength(0)

    vi.advanceTimersByTime(60_000)
    await flushPromises()
    expect(w.findAll('.pt-map__pin--courier:not(.pt-map__pin--faded)')).toHaveLength(0)
    const dim = w.get('.pt-map__pin--courier.pt-map__pin--faded')
    expect(dim.attributes('title')).toMatch(/^Courier \w+ \(no update for 60 s\)$/)

    vi.advanceTimersByTime(60_000)
    await flushPromises()
    expect(w.findAll('.pt-map__pin')).toHaveLength(0)
    expect(w.get('[data-testid=live-map-hint]').text()).toContain('No courier positions yet')
    w.unmount()
  })
})
