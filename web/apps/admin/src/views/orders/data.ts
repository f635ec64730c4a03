// Orders screen: the filter form as list-orders query parameters, and the checks of the
// refund and reassign forms.
export const orderStatuses = ['awaiting_payment', 'awaiting_courier', 'accepted', 'picked_up', 'delivered', 'completed', 'cancelled', 'expired', 'refunded'] as const

export interface OrderFilter {
  status: string[]
  taskType: string
  studentId: string
  courierId: string
  /** [from, to] as Date objects from the date-range picker, or null. */
  range: [Date, Date] | null
}

export function emptyFilter(): OrderFilter {
  return { status: [], taskType: '', studentId: '', courierId: '', range: null }
}

export interface OrderQuery {
  status?: string[]
  taskType?: string
  studentId?: string
  courierId?: string
  from?: string
  to?: string
  limit: number
  offset: number
}

/** Only the filters set are sent; `to` covers the whole last day picked. */
export function filterToQuery(f: OrderFilter, page: number, size: number): OrderQuery {
  const q: OrderQuery = { limit: size, offset: (page - 1) * size }
  if (f.status.length) q.status = [...f.status]
  if (f.taskType) q.taskType = f.taskType
  if (f.studentId.trim()) q.studentId = f.studentId.trim()
  if (f.courierId.trim()) q.courierId = f.courierId.trim()
  if (f.range) {
    const [a, b] = f.range
    q.from = new Date(a.getFullYear(), a.getMonth(), a.getDate()).toISOString()
    q.to = new Date(b.getFullYear(), b.getMonth(), b.getDate() + 1).toISOString()
  }
  return q
}

/** Message key (admin.validation.*) per field of the refund form. */
export function validateRefund(amountYuan: number, reason: string, refundable: number): Record<string, string> {
  const errs: Record<string, string> = {}
  const fen = Math.round(amountYuan * 100)
  if (!Number.isFinite(amountYuan) || fen <= 0 || fen > refundable) errs.amount = 'amount'
  if (!reason.trim()) errs.reason = 'required'
  return errs
}

/** The 分 left to refund on an order. */
export function refundable(o: { paidAmount: number; refundedAmount: number }): number {
  return Math.max(0, o.paidAmount - o.refundedAmount)
}
