import { describe, expect, it } from 'vitest'
import {
  assignBody,
  emptyFilter,
  filterToQuery,
  orderActions,
  refundable,
  resolveBody,
  timelineItems,
  validateAssign,
  validateCancel,
  validateNote,
  validateRefund,
  validateResolve,
} from './data'

describe('filterToQuery', () => {
  it('sends only what is set and pages by offset', () => {
    expect(filterToQuery(emptyFilter(), 3, 20)).toEqual({ limit: 20, offset: 40 })
    const f = { ...emptyFilter(), status: ['completed'], studentId: ' u1 ', range: [new Date(2026, 10, 1), new Date(2026, 10, 2)] as [Date, Date] }
    const q = filterToQuery(f, 1, 20)
    expect(q.status).toEqual(['completed'])
    expect(q.studentId).toBe('u1')
    // The whole of the last day is included.
    expect(new Date(q.to!).getTime() - new Date(q.from!).getTime()).toBe(2 * 24 * 3600 * 1000)
  })
})

describe('validateRefund', () => {
  it('refuses zero, more than what is left, and a missing reason', () => {
    const left = refundable({ paidAmount: 855, refundedAmount: 300 })
    expect(left).toBe(555)
    expect(validateRefund(5.55, 'late', left)).toEqual({})
    expect(validateRefund(5.56, 'late', left)).toEqual({ amount: 'amount' })
    expect(validateRefund(0, ' ', left)).toEqual({ amount: 'amount', reason: 'required' })
  })
})

describe('orderActions', () => {
  const all = () => true
  const only = (...perms: string[]) => (p: string) => perms.includes(p)
  const order = { status: 'accepted', allowed: ['release', 'cancel'], paidAmount: 500, refundedAmount: 0 }

  it('follows the allowed list of the order', () => {
    expect(orderActions(order, all)).toEqual({ cancel: true, assign: false, reassign: true, refund: true, resolve: false, note: true })
    const waiting = orderActions({ ...order, status: 'awaiting_courier', allowed: ['accept', 'cancel'] }, all)
    expect(waiting.assign).toBe(true)
    expect(waiting.reassign).toBe(false)
    expect(orderActions({ ...order, status: 'cancelled', allowed: ['refund'] }, all).cancel).toBe(false)
  })

  it('needs the permission as well', () => {
    const a = orderActions({ ...order, exception: 'late' }, only('orders:note'))
    expect(a).toEqual({ cancel: false, assign: false, reassign: false, refund: false, resolve: false, note: true })
    expect(orderActions({ ...order, exception: 'late' }, only('orders:exception')).resolve).toBe(true)
  })

  it('offers no refund of a completed order or of one refunded in full', () => {
    expect(orderActions({ ...order, status: 'completed', allowed: ['refund'] }, all).refund).toBe(false)
    expect(orderActions({ ...order, refundedAmount: 500 }, all).refund).toBe(false)
    expect(orderActions({ ...order, allowed: null }, all).cancel).toBe(false)
  })
})

describe('action forms', () => {
  it('requires a cancel reason within 200 characters', () => {
    expect(validateCancel('  ')).toEqual({ reason: 'required' })
    expect(validateCancel('x'.repeat(201))).toEqual({ reason: 'tooLong' })
    expect(validateCancel('学生要求取消')).toEqual({})
  })

  it('needs a courier to assign and a reason to reassign or release', () => {
    expect(validateAssign('assign', '', '')).toEqual({ courierId: 'courier' })
    expect(validateAssign('assign', 'c1', '')).toEqual({})
    expect(validateAssign('reassign', '', ' ')).toEqual({ reason: 'required' })
    expect(validateAssign('reassign', '', 'courier ill')).toEqual({})
    expect(assignBody('', ' courier ill ')).toEqual({ reason: 'courier ill' })
    expect(assignBody('c1', '')).toEqual({ courierId: 'c1' })
  })

  it('checks notes', () => {
    expect(validateNote('')).toEqual({ note: 'required' })
    expect(validateNote('y'.repeat(1001))).toEqual({ note: 'tooLong' })
    expect(validateNote('called the student')).toEqual({})
  })

  it('sends the courier of a resolution only when reassigning', () => {
    expect(validateResolve('bogus', '')).toEqual({ action: 'required', reason: 'required' })
    expect(validateResolve('resume', 'found it')).toEqual({})
    expect(resolveBody('resume', 'c1', ' found it ')).toEqual({ action: 'resume', reason: 'found it' })
    expect(resolveBody('reassign', 'c1', 'r')).toEqual({ action: 'reassign', reason: 'r', courierId: 'c1' })
    expect(resolveBody('reassign', '', 'r')).toEqual({ action: 'reassign', reason: 'r' })
  })
})

describe('timelineItems', () => {
  it('merges notes into the events by time, events first at the same instant', () => {
    const ev = (id: number, at: string) => ({ id, at, event: 'pay', toStatus: 'awaiting_courier', actorKind: 'system' })
    const note = (id: number, createdAt: string) => ({ id, createdAt, authorId: 'staff', note: `n${id}` })
    const items = timelineItems(
      [ev(1, '2026-05-01T10:00:00Z'), ev(2, '2026-05-01T10:05:00Z')],
      [note(7, '2026-05-01T10:05:00Z'), note(8, '2026-05-01T10:01:00+08:00'), note(9, '2026-05-01T10:02:00Z')],
    )
    expect(items.map((i) => `${i.kind}${i.id}`)).toEqual(['note8', 'event1', 'note9', 'event2', 'note7'])
    expect(items[0]!.at).toBe('2026-05-01T10:01:00+08:00')
  })
})
