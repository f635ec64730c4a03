import { describe, expect, it } from 'vitest'
import { courierMarkers, courierNames, goneAfterMs, hear, liveCouriers, positionOf, prune, quietAfterMs, shortId, type HeardMap } from './liveMap'

const ev = (data: unknown, type = 'position') => ({ id: '', type, data: typeof data === 'string' ? data : JSON.stringify(data) })
const fixA = { courierId: 'a', lng: 114.3645, lat: 30.5355, accuracy: 8, at: '2026-11-25T04:00:00Z' }

describe('positionOf', () => {
  it('reads the fix of a position event', () => {
    expect(positionOf(ev(fixA))).toEqual({ courierId: 'a', at: { lat: 30.5355, lng: 114.3645 }, fixAt: '2026-11-25T04:00:00Z', accuracy: 8 })
    // accuracy is left out when the device did not report it.
    expect(positionOf(ev({ ...fixA, accuracy: undefined }))).not.toHaveProperty('accuracy')
  })

  it('ignores other events and fixes that are not a position', () => {
    expect(positionOf(ev(fixA, 'order'))).toBeNull()
    expect(positionOf(ev('not json'))).toBeNull()
    expect(positionOf(ev({ ...fixA, courierId: '' }))).toBeNull()
    expect(positionOf(ev({ ...fixA, lat: 0, lng: 0 }))).toBeNull()
    expect(positionOf(ev({ ...fixA, lat: 95 }))).toBeNull()
    expect(positionOf(ev({ ...fixA, lat: '30.5' }))).toBeNull()
  })
})

describe('the couriers on the map', () => {
  const a = positionOf(ev(fixA))!
  const b = positionOf(ev({ ...fixA, courierId: 'b', lat: 30.536 }))!

  it('keeps the latest fix per courier, freshest first', () => {
    let m: HeardMap = {}
    m = hear(m, a, 1000)
    m = hear(m, b, 2000)
    const moved = { ...a, at: { lat: 30.54, lng: 114.37 } }
    m = hear(m, moved, 3000)
    expect(liveCouriers(m, 3000)).toEqual([
      { id: 'a', at: { lat: 30.54, lng: 114.37 }, quietFor: null },
      { id: 'b', at: b.at, quietFor: null },
    ])
  })

  it('dims a quiet courier and drops one not heard from for two minutes', () => {
    const m = hear(hear({}, a, 0), b, 60_000)
    expect(liveCouriers(m, quietAfterMs - 1).map((c) => c.quietFor)).toEqual([null, null])
    const at90 = liveCouriers(m, 90_000)
    expect(at90).toEqual([
      { id: 'b', at: b.at, quietFor: null },
      { id: 'a', at: a.at, quietFor: 90 },
    ])
    expect(liveCouriers(m, goneAfterMs).map((c) => c.id)).toEqual(['b'])
    const pruned = prune(m, goneAfterMs)
    expect(Object.keys(pruned)).toEqual(['b'])
    // Nothing to drop: the same object, so the page does not redraw for nothing.
    expect(prune(pruned, goneAfterMs)).toBe(pruned)
  })

  it('draws live couriers as couriers and quiet ones dimmed, labelled', () => {
    const markers = courierMarkers(
      [
        { id: 'b', at: b.at, quietFor: null },
        { id: 'a', at: a.at, quietFor: 90 },
      ],
      (c) => (c.quietFor === null ? c.id : `${c.id} ${c.quietFor}s`),
    )
    expect(markers).toEqual([
      { id: 'courier:b', at: b.at, kind: 'courier', faded: false, label: 'b' },
      { id: 'courier:a', at: a.at, kind: 'courier', faded: true, label: 'a 90s' },
    ])
  })

  it('names couriers from list-couriers, or by the end of their id', () => {
    expect(courierNames([{ userId: 'u1', realName: '张*' }, { userId: 'u2', realName: '' }])).toEqual({ u1: '张*' })
    expect(courierNames(null)).toEqual({})
    expect(shortId('0b9e4a52-7c1d-4e0f-9a65-3f2b1c0d9e8f')).toBe('9e8f')
  })
})
