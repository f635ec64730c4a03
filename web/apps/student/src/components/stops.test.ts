import { describe, expect, it } from 'vitest'
import { parsePosition } from '../views/orders/data'
import {
  checkLabel,
  checkStop,
  checkStops,
  emptyStop,
  markerSet,
  orderMarkers,
  pinMarker,
  placeMarkers,
  stopInput,
  type Place,
  type StopChoice,
} from './stops'

const library = { lat: 30.5355, lng: 114.3645 }
const gate = { lat: 30.5381, lng: 114.3602 }
const place = (id: string): StopChoice => ({ ...emptyStop(), placeId: id })
const pin = (at: StopChoice['at'], label: string): StopChoice => ({ mode: 'pin', placeId: '', at, label })

describe('stops of the order form', () => {
  it('starts on the list of places with nothing chosen', () => {
    expect(emptyStop()).toEqual({ mode: 'place', placeId: '', at: null, label: '' })
    expect(checkStop('pickup', emptyStop())).toEqual({ pickup: { key: 'st.form.required' } })
  })

  it('sends a place by id, ignoring a pin dropped before switching back to the list', () => {
    expect(stopInput(place('p1'))).toEqual({ placeId: 'p1' })
    expect(stopInput({ mode: 'place', placeId: 'p1', at: library, label: 'x' })).toEqual({ placeId: 'p1' })
    expect(checkStop('pickup', place('p1'))).toEqual({})
  })

  it('sends a pin as its point and trimmed name, without the place chosen before', () => {
    const s: StopChoice = { mode: 'pin', placeId: 'p1', at: { lat: 30.535512345678, lng: 114.36451234567 }, label: '  东门 ' }
    expect(stopInput(s)).toEqual({ lat: 30.5355123, lng: 114.3645123, label: '东门' })
  })

  it('needs a tapped point and a name of at most 60 characters for a pin', () => {
    expect(checkStop('dropoff', pin(null, ''))).toEqual({
      dropoff: { key: 'st.map.pinRequired' },
      'dropoff.label': { key: 'st.map.labelRequired' },
    })
    // (0, 0) is what a failed fix reports, not a spot on campus.
    expect(checkStop('dropoff', pin({ lat: 0, lng: 0 }, 'x'))).toEqual({ dropoff: { key: 'st.map.pinRequired' } })
    expect(checkStop('dropoff', pin(gate, '南门'))).toEqual({})
  })

  it('counts characters, not UTF-16 units, like the server', () => {
    expect(checkLabel('   ')).toEqual({ key: 'st.map.labelRequired' })
    expect(checkLabel('图'.repeat(60))).toBeNull()
    expect(checkLabel('😀'.repeat(60))).toBeNull() // 120 UTF-16 units
    expect(checkLabel('图'.repeat(61))).toEqual({ key: 'st.map.labelTooLong', params: { n: 60 } })
    expect(checkLabel(` ${'a'.repeat(60)} `)).toBeNull()
  })

  it('refuses a delivery to the pickup itself, as a place or as the same spot', () => {
    expect(checkStops(place('p1'), place('p1'))).toEqual({ dropoff: { key: 'st.form.samePlace' } })
    expect(checkStops(place('p1'), place('p2'))).toEqual({})
    expect(checkStops(pin(library, 'a'), pin({ lat: library.lat + 0.00001, lng: library.lng }, 'b'))).toEqual({
      dropoff: { key: 'st.form.samePlace' },
    })
    expect(checkStops(pin(library, 'a'), pin(gate, 'b'))).toEqual({})
    // A pin next to a listed place is allowed: the student may mean a door of it.
    expect(checkStops(place('p1'), pin(library, 'b'))).toEqual({})
  })

  it('reports both stops at once and no same-place error on top of a missing one', () => {
    expect(checkStops(emptyStop(), pin(null, ''))).toEqual({
      pickup: { key: 'st.form.required' },
      dropoff: { key: 'st.map.pinRequired' },
      'dropoff.label': { key: 'st.map.labelRequired' },
    })
  })
})

describe('map markers', () => {
  const places: Place[] = [
    { id: 'p1', name: '图书馆', kind: 'building', at: library, enabled: true, sort: 1 },
    { id: 'p2', name: '旧食堂', kind: 'canteen', at: gate, enabled: false, sort: 2 },
    { id: 'p3', name: '未定位', kind: 'building', at: { lat: 0, lng: 0 }, enabled: true, sort: 3 },
  ]

  it('shows enabled places that have a position', () => {
    expect(placeMarkers(places)).toEqual([{ id: 'place:p1', at: library, kind: 'place', label: '图书馆' }])
  })

  it('draws the pin as the stop it stands for once tapped', () => {
    expect(pinMarker('pickup', pin(null, 'x'))).toBeNull()
    expect(pinMarker('dropoff', pin(gate, ' 南门 '))).toEqual({ id: 'pin:dropoff', at: gate, kind: 'dropoff', label: '南门' })
    // Unnamed yet: the map names it by its kind.
    expect(pinMarker('pickup', pin(gate, ''))).toEqual({ id: 'pin:pickup', at: gate, kind: 'pickup' })
  })

  const order = (status: string) => ({
    status,
    pickup: { name: '菜鸟驿站', lat: library.lat, lng: library.lng, placeId: 'p1' },
    dropoff: { name: '东门', lat: gate.lat, lng: gate.lng },
  })

  it("shows the courier from a position event only while the order is on its way", () => {
    const courier = parsePosition(JSON.stringify({ lat: 30.536, lng: 114.362, at: '2026-11-25T10:00:00Z' }))
    const live = orderMarkers(order('picked_up'), courier)
    expect(live).toEqual([
      { id: 'pickup', at: library, kind: 'pickup', label: '菜鸟驿站' },
      { id: 'dropoff', at: gate, kind: 'dropoff', label: '东门' },
      { id: 'courier', at: { lat: 30.536, lng: 114.362 }, kind: 'courier' },
    ])
    expect(orderMarkers(order('accepted'), courier).map((m) => m.kind)).toContain('courier')
    for (const s of ['awaiting_payment', 'awaiting_courier', 'delivered', 'completed', 'cancelled']) {
      expect(orderMarkers(order(s), courier).map((m) => m.kind)).toEqual(['pickup', 'dropoff'])
    }
  })

  it('draws no courier for a missing or unusable position', () => {
    expect(orderMarkers(order('accepted'), null)).toHaveLength(2)
    expect(orderMarkers(order('accepted'), parsePosition('{not json'))).toHaveLength(2)
    expect(orderMarkers(order('accepted'), { lat: 0, lng: 0 })).toHaveLength(2)
    expect(orderMarkers(order('accepted'), { lat: 91, lng: 10 })).toHaveLength(2)
  })

  it('refits when a marker appears or goes, not when one moves', () => {
    const a = markerSet(orderMarkers(order('accepted'), { lat: 30.536, lng: 114.362 }))
    const b = markerSet(orderMarkers(order('accepted'), { lat: 30.537, lng: 114.363 }))
    expect(a).toBe(b)
    expect(markerSet(orderMarkers(order('delivered'), { lat: 30.537, lng: 114.363 }))).not.toBe(a)
  })
})
