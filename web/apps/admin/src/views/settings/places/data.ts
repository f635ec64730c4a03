// Places, delivery zones and service hours: the forms' rules, mirroring internal/places so a
// mistake is caught (and explained) before the request, and the conversions between the API's
// GeoJSON and the shared map's shapes.
import type { Schema } from '@paotui/api'
import { isLatLng, polygonFromVertices, type LatLng, type MapZone, type MultiPolygon, type Polygon } from '@paotui/map'

export type Place = Schema<'Place'>
export type ZoneFeature = Schema<'ZoneFeature'>
export type WeekHours = Schema<'WeekHours'>
export type WeekHoursEdit = Schema<'WeekHoursEdit'>

/** The place kinds, in the order the student app groups them (places.Kinds; a CHECK in the table). */
export const placeKinds = ['dorm', 'canteen', 'parcel_station', 'library', 'teaching', 'clinic', 'shop', 'gate', 'gym', 'office', 'other'] as const
export type PlaceKind = (typeof placeKinds)[number]

/** The longest place or zone name, in characters (places.MaxNameLength). */
export const maxNameLength = 60
/** Picker order bounds (places.maxSort). */
export const maxSort = 1_000_000
/** The longest reason shown for a closed date, in characters. */
export const maxReasonLength = 200

// Control characters are refused in names and reasons by the server (unicode.IsControl).
const controlChars = /[\u0000-\u001f\u007f-\u009f]/

/** Why a trimmed name cannot be a place or zone name (a key of admin.places.errors), or ''. */
export function nameProblem(name: string): string {
  const n = name.trim()
  if (!n) return 'required'
  if ([...n].length > maxNameLength) return 'nameTooLong'
  if (controlChars.test(n)) return 'control'
  return ''
}

// ---------------------------------------------------------------------------------------------
// Places

export interface PlaceForm {
  /** Empty for a new place. */
  id: string
  name: string
  kind: PlaceKind | ''
  at: LatLng | null
  sort: number
  enabled: boolean
}

export function emptyPlaceForm(): PlaceForm {
  return { id: '', name: '', kind: '', at: null, sort: 0, enabled: true }
}

export function placeToForm(p: Place): PlaceForm {
  return {
    id: p.id,
    name: p.name,
    kind: (placeKinds as readonly string[]).includes(p.kind) ? (p.kind as PlaceKind) : 'other',
    at: { lat: p.at.lat, lng: p.at.lng },
    sort: p.sort,
    enabled: p.enabled,
  }
}

/**
 * Message keys (admin.places.errors.*) per invalid field; empty when the form can be sent.
 * others are the places already listed: a name another place has (enabled or not) is refused
 * by the server with a conflict, so it is said here first.
 */
export function validatePlace(f: PlaceForm, others: readonly Pick<Place, 'id' | 'name'>[] = []): Record<string, string> {
  const errs: Record<string, string> = {}
  const np = nameProblem(f.name)
  if (np) errs.name = np
  else if (others.some((o) => o.id !== f.id && o.name.trim() === f.name.trim())) errs.name = 'nameTaken'
  if (!f.kind || !(placeKinds as readonly string[]).includes(f.kind)) errs.kind = 'kind'
  if (!f.at) errs.at = 'pickLocation'
  else if (!isLatLng(f.at)) errs.at = 'location'
  if (!Number.isInteger(f.sort) || Math.abs(f.sort) > maxSort) errs.sort = 'sort'
  return errs
}

/** The create-place body (a new place is enabled). */
export function placeDraftBody(f: PlaceForm): Schema<'PlaceDraft'> {
  return { name: f.name.trim(), kind: f.kind, at: { lat: f.at?.lat ?? 0, lng: f.at?.lng ?? 0 }, sort: f.sort }
}

/** The update-place body: the whole place, as the API replaces it. */
export function placeEditBody(f: PlaceForm): Schema<'PlaceEdit'> {
  return { ...placeDraftBody(f), sort: f.sort, enabled: f.enabled }
}

/** The form fields a place problem's errors (body.name, body.at.lng...) are shown by. */
export const placeFields = ['name', 'kind', 'at', 'sort', 'enabled'] as const

// ---------------------------------------------------------------------------------------------
// Zones

function isPosition(p: unknown): p is number[] {
  return Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number' && Number.isFinite(p[0]) && Number.isFinite(p[1])
}

function isRings(r: unknown): r is number[][][] {
  return Array.isArray(r) && r.length > 0 && r.every((ring) => Array.isArray(ring) && ring.length > 0 && ring.every(isPosition))
}

/** The geometry of a zone feature when it is one the map can draw, else null. */
export function zoneGeometry(g: unknown): Polygon | MultiPolygon | null {
  if (!g || typeof g !== 'object') return null
  const { type, coordinates } = g as { type?: unknown; coordinates?: unknown }
  if (type === 'Polygon' && isRings(coordinates)) return { type, coordinates }
  if (type === 'MultiPolygon' && Array.isArray(coordinates) && coordinates.length > 0 && coordinates.every(isRings)) {
    return { type, coordinates: coordinates as number[][][][] }
  }
  return null
}

export interface ZoneItem {
  id: string
  name: string
  enabled: boolean
  geometry: Polygon | MultiPolygon
}

/** The zones of list-zones that can be drawn; a feature with a geometry the map cannot read is left out. */
export function zonesOf(features: readonly ZoneFeature[] | null | undefined): ZoneItem[] {
  const out: ZoneItem[] = []
  for (const f of features ?? []) {
    const geometry = zoneGeometry(f.geometry)
    if (geometry) out.push({ id: f.id, name: f.properties.name, enabled: f.properties.enabled, geometry })
  }
  return out
}

/** A zone as the shared map draws it. */
export function mapZone(z: ZoneItem, selectedId?: string | null): MapZone {
  return { id: z.id, name: z.name, geometry: z.geometry, enabled: z.enabled, selected: z.id === selectedId }
}

/** The outline of a zone as map vertices: the first polygon's outer ring without its closing corner. */
export function zoneVertices(g: Polygon | MultiPolygon): LatLng[] {
  const ring = (g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0]?.[0]) ?? []
  const pts = ring.map(([lng, lat]) => ({ lat: lat ?? NaN, lng: lng ?? NaN }))
  const first = pts[0]
  const last = pts[pts.length - 1]
  if (pts.length > 1 && first && last && first.lat === last.lat && first.lng === last.lng) pts.pop()
  return pts
}

/** Whether a zone is several polygons (redrawing it replaces them with one). */
export function isMulti(g: Polygon | MultiPolygon): boolean {
  return g.type === 'MultiPolygon' && g.coordinates.length > 1
}

/**
 * Why a zone name cannot be used (a key of admin.places.errors), or ''. A new zone may not take
 * an existing zone's name: put-zone would silently replace that zone's shape. A slash is refused
 * because the name travels as one segment of the URL path.
 */
export function validateZoneName(name: string, existing: readonly string[]): string {
  const np = nameProblem(name)
  if (np) return np
  if (name.includes('/')) return 'slash'
  if (existing.includes(name.trim())) return 'zoneTaken'
  return ''
}

type XY = [number, number]

function orient(a: XY, b: XY, c: XY): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
  return v > 0 ? 1 : v < 0 ? -1 : 0
}

function onSegment(a: XY, b: XY, c: XY): boolean {
  return Math.min(a[0], b[0]) <= c[0] && c[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= c[1] && c[1] <= Math.max(a[1], b[1])
}

function segmentsMeet(p: XY, q: XY, r: XY, s: XY): boolean {
  const o1 = orient(p, q, r)
  const o2 = orient(p, q, s)
  const o3 = orient(r, s, p)
  const o4 = orient(r, s, q)
  if (o1 !== o2 && o3 !== o4) return true
  return (o1 === 0 && onSegment(p, q, r)) || (o2 === 0 && onSegment(p, q, s)) || (o3 === 0 && onSegment(r, s, p)) || (o4 === 0 && onSegment(r, s, q))
}

/**
 * Whether the closed ring crosses or touches itself, or folds back on an edge — the shapes
 * put-zone refuses (places.crossesItself), so the admin can fix the drawing before saving.
 */
export function ringCrossesItself(ring: readonly number[][]): boolean {
  const r = ring.map((p) => [p[0] ?? 0, p[1] ?? 0] as XY)
  const n = r.length - 1
  for (let i = 0; i < n; i++) {
    const a = r[i]!
    const b = r[i + 1]!
    const c = r[(i + 2) % n]!
    if (orient(a, b, c) === 0 && (c[0] - b[0]) * (b[0] - a[0]) + (c[1] - b[1]) * (b[1] - a[1]) < 0) return true
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue
      if (segmentsMeet(a, b, r[j]!, r[j + 1]!)) return true
    }
  }
  return false
}

/** The drawn polygon to send, or the key (admin.places.errors.*) of why it cannot be sent. */
export function drawnPolygon(vertices: readonly LatLng[]): { polygon: Polygon } | { error: string } {
  const polygon = polygonFromVertices(vertices)
  if (!polygon) return { error: 'tooFewVertices' }
  if (ringCrossesItself(polygon.coordinates[0]!)) return { error: 'selfCrossing' }
  return { polygon }
}

// ---------------------------------------------------------------------------------------------
// Service hours

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof weekdays)[number]

/** The end of the day, the latest a window may close. */
export const dayMinutes = 24 * 60

/** One window being edited: opening and closing clocks, "HH:MM". */
export interface WindowRow {
  from: string
  to: string
}

export type WeekForm = Record<Weekday, WindowRow[]>

/** Minutes after midnight of an "HH:MM" clock (00:00..24:00), or null. */
export function parseClock(s: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(s.trim())
  if (!m) return null
  const h = Number(m[1])
  const min = Number(m[2])
  if (h > 24 || min > 59 || (h === 24 && min !== 0)) return null
  return h * 60 + min
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

export interface Window {
  opens: number
  closes: number
}

/** Why a window is unusable: a key of admin.places.errors. */
export type WindowProblem = 'clock' | 'opensAtMidnight' | 'order'

/** Reads "HH:MM-HH:MM" (the end may be 24:00), as places.ParseWindow does. */
export function parseWindow(s: string): Window | WindowProblem {
  const [from, to, ...rest] = s.split('-')
  if (from === undefined || to === undefined || rest.length) return 'clock'
  return windowOf({ from, to })
}

/** The window of a row, or why it is not one. */
export function windowOf(row: WindowRow): Window | WindowProblem {
  const opens = parseClock(row.from)
  const closes = parseClock(row.to)
  if (opens === null || closes === null) return 'clock'
  if (opens === dayMinutes) return 'opensAtMidnight'
  if (opens >= closes) return 'order'
  return { opens, closes }
}

export function windowString(w: Window): string {
  return `${formatClock(w.opens)}-${formatClock(w.closes)}`
}

export interface WindowError {
  key: WindowProblem | 'overlap'
  /** For overlap: the window it overlaps, "HH:MM-HH:MM". */
  other?: string
}

/**
 * Problems of one day's windows by row index: a row that is not a window, or that overlaps
 * another (windows may touch: 08:00-12:00 and 12:00-18:00 are fine). Both rows of an overlap
 * are marked, each naming the other.
 */
export function checkDay(rows: readonly WindowRow[]): Map<number, WindowError> {
  const errs = new Map<number, WindowError>()
  const ok: { i: number; w: Window }[] = []
  rows.forEach((row, i) => {
    const w = windowOf(row)
    if (typeof w === 'string') errs.set(i, { key: w })
    else ok.push({ i, w })
  })
  for (let a = 0; a < ok.length; a++) {
    for (let b = a + 1; b < ok.length; b++) {
      const x = ok[a]!
      const y = ok[b]!
      if (x.w.opens < y.w.closes && y.w.opens < x.w.closes) {
        if (!errs.has(x.i)) errs.set(x.i, { key: 'overlap', other: windowString(y.w) })
        if (!errs.has(y.i)) errs.set(y.i, { key: 'overlap', other: windowString(x.w) })
      }
    }
  }
  return errs
}

/** Every problem of the week, keyed "mon[0]" like the server's locations (body.week.mon[0]). */
export function validateWeek(f: WeekForm): Record<string, WindowError> {
  const out: Record<string, WindowError> = {}
  for (const d of weekdays) {
    for (const [i, e] of checkDay(f[d])) out[`${d}[${i}]`] = e
  }
  return out
}

/** Rows by opening time; rows that are not windows go last, in their order. */
function sortedRows(rows: readonly WindowRow[]): WindowRow[] {
  const opens = (r: WindowRow) => {
    const w = windowOf(r)
    return typeof w === 'string' ? Infinity : w.opens
  }
  return rows
    .map((r, i) => ({ r, i, o: opens(r) }))
    .sort((a, b) => (a.o === b.o ? a.i - b.i : a.o - b.o))
    .map((x) => ({ from: x.r.from.trim(), to: x.r.to.trim() }))
}

export function weekToForm(w: WeekHours): WeekForm {
  const f = {} as WeekForm
  for (const d of weekdays) {
    f[d] = (w[d] ?? []).flatMap((s) => {
      const [from, to] = s.split('-')
      return from !== undefined && to !== undefined ? [{ from, to }] : []
    })
  }
  return f
}

/**
 * The form in opening order per day, as the server sorts it: its error locations then name
 * the same rows the admin sees.
 */
export function sortWeek(f: WeekForm): WeekForm {
  const out = {} as WeekForm
  for (const d of weekdays) out[d] = sortedRows(f[d])
  return out
}

/** The put-service-hours week: days without windows are left out (no service on them). */
export function formToWeek(f: WeekForm): WeekHoursEdit {
  const out: WeekHoursEdit = {}
  for (const d of weekdays) {
    const ws = sortedRows(f[d]).map((r) => `${r.from}-${r.to}`)
    if (ws.length) out[d] = ws
  }
  return out
}

/** A week without any window has no hours limit at all (orders any time). */
export function weekIsOpenEnded(f: WeekForm): boolean {
  return weekdays.every((d) => f[d].length === 0)
}

/** Why a closed date cannot be added (admin.places.errors.*), per field. */
export function validateClosedDate(date: string, reason: string): Record<string, string> {
  const errs: Record<string, string> = {}
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null
  if (!date) errs.date = 'required'
  else if (!d || d.toISOString().slice(0, 10) !== date) errs.date = 'date'
  if ([...reason.trim()].length > maxReasonLength) errs.reason = 'reasonTooLong'
  else if (controlChars.test(reason)) errs.reason = 'control'
  return errs
}
