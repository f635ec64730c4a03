// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Plugin } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { provideBoot, type Boot } from '@paotui/theme'
import { me } from '../../../auth'
import PlacesTab from './PlacesTab.vue'
import { placesEn } from './messages'

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

const dorm = { id: '00000000-0000-4000-8000-000000000001', name: '1号宿舍楼', kind: 'dorm', at: { lat: 30.5355, lng: 114.3645 }, enabled: true, sort: 0 }
const gate = { id: '00000000-0000-4000-8000-000000000002', name: '南门', kind: 'gate', at: { lat: 30.53, lng: 114.36 }, enabled: false, sort: 5 }

function fakeApi(answer: (method: string, path: string, body: unknown) => Response | undefined) {
  const calls: { call: string; query: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url, 'http://localhost')
      const text = req.method === 'GET' ? '' : await req.text()
      const body = text ? JSON.parse(text) : undefined
      calls.push({ call: `${req.method} ${url.pathname}`, query: url.search, body })
      return answer(req.method, url.pathname, body) ?? json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

function mountTab(permissions = ['settings:*']) {
  me.value = { id: 's1', name: 'S', phone: '', hasPassword: true, roles: ['owner'], permissions, tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', placesEn as never)
  const b: Boot = { host: { kind: 'tenant' }, tenant: { slug: 'demo', name: 'Demo', status: 'active', branding: { displayName: 'Demo', primaryColor: '#1677ff' } } }
  const boot: Plugin = { install: (app) => provideBoot(app, b) }
  return mount(PlacesTab, { global: { plugins: [i18n, ElementPlus, boot], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

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

describe('PlacesTab', () => {
  it('lists places with their kind and status, and enables a disabled one', async () => {
    const calls = fakeApi((m, p) => {
      if (m === 'GET' && p === '/api/v1/admin/places') return json({ items: [dorm, gate], total: 2 })
      if (m === 'PUT' && p === `/api/v1/admin/places/${gate.id}`) return json({ ...gate, enabled: true })
      return undefined
    })
    const w = mountTab()
    await settled()
    const table = w.get('[data-testid=places-table]').text()
    expect(table).toContain('1号宿舍楼')
    expect(table).toContain('Dorm')
    expect(w.get(`[data-testid=place-status-${gate.id}]`).text()).toBe('Disabled')
    expect(w.findAll('[data-testid=place-enable]')).toHaveLength(1)
    await w.get('[data-testid=place-enable]').trigger('click')
    await settled()
    expect(calls.find((c) => c.call === `PUT /api/v1/admin/places/${gate.id}`)?.body).toEqual({ name: '南门', kind: 'gate', at: gate.at, sort: 5, enabled: true })
    expect(w.get('[data-testid=places-notice]').text()).toContain('Enabled place "南门" again')
  })

  it('shows no add button to staff who may only read', async () => {
    fakeApi((m) => (m === 'GET' ? json({ items: [], total: 0 }) : undefined))
    const w = mountTab(['settings:read'])
    await settled()
    expect(w.find('[data-testid=places-add]').exists()).toBe(false)
    expect(w.text()).toContain('No places yet')
  })

  it('adds a place picked on the map, checking it first and showing a taken name by the field', async () => {
    let conflict = true
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/places') return json({ items: [dorm], total: 1 })
      if (m === 'POST' && p === '/api/v1/admin/places') {
        if (conflict) {
          conflict = false
          return json({ status: 409, code: 'place_exists', title: 'Conflict', detail: 'a place with this name exists' }, 409, 'application/problem+json')
        }
        return json({ ...(body as object), id: 'new', enabled: true }, 201)
      }
      return undefined
    })
    const w = mountTab()
    await settled()
    await w.get('[data-testid=places-add]').trigger('click')
    await settled()
    const drawer = () => w.findComponent({ name: 'PlaceDrawer' })
    const marked = () => drawer().findAll('.el-form-item.is-error').map((x) => x.get('.el-form-item__label').text())
    await drawer().get('[data-testid=place-save]').trigger('click')
    await flushPromises()
    // Name, kind and location are missing: three fields marked, nothing sent.
    expect(marked()).toEqual(['Name', 'Kind', 'Location'])
    expect(calls.some((c) => c.call.startsWith('POST'))).toBe(false)

    await drawer().get('[data-testid=place-name]').setValue('1号宿舍楼')
    await drawer().get('[data-testid=place-save]').trigger('click')
    await flushPromises()
    // The listed place already has this name.
    expect(marked()).toEqual(['Name', 'Kind', 'Location'])
    expect(calls.some((c) => c.call.startsWith('POST'))).toBe(false)

    await drawer().get('[data-testid=place-name]').setValue('图书馆')
    drawer().findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'library')
    drawer().findComponent({ name: 'CampusMap' }).vm.$emit('pick', { lat: 30.536123456789, lng: 114.365 })
    await flushPromises()
    expect((drawer().get('[data-testid=place-lat] input').element as HTMLInputElement).value).toBe('30.5361235')
    await drawer().get('[data-testid=place-save]').trigger('click')
    await flushPromises()
    // A disabled place with that name exists on the server: the conflict is shown by the name.
    expect(marked()).toEqual(['Name'])
    await drawer().get('[data-testid=place-name]').setValue('新图书馆')
    await drawer().get('[data-testid=place-save]').trigger('click')
    await settled()
    const posts = calls.filter((c) => c.call === 'POST /api/v1/admin/places')
    expect(posts).toHaveLength(2)
    expect(posts[1]!.body).toEqual({ name: '新图书馆', kind: 'library', at: { lat: 30.5361235, lng: 114.365 }, sort: 0 })
    expect(w.get('[data-testid=places-notice]').text()).toContain('Added place "新图书馆"')
  })
})
