import { describe, expect, it } from 'vitest'
import { canReport, markerSet, tripMarkers, tripStep } from './trip'

describe('tripStep', () => {
  it.each([
    ['accepted', 'pickup', true],
    ['picked_up', 'deliver', true],
    ['delivered', 'done', false],
    ['completed', 'done', false],
    ['awaiting_courier', 'done', false],
  ])('%s -> %s (report %s)', (status, step, report) => {
    expect(tripStep(status)).toBe(step)
    expect(canReport(status)).toBe(report)
  })
})

describe('tripMarkers', () => {
  const order = {
    pickup: { name: '菜鸟驿站', lat: 30.5355, lng: 114.3645 },
    dropoff: { name: '东门', lat: 30.5381, lng: 114.3602 },
  }

  it('shows both stops and the courier, named by stop', () => {
    expect(tripMarkers(order, { lat: 30.536, lng: 114.362 })).toEqual([
      { id: 'pickup', at: { lat: 30.5355, lng: 114.3645 }, kind: 'pickup', label: '菜鸟驿站' },
      { id: 'dropoff', at: { lat: 30.5381, lng: 114.3602 }, kind: 'dropoff', label: '东门' },
      { id: 'me', at: { lat: 30.536, lng: 114.362 }, kind: 'me' },
    ])
  })

  it('leaves out what has no usable point', () => {
    expect(tripMarkers(order, null).map((m) => m.id)).toEqual(['pickup', 'dropoff'])
    expect(tripMarkers(order, { lat: 0, lng: 0 }).map((m) => m.id)).toEqual(['pickup', 'dropoff'])
    expect(tripMarkers({ ...order, dropoff: { name: 'x', lat: 0, lng: 0 } }, { lat: 30.536, lng: 114.362 }).map((m) => m.id)).toEqual(['pickup', 'me'])
  })

  it('is framed again when the courier appears, not as the courier moves', () => {
    const a = markerSet(tripMarkers(order, { lat: 30.536, lng: 114.362 }))
    expect(markerSet(tripMarkers(order, { lat: 30.537, lng: 114.363 }))).toBe(a)
    expect(markerSet(tripMarkers(order, null))).not.toBe(a)
  })
})
