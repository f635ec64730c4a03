import { describe, expect, it } from 'vitest'
import { feedItem, figuresOf, ordersPerDay } from './data'

describe('figuresOf', () => {
  it('counts completed value and active orders only', () => {
    const f = figuresOf([
      { status: 'completed', total: 855, createdAt: '' },
      { status: 'completed', total: 100, createdAt: '' },
      { status: 'accepted', total: 500, createdAt: '' },
      { status: 'cancelled', total: 900, createdAt: '' },
    ])
    expect(f).toEqual({ orders: 4, completed: 2, gmv: 955, active: 1 })
  })
})

describe('ordersPerDay', () => {
  it('zero-fills the window and drops older orders', () => {
    const today = new Date(2026, 10, 25, 12)
    const pts = ordersPerDay(
      [
        { status: 'completed', total: 1, createdAt: new Date(2026, 10, 25, 9).toISOString() },
        { status: 'completed', total: 1, createdAt: new Date(2026, 10, 25, 10).toISOString() },
        { status: 'completed', total: 1, createdAt: new Date(2026, 10, 23, 10).toISOString() },
        { status: 'completed', total: 1, createdAt: new Date(2026, 9, 1).toISOString() },
      ],
      3,
      today,
    )
    expect(pts).toEqual([
      { x: '11-23', y: 1 },
      { x: '11-24', y: 0 },
      { x: '11-25', y: 2 },
    ])
  })
})

describe('feedItem', () => {
  it('summarises an order event and ignores control and malformed events', () => {
    const ev = { id: '1-0', type: 'order', data: '{"orderId":"x","number":"P000012","event":"complete","from":"delivered","to":"completed","at":"2026-11-25T04:00:00Z"}' }
    expect(feedItem(ev)).toMatchObject({ id: '1-0', event: 'complete', summary: 'P000012 delivered → completed' })
    expect(feedItem({ id: '2-0', type: 'ready', data: '{}' })).toBeNull()
    expect(feedItem({ id: '3-0', type: 'order', data: 'not json' })).toBeNull()
  })
})
