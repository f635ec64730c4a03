// Geometry the maps and the apps share: distances, bounds, tile templates and the GeoJSON the
// zones API takes. Pure functions, so they are tested without a browser.

export interface LatLng {
  lat: number
  lng: number
}

/** A GeoJSON polygon: rings of [lng, lat] positions, the first ring the outline, each closed. */
export interface Polygon {
  type: 'Polygon'
  coordinates: number[][][]
}

export interface MultiPolygon {
  type: 'MultiPolygon'
  coordinates: number[][][][]
}

const earthRadius = 6371008.8 // metres, the mean radius (IUGG) the server's orb also uses

const rad = (d: number) => (d * Math.PI) / 180

/** Great-circle distance in metres (haversine). */
export function distanceMeters(a: LatLng, b: LatLng): number {
  const dLat = rad(b.lat - a.lat)
  const dLng = rad(b.lng - a.lng)
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2
  return 2 * earthRadius * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** True for a usable position: finite, in range, and not the (0, 0) a failed fix reports. */
export function isLatLng(p: unknown): p is LatLng {
  if (!p || typeof p !== 'object') return false
  const { lat, lng } = p as Record<string, unknown>
  return (
    typeof lat === 'number' &&
    typeof lng === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    Math.abs(lat) <= 90 &&
    Math.abs(lng) <= 180 &&
    !(lat === 0 && lng === 0)
  )
}

/** [[south, west], [north, east]] around points, or null when there are none. */
export function boundsOf(points: readonly LatLng[]): [[number, number], [number, number]] | null {
  const ok = points.filter(isLatLng)
  if (ok.length === 0) return null
  let s = 90
  let w = 180
  let n = -90
  let e = -180
  for (const p of ok) {
    s = Math.min(s, p.lat)
    n = Math.max(n, p.lat)
    w = Math.min(w, p.lng)
    e = Math.max(e, p.lng)
  }
  return [
    [s, w],
    [n, e],
  ]
}

/** Every vertex of a polygon or multipolygon, as LatLng (for bounds). */
export function polygonPoints(g: Polygon | MultiPolygon): LatLng[] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  return polys.flatMap((rings) => rings.flatMap((ring) => ring.map(([lng, lat]) => ({ lat: lat ?? NaN, lng: lng ?? NaN }))))
}

/** The outlines of a polygon or multipolygon as Leaflet wants them: [lat, lng] rings. */
export function toLeafletRings(g: Polygon | MultiPolygon): [number, number][][][] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates
  return polys.map((rings) => rings.map((ring) => ring.map(([lng, lat]) => [lat ?? 0, lng ?? 0] as [number, number])))
}

/**
 * The polygon drawn by clicking vertices: GeoJSON (longitude first) with the ring closed, or
 * null while fewer than three distinct vertices make no area.
 */
export function polygonFromVertices(vertices: readonly LatLng[]): Polygon | null {
  const distinct = vertices.filter((v, i) => i === 0 || v.lat !== vertices[i - 1]!.lat || v.lng !== vertices[i - 1]!.lng)
  if (distinct.length > 1) {
    const first = distinct[0]!
    const last = distinct[distinct.length - 1]!
    if (first.lat === last.lat && first.lng === last.lng) distinct.pop()
  }
  if (distinct.length < 3) return null
  const ring = distinct.map((v) => [round(v.lng), round(v.lat)])
  ring.push([...ring[0]!])
  return { type: 'Polygon', coordinates: [ring] }
}

/** Seven decimals: about a centimetre, and what a drawn vertex can mean. */
function round(x: number): number {
  return Math.round(x * 1e7) / 1e7
}

/** Whether a tile URL template is one the maps will load: https, naming {z}, {x} and {y}. */
export function validTileTemplate(s: string | undefined | null): boolean {
  if (!s) return false
  if (!['{z}', '{x}', '{y}'].every((p) => s.includes(p))) return false
  try {
    const u = new URL(s.replace(/\{[sxyzr]\}/g, '0'))
    return u.protocol === 'https:' && u.hostname !== ''
  } catch {
    return false
  }
}
