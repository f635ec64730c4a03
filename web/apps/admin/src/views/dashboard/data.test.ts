import { describe, expect, it } from 'vitest'
import { feedItem, figuresOf, ordersPerDay } from './data'

describe('figuresOf', () => {
  it("takes today's figures and what is open now", () => {
    const d = {
      today: { date: '2026-11-25', orders: 5, completed: 2, gmv: 1300 },
      openOrders: 3,
      trend: [],
    }
    expect(figuresOf(d)).toEqual({ orders: 5, completed: 2, gmv: 1300, active: 3 })
  })
})

describe('ordersPerDay', () => {
  it('labels each day of the trend, oldest first', () => {
    const trend = [
      { date: '2026-11-24', orders: 1, completed: 0, gmv: 0 },
      { date: '2026-11-25', orders: 4, completed: 2, gmv: 900 },
    ]
    expect(ordersPerDay({ trend })).toEqual([
      { x: '11-24', y: 1 },
      { x: '11-25', y: 4 },
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
