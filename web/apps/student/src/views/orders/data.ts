// The order's live view: which status comes next, and how live events update what is shown.
import type { Schema } from '@paotui/api'

export type Order = Schema<'OrderWithTimelineBody'>
export type EventRow = Schema<'EventRow'>

/** The happy path a student follows; other statuses end it. */
export const steps = ['awaiting_payment', 'awaiting_courier', 'accepted', 'picked_up', 'delivered', 'completed'] as const

/** The index of status on the happy path, or -1 when it left it (cancelled, expired...). */
export function stepIndex(status: string): number {
  return (steps as readonly string[]).indexOf(status)
}

/** Whether nothing more will happen to the order, so the live stream can stop. */
export function isFinal(status: string): boolean {
  return ['completed', 'cancelled', 'expired', 'refunded'].includes(status)
}

/**
 * Adds a timeline event that arrived live. Events already in the timeline (the stream
 * replays from Last-Event-ID, and the page may have loaded them) are not added twice; the
 * timeline stays in id order. Returns true when the order's status or buttons need reloading.
 */
export function applyStatusEvent(order: Order, row: EventRow): boolean {
  const timeline = order.timeline ?? []
  if (timeline.some((r) => r.id === row.id)) return false
  order.timeline = [...timeline, row].sort((a, b) => a.id - b.id)
  const last = order.timeline[order.timeline.length - 1]
  if (last) order.status = last.toStatus
  return true
}

export interface Position {
  lat: number
  lng: number
  at?: string
}

/** A position event's data, or null when it is not one. */
export function parsePosition(data: string): Position | null {
  try {
    const v = JSON.parse(data) as Record<string, unknown>
    if (typeof v.lat === 'number' && typeof v.lng === 'number') {
      return { lat: v.lat, lng: v.lng, at: typeof v.at === 'string' ? v.at : undefined }
    }
  } catch {
    // Not JSON: ignored like any event this page does not understand.
  }
  return null
}

export function can(order: { allowed?: string[] | null }, event: string): boolean {
  return (order.allowed ?? []).includes(event)
}
