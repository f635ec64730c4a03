// The dashboard's live map: couriers' positions from the admin feed's "position" events
// (stream-admin-feed with map=true; data is tracking.Fix: courierId, lng, lat, accuracy, at).
// Positions are not replayed and a courier going offline sends nothing, so a courier is shown
// only while heard from recently: dimmed after a quiet spell, gone after two minutes.
import { isLatLng, type LatLng, type MapMarker } from '@paotui/map'

export interface CourierFix {
  courierId: string
  at: LatLng
  /** When the device took the fix (ISO), as the server reports it. */
  fixAt: string
  accuracy?: number
}

/** When this page last heard of a courier, with the fix it heard. */
export interface Heard {
  fix: CourierFix
  /** This page's clock (ms) when the event arrived; device clocks may be minutes off. */
  heardAt: number
}

export type HeardMap = Record<string, Heard>

/** After this long without a fix a courier is shown dimmed: their app may have stopped. */
export const quietAfterMs = 45_000
/** After this long without a fix a courier leaves the map. */
export const goneAfterMs = 120_000

/** The fix of a "position" event, or null for any other event or a malformed one. */
export function positionOf(ev: { type: string; data: string }): CourierFix | null {
  if (ev.type !== 'position') return null
  try {
    const d = JSON.parse(ev.data) as { courierId?: unknown; lng?: unknown; lat?: unknown; accuracy?: unknown; at?: unknown }
    const at = { lat: d.lat, lng: d.lng }
    if (typeof d.courierId !== 'string' || !d.courierId || !isLatLng(at)) return null
    const fix: CourierFix = { courierId: d.courierId, at, fixAt: typeof d.at === 'string' ? d.at : '' }
    if (typeof d.accuracy === 'number' && d.accuracy > 0) fix.accuracy = d.accuracy
    return fix
  } catch {
    return null
  }
}

/** The map after hearing fix at now (a new object, so a ref holding it updates). */
export function hear(m: HeardMap, fix: CourierFix, now: number): HeardMap {
  return { ...m, [fix.courierId]: { fix, heardAt: now } }
}

/** The map without couriers not heard from for goneAfterMs; the same object when nothing left. */
export function prune(m: HeardMap, now: number): HeardMap {
  const keep = Object.entries(m).filter(([, h]) => now - h.heardAt < goneAfterMs)
  return keep.length === Object.keys(m).length ? m : Object.fromEntries(keep)
}

export interface LiveCourier {
  id: string
  at: LatLng
  /** Seconds since the last fix, counted once the courier is quiet; null while fresh. */
  quietFor: number | null
}

/** The couriers to draw at now, freshest first. */
export function liveCouriers(m: HeardMap, now: number): LiveCourier[] {
  return Object.values(m)
    .filter((h) => now - h.heardAt < goneAfterMs)
    .sort((a, b) => b.heardAt - a.heardAt)
    .map((h) => {
      const age = now - h.heardAt
      return { id: h.fix.courierId, at: h.fix.at, quietFor: age >= quietAfterMs ? Math.floor(age / 1000) : null }
    })
}

/**
 * The couriers as map markers. A quiet courier's pin is faded so it reads as dimmed next to the
 * live, pulsing ones; label says who and, when quiet, for how long.
 */
export function courierMarkers(list: readonly LiveCourier[], label: (c: LiveCourier) => string): MapMarker[] {
  return list.map((c) => ({ id: `courier:${c.id}`, at: c.at, kind: 'courier', faded: c.quietFor !== null, label: label(c) }))
}

/** Couriers' masked names by user id, from list-couriers, for the pins' labels. */
export function courierNames(items: readonly { userId: string; realName: string }[] | null | undefined): Record<string, string> {
  return Object.fromEntries((items ?? []).filter((c) => c.realName).map((c) => [c.userId, c.realName]))
}

/** A short stand-in for a courier whose name is not known: the end of the id. */
export function shortId(id: string): string {
  return id.replace(/-/g, '').slice(-4)
}
