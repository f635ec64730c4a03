// The task hall as the courier sees it: the listed page, then kept current by the live
// stream's hall_open / hall_closed events.
import type { Schema, SSEEvent } from '@paotui/api'
import { distanceMeters, isLatLng, type LatLng } from '@paotui/map'

export type HallItem = Schema<'HallItem'>
export type HallSort = 'distance' | 'reward'

/**
 * The item with the distance from the courier to its pickup. The live stream's entries are the
 * same for every courier, so they come without one: it is computed here from the courier's
 * last known position (whole metres, like the list's). An item that has a distance, or a
 * pickup or position that is no usable point, is returned as it is.
 */
export function withDistance(item: HallItem, from: LatLng | null | undefined): HallItem {
  if (item.distanceMeters !== undefined || !isLatLng(from)) return item
  const to = { lat: item.pickup.lat, lng: item.pickup.lng }
  if (!isLatLng(to)) return item
  return { ...item, distanceMeters: Math.round(distanceMeters(from, to)) }
}

/**
 * Applies one live event to the hall. hall_open adds (or refreshes) an entry, with its
 * distance from `from` (the courier's last position) when known; hall_closed removes it;
 * anything else, or data that does not parse, leaves the hall as it is, since a newer server
 * may send events this page does not know.
 */
export function applyHallEvent(items: readonly HallItem[], ev: SSEEvent, sort: HallSort, from?: LatLng | null): HallItem[] {
  let data: unknown
  try {
    data = JSON.parse(ev.data)
  } catch {
    return [...items]
  }
  if (!data || typeof data !== 'object') return [...items]
  if (ev.type === 'hall_open') {
    const item = data as HallItem
    if (typeof item.id !== 'string') return [...items]
    return sortHall([...items.filter((i) => i.id !== item.id), withDistance(item, from)], sort)
  }
  if (ev.type === 'hall_closed') {
    const id = (data as { orderId?: unknown }).orderId
    return items.filter((i) => i.id !== id)
  }
  return [...items]
}

/**
 * Orders the hall like the server does: nearest pickup first (entries without a distance
 * last), or best reward first. Ties keep the oldest waiting order first.
 */
export function sortHall(items: HallItem[], sort: HallSort): HallItem[] {
  const byWait = (a: HallItem, b: HallItem) => b.waitingSeconds - a.waitingSeconds
  return [...items].sort((a, b) => {
    if (sort === 'reward') return b.reward - a.reward || byWait(a, b)
    const da = a.distanceMeters ?? Number.POSITIVE_INFINITY
    const db = b.distanceMeters ?? Number.POSITIVE_INFINITY
    return da === db ? byWait(a, b) : da - db
  })
}

/**
 * Grab refusals that mean the order is gone for every courier: the page drops it from the
 * hall. Other refusals (offline, at capacity, credit too low) are about this courier and
 * leave the order listed.
 */
const goneCodes = new Set(['order_already_taken', 'order_not_found', 'order_cancelled', 'order_illegal_transition'])

export function grabRemovesItem(code: string): boolean {
  return goneCodes.has(code)
}

/** 850 -> "850 m", 1234 -> "1.2 km". */
export function formatDistance(m: number | undefined): string {
  if (m === undefined || !Number.isFinite(m)) return ''
  if (m < 1000) return `${Math.round(m)} m`
  return `${(m / 1000).toFixed(1)} km`
}
