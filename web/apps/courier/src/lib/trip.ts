// What the trip screen offers for an order's status, and what its map shows.
import type { Schema } from '@paotui/api'
import { isLatLng, type LatLng, type MapMarker } from '@paotui/map'

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

/**
 * The trip's map: pickup and drop-off, and the courier's own last fix ("me") when there is one.
 * Stops or a fix that are no usable point are left out rather than drawn at (0, 0).
 */
export function tripMarkers(order: { pickup: Schema<'Stop'>; dropoff: Schema<'Stop'> }, me: Partial<LatLng> | null | undefined): MapMarker[] {
  const out: MapMarker[] = []
  for (const kind of ['pickup', 'dropoff'] as const) {
    const s = order[kind]
    const at = { lat: s.lat, lng: s.lng }
    if (isLatLng(at)) out.push({ id: kind, at, kind, label: s.name })
  }
  if (isLatLng(me)) out.push({ id: 'me', at: { lat: me.lat, lng: me.lng }, kind: 'me' })
  return out
}

/** Which markers are on the map: the map is framed again when one appears or goes, not as "me" moves. */
export function markerSet(markers: readonly MapMarker[]): string {
  return markers
    .map((m) => m.id)
    .sort()
    .join(',')
}
