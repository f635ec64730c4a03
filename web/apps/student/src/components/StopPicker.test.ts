// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { Button, Field, Loading } from 'vant'
import { createPaotuiI18n } from '@paotui/i18n'
import { provideBoot, type Boot } from '@paotui/theme'
import { stEn, stZhCN } from '../messages'
import { studentMapEn, studentMapZhCN } from '../mapMessages'
import StopPicker from './StopPicker.vue'
import { emptyStop, type Place, type StopChoice } from './stops'

const boot: Boot = {
  host: { kind: 'tenant' },
  tenant: { slug: 'demo', name: '演示', status: 'active', branding: { displayName: '演示', primaryColor: '#1677ff' } },
}
const places: Place[] = [
  { id: 'p1', name: 'Library', kind: 'building', at: { lat: 30.5355, lng: 114.3645 }, enabled: true, sort: 1 },
  { id: 'p2', name: 'Gate', kind: 'gate', at: { lat: 30.5381, lng: 114.3602 }, enabled: true, sort: 2 },
]

/** Waits (a few event-loop turns at most) for the map's chunk to load. */
async function until(ok: () => boolean) {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 5))
  await flushPromises()
}

function mountPicker(labelError?: string) {
  const i18n = createPaotuiI18n('en')
  // The same texts as the app's studentMessages: both tables under `st`.
  i18n.global.mergeLocaleMessage('en', { st: stEn } as never)
  i18n.global.mergeLocaleMessage('zh-CN', { st: stZhCN } as never)
  i18n.global.mergeLocaleMessage('en', studentMapEn as never)
  i18n.global.mergeLocaleMessage('zh-CN', studentMapZhCN as never)
  const stop = ref<StopChoice>(emptyStop())
  const Host = defineComponent({
    setup: () => () =>
      h(StopPicker, {
        kind: 'pickup',
        places,
        labelError,
        modelValue: stop.value,
        'onUpdate:modelValue': (v: StopChoice) => (stop.value = v),
      }),
  })
  const w = mount(Host, {
    attachTo: document.body,
    global: { plugins: [i18n, { install: (app) => provideBoot(app, boot) }, Field, Button, Loading] },
  })
  return { w, stop }
}

describe('StopPicker', () => {
  it('keeps the list of places the browser tests drive', async () => {
    const { w, stop } = mountPicker()
    const select = w.get('[data-testid=order-pickup] select')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['Choose a place', 'Library', 'Gate'])
    await select.setValue('p2')
    expect(stop.value).toEqual({ mode: 'place', placeId: 'p2', at: null, label: '' })
    expect(w.find('[data-testid=order-pickup-pin]').exists()).toBe(false)
    w.unmount()
  })

  it('takes a tapped spot and its name on the map, and keeps both when switching back', async () => {
    const { w, stop } = mountPicker()
    const mode = w.get('[data-testid=order-pickup-mode]')
    expect(mode.text()).toBe('On map')
    await mode.trigger('click')
    expect(stop.value.mode).toBe('pin')
    expect(w.find('[data-testid=order-pickup] select').exists()).toBe(false)
    expect(w.get('[data-testid=order-pickup-pin-at]').text()).toBe('Tap the map below to choose the spot')

    // Leaflet loads on demand.
    await until(() => w.find('.pt-map').exists())
    const map = w.findComponent({ name: 'CampusMap' })
    expect(map.exists()).toBe(true)
    // The places are the grey dots to aim at.
    expect(w.findAll('.pt-map__pin--place')).toHaveLength(2)
    map.vm.$emit('pick', { lat: 30.53612345, lng: 114.36298765 })
    await flushPromises()
    expect(stop.value.at).toEqual({ lat: 30.53612345, lng: 114.36298765 })
    expect(w.get('[data-testid=order-pickup-pin-at]').text()).toBe('Spot at 30.53612, 114.36299')
    expect(w.findAll('.pt-map__pin--pickup')).toHaveLength(1)

    await w.get('[data-testid=order-pickup-label] input').setValue('East door')
    expect(stop.value.label).toBe('East door')
    expect(w.get('.pt-map__pin--pickup').attributes('title')).toBe('East door')

    await w.get('[data-testid=order-pickup-mode]').trigger('click')
    expect(stop.value).toMatchObject({ mode: 'place', at: { lat: 30.53612345 }, label: 'East door' })
    expect(w.find('[data-testid=order-pickup] select').exists()).toBe(true)
    w.unmount()
  })

  it("tapping a listed place's dot on the map chooses that place", async () => {
    const { w, stop } = mountPicker()
    await w.get('[data-testid=order-pickup-mode]').trigger('click')
    await until(() => w.find('.pt-map').exists())
    w.findComponent({ name: 'CampusMap' }).vm.$emit('marker', 'place:p2')
    await flushPromises()
    expect(stop.value).toMatchObject({ mode: 'place', placeId: 'p2' })
    expect((w.get('[data-testid=order-pickup] select').element as HTMLSelectElement).value).toBe('p2')
    w.unmount()
  })

  it("shows the name's problem by the name", async () => {
    const { w } = mountPicker('Give this spot a short name')
    await w.get('[data-testid=order-pickup-mode]').trigger('click')
    expect(w.get('[data-testid=order-pickup-label]').text()).toContain('Give this spot a short name')
    w.unmount()
  })
})

describe('student map messages', () => {
  function keys(o: object, prefix = ''): string[] {
    return Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v as object, `${prefix}${k}.`)))
  }

  it('has the same keys in both languages', () => {
    expect(keys(studentMapEn).sort()).toEqual(keys(studentMapZhCN).sort())
  })

  it('merges next to the other student texts instead of replacing them', () => {
    const i18n = createPaotuiI18n('zh-CN')
    i18n.global.mergeLocaleMessage('zh-CN', { st: stZhCN } as never)
    i18n.global.mergeLocaleMessage('zh-CN', studentMapZhCN as never)
    expect(i18n.global.t('st.form.pickup')).toBe('取件地点')
    expect(i18n.global.t('st.map.labelTooLong', { n: 60 })).toBe('最多 60 个字')
  })
})
