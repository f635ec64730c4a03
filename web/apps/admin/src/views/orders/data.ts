// Orders screen: the filter form as list-orders query parameters, which drawer actions an
// order offers, the checks of the action forms and the timeline with staff notes.
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

/** A permission check ("orders:cancel"); the drawer passes auth.can. */
export type Perm = (perm: string) => boolean

export interface ActionableOrder {
  status: string
  allowed?: readonly string[] | null
  exception?: string
  paidAmount: number
  refundedAmount: number
}

/** Which actions the drawer offers: what the order's state allows and the staff member may do. */
export interface OrderActions {
  cancel: boolean
  /** Waiting for a courier: give it to one. */
  assign: boolean
  /** A courier has it: move it to another courier or back to the hall. */
  reassign: boolean
  refund: boolean
  resolve: boolean
  note: boolean
}

export function orderActions(o: ActionableOrder, can: Perm): OrderActions {
  // `allowed` is the server's list of the events staff may cause in the order's status.
  const allowed = new Set(o.allowed ?? [])
  return {
    cancel: allowed.has('cancel') && can('orders:cancel'),
    assign: allowed.has('accept') && can('orders:assign'),
    reassign: allowed.has('release') && can('orders:assign'),
    // refund-order refuses completed orders (the money is settled to the courier and the
    // tenant) although `allowed` lists refund for them; partial refunds of open orders are
    // taken although `allowed` does not list them.
    refund: o.status !== 'completed' && refundable(o) > 0 && can('orders:refund'),
    resolve: !!o.exception && can('orders:exception'),
    note: can('orders:note'),
  }
}

/** The action a drawer form finished, for its success message (admin.orders.doneAction.*). */
export type DoneAction = 'cancel' | 'assign' | 'reassign' | 'release' | 'resolve' | 'refund' | 'note'

/** The server's limit on reasons (cancel, assign, resolve). */
export const maxReason = 200
export const maxNote = 1000

function checkText(errs: Record<string, string>, field: string, v: string, max: number) {
  const s = v.trim()
  if (!s) errs[field] = 'required'
  else if ([...s].length > max) errs[field] = 'tooLong'
}

/** Message keys (admin.validation.*) of the cancel form. */
export function validateCancel(reason: string): Record<string, string> {
  const errs: Record<string, string> = {}
  checkText(errs, 'reason', reason, maxReason)
  return errs
}

export type AssignMode = 'assign' | 'reassign'

/**
 * Assigning a waiting order needs a courier; taking an order from its courier needs a reason,
 * and no courier means back to the hall.
 */
export function validateAssign(mode: AssignMode, courierId: string, reason: string): Record<string, string> {
  const errs: Record<string, string> = {}
  if (mode === 'assign' && !courierId) errs.courierId = 'courier'
  if (mode === 'reassign') checkText(errs, 'reason', reason, maxReason)
  else if ([...reason.trim()].length > maxReason) errs.reason = 'tooLong'
  return errs
}

export function assignBody(courierId: string, reason: string): { courierId?: string; reason?: string } {
  const body: { courierId?: string; reason?: string } = {}
  if (courierId) body.courierId = courierId
  if (reason.trim()) body.reason = reason.trim()
  return body
}

export function validateNote(note: string): Record<string, string> {
  const errs: Record<string, string> = {}
  checkText(errs, 'note', note, maxNote)
  return errs
}

export const resolveActions = ['resume', 'reassign', 'cancel_refund'] as const
export type ResolveAction = (typeof resolveActions)[number]

export function validateResolve(action: string, reason: string): Record<string, string> {
  const errs: Record<string, string> = {}
  if (!(resolveActions as readonly string[]).includes(action)) errs.action = 'required'
  checkText(errs, 'reason', reason, maxReason)
  return errs
}

/** The courier only goes with a reassignment; without one the order returns to the hall. */
export function resolveBody(action: ResolveAction, courierId: string, reason: string): { action: ResolveAction; reason: string; courierId?: string } {
  const body: { action: ResolveAction; reason: string; courierId?: string } = { action, reason: reason.trim() }
  if (action === 'reassign' && courierId) body.courierId = courierId
  return body
}

export interface TimelineEvent {
  id: number
  at: string
  event: string
  fromStatus?: string
  toStatus: string
  actorKind: string
  reason?: string
}

export interface TimelineNote {
  id: number
  createdAt: string
  authorId: string
  note: string
}

export type TimelineItem = ({ kind: 'event' } & TimelineEvent) | ({ kind: 'note'; at: string } & TimelineNote)

/** Events and staff notes in one list, oldest first; at the same instant the event comes first. */
export function timelineItems(events: readonly TimelineEvent[], notes: readonly TimelineNote[]): TimelineItem[] {
  const items: TimelineItem[] = [
    ...events.map((e) => ({ kind: 'event' as const, ...e })),
    ...notes.map((n) => ({ kind: 'note' as const, at: n.createdAt, ...n })),
  ]
  const rank = (i: TimelineItem) => (i.kind === 'event' ? 0 : 1)
  // Array.prototype.sort is stable, so each kind keeps the server's order within one instant.
  return items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank(a) - rank(b))
}
