// Where an order goes from and to, and what its map shows. A stop is a campus place from the
// list or a pin dropped on the map with a short name; the order page shows both stops and,
// while the courier carries the order, where the courier is.
import type { Schema } from '@paotui/api'
import { distanceMeters, isLatLng, type LatLng, type MapMarker } from '@paotui/map'

export type Place = Schema<'Place'>
export type StopInput = Schema<'StopInput'>
type Stop = Schema<'Stop'>

/** An error as a full i18n key with its parameters (the order form shows it by the field). */
export interface StopError {
  key: string
  params?: Record<string, number>
}

/** The longest pin name, as the server's StopInput.label. */
export const labelMax = 60

/** Pins closer than this are one spot: an order from a spot to itself is a mistake. */
const samePinMeters = 5

/** What the student chose for one stop. Both halves are kept, so switching back loses nothing. */
export interface StopChoice {
  mode: 'place' | 'pin'
  placeId: string
  at: LatLng | null
  label: string
}

export function emptyStop(): StopChoice {
  return { mode: 'place', placeId: '', at: null, label: '' }
}

/** The pin name's problem (required, at most labelMax characters), or null. */
export function checkLabel(label: string): StopError | null {
  const s = label.trim()
  if (s === '') return { key: 'st.map.labelRequired' }
  // Characters, not UTF-16 units: the server counts a Chinese or emoji name the same way.
  if ([...s].length > labelMax) return { key: 'st.map.labelTooLong', params: { n: labelMax } }
  return null
}

/** One stop's problems by field: `name` for the stop itself, `name.label` for a pin's name. */
export function checkStop(name: string, s: StopChoice): Record<string, StopError> {
  const out: Record<string, StopError> = {}
  if (s.mode === 'place') {
    if (!s.placeId) out[name] = { key: 'st.form.required' }
    return out
  }
  if (!isLatLng(s.at)) out[name] = { key: 'st.map.pinRequired' }
  const label = checkLabel(s.label)
  if (label) out[`${name}.label`] = label
  return out
}

/** Both stops' problems; the drop-off is refused when it is the pickup again. */
export function checkStops(pickup: StopChoice, dropoff: StopChoice): Record<string, StopError> {
  const out = { ...checkStop('pickup', pickup), ...checkStop('dropoff', dropoff) }
  if (!out.pickup && !out.dropoff && sameSpot(pickup, dropoff)) out.dropoff = { key: 'st.form.samePlace' }
  return out
}

function sameSpot(a: StopChoice, b: StopChoice): boolean {
  if (a.mode !== b.mode) return false
  if (a.mode === 'place') return a.placeId === b.placeId
  return isLatLng(a.at) && isLatLng(b.at) && distanceMeters(a.at, b.at) < samePinMeters
}

/** The stop as quote and create-order take it. Call after checkStop found nothing. */
export function stopInput(s: StopChoice): StopInput {
  if (s.mode === 'place' || !s.at) return { placeId: s.placeId }
  return { lat: round(s.at.lat), lng: round(s.at.lng), label: s.label.trim() }
}

/** Seven decimals (about a centimetre): a tap means no more, and the quote key stays short. */
function round(x: number): number {
  return Math.round(x * 1e7) / 1e7
}

/** The campus places as grey dots to aim at when dropping a pin. */
export function placeMarkers(places: readonly Place[]): MapMarker[] {
  return places.filter((p) => p.enabled && isLatLng(p.at)).map((p) => ({ id: `place:${p.id}`, at: p.at, kind: 'place', label: p.name }))
}

/** The dropped pin, drawn as the stop it stands for; null before the map was tapped. */
export function pinMarker(kind: 'pickup' | 'dropoff', s: StopChoice): MapMarker | null {
  if (!isLatLng(s.at)) return null
  const label = s.label.trim()
  return { id: `pin:${kind}`, at: s.at, kind, ...(label ? { label } : {}) }
}

/** The courier is shown only while carrying the order; the server sends positions only then. */
export function showsCourier(status: string): boolean {
  return status === 'accepted' || status === 'picked_up'
}

/**
 * The order page's map: pickup and drop-off, and the courier's last position (a stream
 * `position` event) while the order is accepted or picked up. A position that is no usable
 * point (missing, out of range, the (0, 0) of a failed fix) draws nothing.
 */
export function orderMarkers(
  order: { status: string; pickup: Stop; dropoff: Stop },
  courier: Partial<LatLng> | null | undefined,
): MapMarker[] {
  const out: MapMarker[] = []
  for (const kind of ['pickup', 'dropoff'] as const) {
    const s = order[kind]
    const at = { lat: s.lat, lng: s.lng }
    if (isLatLng(at)) out.push({ id: kind, at, kind, label: s.name })
  }
  if (showsCourier(order.status) && isLatLng(courier)) out.push({ id: 'courier', at: { lat: courier.lat, lng: courier.lng }, kind: 'courier' })
  return out
}

/** What decides the map's framing: it is fitted again when a marker appears or goes. */
export function markerSet(markers: readonly MapMarker[]): string {
  return markers
    .map((m) => m.id)
    .sort()
    .join(',')
}
