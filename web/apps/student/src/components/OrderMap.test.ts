// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { Loading } from 'vant'
import { createPaotuiI18n } from '@paotui/i18n'
import { provideBoot, type Boot } from '@paotui/theme'
import { studentMapEn } from '../mapMessages'
import OrderMap from './OrderMap.vue'

const boot: Boot = {
  host: { kind: 'tenant' },
  tenant: { slug: 'demo', name: '演示', status: 'active', branding: { displayName: '演示', primaryColor: '#1677ff' } },
}
const order = (status: string) => ({
  status,
  pickup: { name: 'Parcel locker', lat: 30.5355, lng: 114.3645 },
  dropoff: { name: 'East gate', lat: 30.5381, lng: 114.3602 },
})

async function until(ok: () => boolean) {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 5))
  await flushPromises()
}

describe('OrderMap', () => {
  it('shows both stops, and the courier only while the order is on its way', async () => {
    const i18n = createPaotuiI18n('en')
    i18n.global.mergeLocaleMessage('en', studentMapEn as never)
    const w = mount(OrderMap, {
      props: { order: order('awaiting_courier'), courier: null },
      attachTo: document.body,
      global: { plugins: [i18n, { install: (app) => provideBoot(app, boot) }, Loading] },
    })
    await until(() => w.find('.pt-map').exists())
    expect(w.get('.pt-map__pin--pickup').attributes('title')).toBe('Parcel locker')
    expect(w.get('.pt-map__pin--dropoff').attributes('title')).toBe('East gate')
    expect(w.find('.note').exists()).toBe(false)

    await w.setProps({ order: order('accepted') })
    expect(w.get('.note').text()).toBe('The courier shows on the map once on the way')
    await w.setProps({ courier: { lat: 30.537, lng: 114.362 } })
    expect(w.findAll('.pt-map__pin--courier')).toHaveLength(1)
    expect(w.get('[data-testid=order-map]').attributes('data-courier')).toBe('shown')
    expect(w.get('.note').text()).toBe("The green dot is the courier's live position")

    // Delivered: the last position stays known to the page but is no longer drawn.
    await w.setProps({ order: order('delivered') })
    expect(w.findAll('.pt-map__pin--courier')).toHaveLength(0)
    expect(w.get('[data-testid=order-map]').attributes('data-courier')).toBe('hidden')
    w.unmount()
  })
})
