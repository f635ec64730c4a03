// What the trip screen offers for an order's status.

export type TripStep = 'pickup' | 'deliver' | 'done'

/** accepted -> pick up, picked_up -> deliver, anything later (or earlier) -> nothing to do. */
export function tripStep(status: string): TripStep {
  if (status === 'accepted') return 'pickup'
  if (status === 'picked_up') return 'deliver'
  return 'done'
}

/** Problems are reported while the courier holds the order. */
export function canReport(status: string): boolean {
  return status === 'accepted' || status === 'picked_up'
}

export const activeStatuses: readonly string[] = ['accepted', 'picked_up']

export const exceptionKinds = ['cant_find_item', 'shop_closed', 'student_unreachable', 'item_damaged', 'item_lost'] as const
export type ExceptionKind = (typeof exceptionKinds)[number]
