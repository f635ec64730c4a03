// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPaotuiI18n } from '@paotui/i18n'
import { provideBoot, type Boot } from '@paotui/theme'
import CampusMap from './CampusMap.vue'

function boot(branding: Record<string, string> = {}): Boot {
  return {
    host: { kind: 'tenant' },
    tenant: { slug: 'demo', name: '演示', status: 'active', branding: { displayName: '演示', primaryColor: '#1677ff', ...branding } },
  }
}

function mountMap(props: Record<string, unknown>, b = boot()) {
  return mount(CampusMap, {
    props,
    attachTo: document.body,
    global: {
      plugins: [createPaotuiI18n('en'), { install: (app) => provideBoot(app, b) }],
    },
  })
}

const pickup = { id: 'p', at: { lat: 30.535, lng: 114.364 }, kind: 'pickup' as const, label: 'Library' }
const courier = { id: 'c', at: { lat: 30.536, lng: 114.366 }, kind: 'courier' as const }

describe('CampusMap', () => {
  it('draws without tiles when the tenant set none, and says so', () => {
    const w = mountMap({ markers: [pickup] })
    expect(w.get('[data-testid=map]').attributes('data-tiles')).toBe('none')
    expect(w.get('[data-testid=map-no-tiles]').text()).toContain('No map tiles')
    expect(w.findAll('.leaflet-tile')).toHaveLength(0)
    w.unmount()
  })

  it("uses the tenant's tile template and credit line", async () => {
    const w = mountMap({ markers: [pickup] }, boot({ mapTileUrl: 'https://tiles.example.com/{z}/{x}/{y}.png', mapAttribution: '© Example <b>' }))
    await flushPromises()
    expect(w.findAll('img.leaflet-tile').length).toBeGreaterThan(0)
    expect(w.get('img.leaflet-tile').attributes('src')).toMatch(/^https:\/\/tiles\.example\.com\/16\/\d+\/\d+\.png$/)
    expect(w.get('[data-testid=map]').attributes('data-tiles')).toBe('tiles')
    expect(w.find('[data-testid=map-no-tiles]').exists()).toBe(false)
    // The credit is text: markup in it stays escaped.
    expect(w.get('.leaflet-control-attribution').html()).toContain('© Example &lt;b&gt;')
    w.unmount()
  })

  it('falls back to the plain map when the tile server does not answer', async () => {
    const w = mountMap({ markers: [pickup] }, boot({ mapTileUrl: 'https://tiles.example.com/{z}/{x}/{y}.png' }))
    await flushPromises()
    const imgs = w.findAll('img.leaflet-tile')
    expect(imgs.length).toBeGreaterThan(0)
    for (const img of imgs) img.element.dispatchEvent(new Event('error'))
    await flushPromises()
    expect(w.get('[data-testid=map]').attributes('data-tiles')).toBe('failed')
    expect(w.get('[data-testid=map-no-tiles]').text()).toContain('failed to load')
    expect(w.findAll('img.leaflet-tile')).toHaveLength(0)
    // The shapes stay.
    expect(w.findAll('.pt-map__pin--pickup')).toHaveLength(1)
    w.unmount()
  })

  it('refuses a template that is not https', () => {
    const w = mountMap({}, boot({ mapTileUrl: 'http://tiles.example.com/{z}/{x}/{y}.png' }))
    expect(w.get('[data-testid=map]').attributes('data-tiles')).toBe('none')
    w.unmount()
  })

  it('places a labelled pin per marker and follows a moving courier', async () => {
    const w = mountMap({ markers: [pickup, courier] })
    expect(w.findAll('.pt-map__pin--pickup')).toHaveLength(1)
    expect(w.get('.pt-map__pin--pickup').attributes('title')).toBe('Library')
    // Unlabelled markers are named by their kind, for screen readers too.
    expect(w.get('.pt-map__pin--courier').attributes('title')).toBe('Courier')
    await w.setProps({ markers: [pickup, { ...courier, faded: true }] })
    expect(w.get('.pt-map__pin--courier').classes()).toContain('pt-map__pin--faded')
    await w.get('.pt-map__pin--courier').trigger('click')
    expect(w.emitted('marker')?.[0]).toEqual(['c'])
    await w.setProps({ markers: [pickup] })
    expect(w.findAll('.pt-map__pin--courier')).toHaveLength(0)
    w.unmount()
  })

  it('shows drawing tools while vertices are edited; undo drops the last one', async () => {
    const vertices = [
      { lat: 30.1, lng: 114.1 },
      { lat: 30.2, lng: 114.1 },
    ]
    const w = mountMap({ vertices })
    await w.get('[data-testid=map-undo]').trigger('click')
    expect(w.emitted('update:vertices')?.[0]).toEqual([[vertices[0]]])
    await w.get('[data-testid=map-clear]').trigger('click')
    expect(w.emitted('update:vertices')?.[1]).toEqual([[]])
    w.unmount()
  })
})
