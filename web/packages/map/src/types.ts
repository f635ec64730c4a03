import type { LatLng, MultiPolygon, Polygon } from './geo'

export interface MapMarker {
  id: string
  at: LatLng
  /** Decides the pin's look: pickup and dropoff of an order, a courier, a place, the viewer. */
  kind: 'pickup' | 'dropoff' | 'courier' | 'place' | 'me'
  label?: string
  /** Dimmed: a position that is getting old (a courier not heard from for a while). */
  faded?: boolean
}

export interface MapZone {
  id: string
  name: string
  geometry: Polygon | MultiPolygon
  enabled?: boolean
  selected?: boolean
}
