import { describe, expect, it } from 'vitest'
import { applyHallEvent, formatDistance, grabRemovesItem, sortHall, type HallItem } from './hall'

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
