import { describe, expect, it } from 'vitest'
import { applyHallEvent, formatDistance, grabRemovesItem, sortHall, withDistance, type HallItem } from './hall'

function item(id: string, over: Partial<HallItem> = {}): HallItem {
  return {
    id,
    number: `N-${id}`,
    taskType: 'parcel',
    pickup: { name: 'P' },
    dropoff: { name: 'D' },
    tripMeters: 500,
    reward: 300,
    tip: 0,
    paidAt: '2026-11-25T00:00:00Z',
    waitingSeconds: 10,
    ...over,
  }
}
const ev = (type: string, data: unknown) => ({ type, id: '1-0', data: typeof data === 'string' ? data : JSON.stringify(data) })

describe('applyHallEvent', () => {
  const hall = [item('a', { distanceMeters: 100 }), item('b', { distanceMeters: 900 })]

  it('adds an opened order in distance order', () => {
    const out = applyHallEvent(hall, ev('hall_open', item('c', { distanceMeters: 400 })), 'distance')
    expect(out.map((i) => i.id)).toEqual(['a', 'c', 'b'])
  })
  it('replaces an entry it already has instead of listing it twice', () => {
    const out = applyHallEvent(hall, ev('hall_open', item('b', { distanceMeters: 50, reward: 999 })), 'distance')
    expect(out.map((i) => [i.id, i.reward])).toEqual([
      ['b', 999],
      ['a', 300],
    ])
  })
  it('removes a closed order', () => {
    expect(applyHallEvent(hall, ev('hall_closed', { orderId: 'a', status: 'accepted' }), 'distance').map((i) => i.id)).toEqual(['b'])
  })
  it('ignores unknown events and bad data', () => {
    expect(applyHallEvent(hall, ev('something_new', { orderId: 'a' }), 'distance')).toEqual(hall)
    expect(applyHallEvent(hall, ev('hall_open', '{not json'), 'distance')).toEqual(hall)
    expect(applyHallEvent(hall, ev('hall_open', { nope: 1 }), 'distance')).toEqual(hall)
  })
})

describe('sortHall', () => {
  it('by reward, then longest waiting', () => {
    const out = sortHall([item('a', { reward: 100 }), item('b', { reward: 500, waitingSeconds: 1 }), item('c', { reward: 500, waitingSeconds: 60 })], 'reward')
    expect(out.map((i) => i.id)).toEqual(['c', 'b', 'a'])
  })
  it('by distance with unknown distances last', () => {
    const out = sortHall([item('a'), item('b', { distanceMeters: 300 }), item('c', { distanceMeters: 20 })], 'distance')
    expect(out.map((i) => i.id)).toEqual(['c', 'b', 'a'])
  })
})

describe('grabRemovesItem', () => {
  it.each([
    ['order_already_taken', true],
    ['order_not_found', true],
    ['courier_at_capacity', false],
    ['courier_offline', false],
    ['courier_credit_too_low', false],
  ])('%s -> %s', (code, gone) => expect(grabRemovesItem(code)).toBe(gone))
})

describe('formatDistance', () => {
  it.each([
    [undefined, ''],
    [0, '0 m'],
    [849.6, '850 m'],
    [1234, '1.2 km'],
  ])('%s -> %s', (m, s) => expect(formatDistance(m)).toBe(s))
})

describe('distances of live entries', () => {
  // 0.001° of latitude is about 111 m anywhere.
  const courier = { lat: 30.535, lng: 114.364 }
  const at = (dLat: number) => ({ name: 'P', lat: courier.lat + dLat, lng: courier.lng })

  it('computes the metres from the courier to the pickup when the entry has none', () => {
    expect(withDistance(item('a', { pickup: at(0.001) }), courier).distanceMeters).toBe(111)
    expect(withDistance(item('a', { pickup: at(0.01) }), courier).distanceMeters).toBe(1112)
    expect(withDistance(item('a', { pickup: at(0) }), courier).distanceMeters).toBe(0)
  })

  it("keeps the server's distance, and leaves it unknown without a usable position or pickup", () => {
    expect(withDistance(item('a', { pickup: at(0.01), distanceMeters: 5 }), courier).distanceMeters).toBe(5)
    expect(withDistance(item('a', { pickup: at(0.01) }), null).distanceMeters).toBeUndefined()
    expect(withDistance(item('a', { pickup: at(0.01) }), { lat: 0, lng: 0 }).distanceMeters).toBeUndefined()
    expect(withDistance(item('a', { pickup: { name: 'no point' } }), courier).distanceMeters).toBeUndefined()
  })

  it('places an opened order by its computed distance', () => {
    const hall = [item('near', { distanceMeters: 50 }), item('far', { distanceMeters: 900 })]
    const out = applyHallEvent(hall, ev('hall_open', item('new', { pickup: at(0.004) })), 'distance', courier)
    expect(out.map((i) => [i.id, i.distanceMeters])).toEqual([
      ['near', 50],
      ['new', 445],
      ['far', 900],
    ])
    // Without a position it is listed last, distance unknown, as before.
    const blind = applyHallEvent(hall, ev('hall_open', item('new', { pickup: at(0.004) })), 'distance', null)
    expect(blind.map((i) => [i.id, i.distanceMeters])).toEqual([
      ['near', 50],
      ['far', 900],
      ['new', undefined],
    ])
  })
})
