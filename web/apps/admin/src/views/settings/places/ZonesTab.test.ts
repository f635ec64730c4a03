// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Plugin } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { provideBoot, type Boot } from '@paotui/theme'
import { me } from '../../../auth'
import ZonesTab from './ZonesTab.vue'
import { placesEn } from './messages'

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

const square = {
  type: 'Polygon',
  coordinates: [
    [
      [114.36, 30.53],
      [114.37, 30.53],
      [114.37, 30.54],
      [114.36, 30.53],
    ],
  ],
}
const main = { type: 'Feature', id: 'z1', properties: { name: '主校区', enabled: true }, geometry: square }

/** Answers the API by method and (decoded) path; records every request with its body. */
function fakeApi(answer: (method: string, path: string, body: unknown) => Response | undefined) {
  const calls: { call: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname)
      const text = req.method === 'GET' ? '' : await req.text()
      const body = text ? JSON.parse(text) : undefined
      calls.push({ call: `${req.method} ${path}`, body })
      if (req.method === 'GET' && path === '/api/v1/admin/places') return json({ items: [], total: 0 })
      return answer(req.method, path, body) ?? json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

function mountTab() {
  me.value = { id: 's1', name: 'S', phone: '', hasPassword: true, roles: ['owner'], permissions: ['settings:*'], tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', placesEn as never)
  const b: Boot = { host: { kind: 'tenant' }, tenant: { slug: 'demo', name: 'Demo', status: 'active', branding: { displayName: 'Demo', primaryColor: '#1677ff' } } }
  const boot: Plugin = { install: (app) => provideBoot(app, b) }
  return mount(ZonesTab, { global: { plugins: [i18n, ElementPlus, boot], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

/** Waits for the requests and for the map, which loads on demand. */
async function settled() {
  await flushPromises()
  await vi.dynamicImportSettled()
  await flushPromises()
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  document.body.innerHTML = ''
})

describe('ZonesTab', () => {
  it('lists the zones and draws them on the map', async () => {
    fakeApi((m, p) => (m === 'GET' && p === '/api/v1/admin/zones' ? json({ type: 'FeatureCollection', features: [main] }) : undefined))
    const w = mountTab()
    await settled()
    expect(w.get('[data-testid=zones-list]').text()).toContain('主校区')
    expect(w.findAll('path.pt-map__zone')).toHaveLength(1)
    await w.get('[data-testid=zone-select]').trigger('click')
    expect(w.get('[data-testid=zone-selected]').text()).toContain('主校区')
  })

  it('says there are no zones and deliveries go anywhere', async () => {
    fakeApi((m, p) => (m === 'GET' && p === '/api/v1/admin/zones' ? json({ type: 'FeatureCollection', features: null }) : undefined))
    const w = mountTab()
    await flushPromises()
    expect(w.get('[data-testid=zones-empty]').text()).toContain('orders are accepted anywhere')
  })

  it('checks a new zone before saving it with put-zone', async () => {
    let zones: object[] = [main]
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/zones') return json({ type: 'FeatureCollection', features: zones })
      if (m === 'PUT' && p === '/api/v1/admin/zones/北区') {
        const f = { type: 'Feature', id: 'z2', properties: { name: '北区', enabled: true }, geometry: (body as { geometry: unknown }).geometry }
        zones = [...zones, f]
        return json(f)
      }
      return undefined
    })
    const w = mountTab()
    await flushPromises()
    await w.get('[data-testid=zone-new]').trigger('click')
    await w.get('[data-testid=zone-name]').setValue('主校区')
    await w.get('[data-testid=zone-save]').trigger('click')
    await flushPromises()
    // The name would replace the existing zone, and nothing is drawn yet.
    expect(w.text()).toContain('0 corners drawn')
    expect(w.findAll('[data-testid=zone-drawing] .el-form-item.is-error')).toHaveLength(2)
    expect(calls.some((c) => c.call.startsWith('PUT'))).toBe(false)

    await w.get('[data-testid=zone-name]').setValue('北区')
    await settled()
    const map = w.findComponent({ name: 'CampusMap' })
    map.vm.$emit('update:vertices', [
      { lat: 30.55, lng: 114.36 },
      { lat: 30.55, lng: 114.37 },
      { lat: 30.56, lng: 114.37 },
    ])
    await flushPromises()
    expect(w.text()).toContain('3 corners drawn')
    await w.get('[data-testid=zone-save]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.call === 'PUT /api/v1/admin/zones/北区')?.body).toEqual({
      geometry: { type: 'Polygon', coordinates: [[[114.36, 30.55], [114.37, 30.55], [114.37, 30.56], [114.36, 30.55]]] },
    })
    expect(w.get('[data-testid=zones-notice]').text()).toContain('Saved zone "北区"')
    expect(w.get('[data-testid=zones-list]').text()).toContain('北区')
    expect(w.find('[data-testid=zone-drawing]').exists()).toBe(false)
  })

  it('turns a zone off and deletes one after confirming', async () => {
    let zones: object[] = [main]
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/zones') return json({ type: 'FeatureCollection', features: zones })
      if (m === 'POST' && p === '/api/v1/admin/zones/主校区/enabled') return json({ ...main, properties: { name: '主校区', enabled: (body as { enabled: boolean }).enabled } })
      if (m === 'DELETE' && p === '/api/v1/admin/zones/主校区') {
        zones = []
        return new Response(null, { status: 204 })
      }
      return undefined
    })
    const w = mountTab()
    await flushPromises()
    await w.get('[data-testid=zone-enabled]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.call === 'POST /api/v1/admin/zones/主校区/enabled')?.body).toEqual({ enabled: false })
    // The only zone is off: nothing can be ordered, and the page says so.
    expect(w.find('[data-testid=zones-all-off]').exists()).toBe(true)

    await w.get('[data-testid=zone-delete]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.call.startsWith('DELETE'))).toBe(false)
    await w.get('[data-testid=zone-delete-confirm]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.call === 'DELETE /api/v1/admin/zones/主校区')).toBe(true)
    expect(w.find('[data-testid=zones-empty]').exists()).toBe(true)
  })
})
