import { describe, expect, it } from 'vitest'
import { applyStatusEvent, can, isFinal, parsePosition, stepIndex, type EventRow, type Order } from './data'

function order(): Order {
  const stop = { name: 'A', lng: 0, lat: 0 }
  return {
    id: 'o1', number: 'P000001', studentId: 's', taskType: 'food', status: 'awaiting_courier', pickup: stop, dropoff: stop,
    form: {}, distanceMeters: 0, lines: [], total: 500, tip: 0, paidAmount: 500, refundedAmount: 0, payBy: '', createdAt: '',
    updatedAt: '', allowed: ['cancel'],
    timeline: [
      { id: 1, event: 'create', toStatus: 'awaiting_payment', actorKind: 'student', at: '' },
      { id: 2, event: 'pay', toStatus: 'awaiting_courier', actorKind: 'student', at: '' },
    ],
  }
}
const row = (id: number, event: string, toStatus: string): EventRow => ({ id, event, toStatus, actorKind: 'courier', at: '' })

describe('live order', () => {
  it('adds a new timeline event and moves the status to it', () => {
    const o = order()
    expect(applyStatusEvent(o, row(3, 'accept', 'accepted'))).toBe(true)
    expect(o.status).toBe('accepted')
    expect(o.timeline?.map((r) => r.id)).toEqual([1, 2, 3])
  })

  it('ignores an event it already has (a replay after reconnecting)', () => {
    const o = order()
    applyStatusEvent(o, row(3, 'accept', 'accepted'))
    expect(applyStatusEvent(o, row(2, 'pay', 'awaiting_courier'))).toBe(false)
    expect(o.status).toBe('accepted')
    expect(o.timeline).toHaveLength(3)
  })

  it('keeps the timeline in order when events arrive out of order', () => {
    const o = order()
    applyStatusEvent(o, row(4, 'pickup', 'picked_up'))
    applyStatusEvent(o, row(3, 'accept', 'accepted'))
    expect(o.timeline?.map((r) => r.id)).toEqual([1, 2, 3, 4])
    expect(o.status).toBe('picked_up')
  })

  it('places statuses on the happy path and knows the final ones', () => {
    expect(stepIndex('awaiting_payment')).toBe(0)
    expect(stepIndex('completed')).toBe(5)
    expect(stepIndex('cancelled')).toBe(-1)
    expect(isFinal('delivered')).toBe(false)
    expect(isFinal('refunded')).toBe(true)
  })

  it('reads position events and shows buttons only for allowed events', () => {
    expect(parsePosition('{"courierId":"c","lng":116.3,"lat":39.9,"at":"2026-11-25T04:00:00Z"}')).toEqual({ lng: 116.3, lat: 39.9, at: '2026-11-25T04:00:00Z' })
    expect(parsePosition('{"lng":"x"}')).toBeNull()
    expect(parsePosition('not json')).toBeNull()
    expect(can(order(), 'cancel')).toBe(true)
    expect(can(order(), 'confirm')).toBe(false)
    expect(can({ allowed: null }, 'cancel')).toBe(false)
  })
})
