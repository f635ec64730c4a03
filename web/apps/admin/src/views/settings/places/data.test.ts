import { describe, expect, it } from 'vitest'
import {
  checkDay,
  drawnPolygon,
  emptyPlaceForm,
  formToWeek,
  isMulti,
  mapZone,
  nameProblem,
  parseClock,
  parseWindow,
  placeDraftBody,
  placeEditBody,
  placeToForm,
  ringCrossesItself,
  sortWeek,
  validateClosedDate,
  validatePlace,
  validateWeek,
  validateZoneName,
  weekIsOpenEnded,
  weekToForm,
  zoneGeometry,
  zonesOf,
  zoneVertices,
  type PlaceForm,
  type WeekForm,
  type ZoneFeature,
} from './data'

const place = { id: 'p1', name: '1号宿舍楼', kind: 'dorm', at: { lat: 30.5355, lng: 114.3645 }, enabled: true, sort: 3 }

function form(over: Partial<PlaceForm> = {}): PlaceForm {
  return { ...emptyPlaceForm(), name: '图书馆', kind: 'library', at: { lat: 30.53, lng: 114.36 }, ...over }
}

describe('place form', () => {
  it('accepts a complete place', () => {
    expect(validatePlace(form())).toEqual({})
  })

  it('names each missing or wrong field', () => {
    expect(validatePlace({ ...emptyPlaceForm(), sort: 1.5 })).toEqual({ name: 'required', kind: 'kind', at: 'pickLocation', sort: 'sort' })
    expect(validatePlace(form({ name: '   ' })).name).toBe('required')
    expect(validatePlace(form({ name: '楼'.repeat(61) })).name).toBe('nameTooLong')
    // Sixty characters are allowed, counted as characters rather than UTF-16 units.
    expect(validatePlace(form({ name: '😀'.repeat(60) })).name).toBeUndefined()
    expect(validatePlace(form({ name: 'a\u0007b' })).name).toBe('control')
    expect(validatePlace(form({ sort: 1_000_001 })).sort).toBe('sort')
    expect(validatePlace(form({ sort: -1_000_000 })).sort).toBeUndefined()
  })

  it('refuses coordinates that are not a position, including the (0, 0) of a failed fix', () => {
    expect(validatePlace(form({ at: { lat: 91, lng: 114 } })).at).toBe('location')
    expect(validatePlace(form({ at: { lat: 30, lng: NaN } })).at).toBe('location')
    expect(validatePlace(form({ at: { lat: 0, lng: 0 } })).at).toBe('location')
  })

  it("says a name is taken by another place, but not by the place's own", () => {
    const others = [place, { ...place, id: 'p2', name: '南门' }]
    expect(validatePlace(form({ name: ' 南门 ' }), others).name).toBe('nameTaken')
    expect(validatePlace(form({ id: 'p2', name: '南门' }), others).name).toBeUndefined()
  })

  it('round-trips a place through the form into the bodies', () => {
    const f = placeToForm(place)
    expect(f).toEqual({ id: 'p1', name: '1号宿舍楼', kind: 'dorm', at: { lat: 30.5355, lng: 114.3645 }, sort: 3, enabled: true })
    f.name = '  1号楼 '
    expect(placeDraftBody(f)).toEqual({ name: '1号楼', kind: 'dorm', at: { lat: 30.5355, lng: 114.3645 }, sort: 3 })
    expect(placeEditBody({ ...f, enabled: false })).toEqual({ name: '1号楼', kind: 'dorm', at: { lat: 30.5355, lng: 114.3645 }, sort: 3, enabled: false })
    // A kind this page does not know yet is edited as "other" rather than left unselectable.
    expect(placeToForm({ ...place, kind: 'stadium' }).kind).toBe('other')
  })
})

const square = {
  type: 'Polygon',
  coordinates: [
    [
      [114.36, 30.53],
      [114.37, 30.53],
      [114.37, 30.54],
      [114.36, 30.54],
      [114.36, 30.53],
    ],
  ],
}

function feature(id: string, name: string, enabled: boolean, geometry: unknown): ZoneFeature {
  return { type: 'Feature', id, properties: { name, enabled }, geometry }
}

describe('zones', () => {
  it('turns the feature collection into map zones and leaves out what cannot be drawn', () => {
    const multi = { type: 'MultiPolygon', coordinates: [square.coordinates, square.coordinates] }
    const items = zonesOf([
      feature('z1', '主校区', true, square),
      feature('z2', '东区', false, multi),
      feature('z3', '坏的', true, { type: 'Point', coordinates: [1, 2] }),
      feature('z4', '空的', true, { type: 'Polygon', coordinates: [] }),
      feature('z5', '文字', true, { type: 'Polygon', coordinates: [[['a', 'b']]] }),
    ])
    expect(items.map((z) => z.id)).toEqual(['z1', 'z2'])
    expect(mapZone(items[0]!, 'z1')).toEqual({ id: 'z1', name: '主校区', geometry: square, enabled: true, selected: true })
    expect(mapZone(items[1]!, 'z1')).toMatchObject({ enabled: false, selected: false })
    expect(isMulti(items[1]!.geometry)).toBe(true)
    expect(isMulti(items[0]!.geometry)).toBe(false)
    expect(zonesOf(null)).toEqual([])
    expect(zoneGeometry(null)).toBeNull()
  })

  it("gives a zone's outline as vertices, longitude second, without the closing corner", () => {
    const g = zoneGeometry(square)!
    expect(zoneVertices(g)).toEqual([
      { lat: 30.53, lng: 114.36 },
      { lat: 30.53, lng: 114.37 },
      { lat: 30.54, lng: 114.37 },
      { lat: 30.54, lng: 114.36 },
    ])
  })

  it('checks a new zone name, including one that would overwrite an existing zone', () => {
    expect(validateZoneName('北区', ['主校区'])).toBe('')
    expect(validateZoneName(' 主校区 ', ['主校区'])).toBe('zoneTaken')
    expect(validateZoneName('', [])).toBe('required')
    expect(validateZoneName('a/b', [])).toBe('slash')
    expect(validateZoneName('区'.repeat(61), [])).toBe('nameTooLong')
  })

  it('makes the drawn polygon GeoJSON, or says why it cannot be sent', () => {
    const v = [
      { lat: 30.53, lng: 114.36 },
      { lat: 30.53, lng: 114.37 },
      { lat: 30.54, lng: 114.37 },
    ]
    const ok = drawnPolygon(v)
    expect(ok).toEqual({ polygon: { type: 'Polygon', coordinates: [[[114.36, 30.53], [114.37, 30.53], [114.37, 30.54], [114.36, 30.53]]] } })
    expect(drawnPolygon(v.slice(0, 2))).toEqual({ error: 'tooFewVertices' })
    // A bow tie: the second and fourth edges cross.
    const bowTie = [
      { lat: 0.5, lng: 1 },
      { lat: 0.5, lng: 2 },
      { lat: 1.5, lng: 1 },
      { lat: 1.5, lng: 2 },
    ]
    expect(drawnPolygon(bowTie)).toEqual({ error: 'selfCrossing' })
  })

  it('finds rings that cross, touch or fold back on themselves', () => {
    const close = (pts: number[][]) => [...pts, pts[0]!]
    expect(ringCrossesItself(close([[0, 0], [2, 0], [2, 2], [0, 2]]))).toBe(false)
    expect(ringCrossesItself(close([[0, 0], [2, 2], [2, 0], [0, 2]]))).toBe(true)
    // A corner lying on another edge touches it.
    expect(ringCrossesItself(close([[0, 0], [4, 0], [4, 4], [2, 0], [0, 4]]))).toBe(true)
    // A spike: straight out and back along the same line.
    expect(ringCrossesItself(close([[0, 0], [2, 0], [1, 0], [1, 2]]))).toBe(true)
    // Collinear corners going on in the same direction are fine.
    expect(ringCrossesItself(close([[0, 0], [1, 0], [2, 0], [2, 2]]))).toBe(false)
  })
})

function week(over: Partial<WeekForm> = {}): WeekForm {
  return { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [], ...over }
}

describe('service hour windows', () => {
  it('reads clocks from 00:00 to 24:00', () => {
    expect(parseClock('00:00')).toBe(0)
    expect(parseClock('07:30')).toBe(450)
    expect(parseClock('24:00')).toBe(1440)
    for (const bad of ['24:01', '25:00', '7:30', '07:60', '0730', '', 'ab:cd']) expect(parseClock(bad)).toBeNull()
  })

  it('reads windows as the server does: 24:00 only as an end, opening before closing', () => {
    expect(parseWindow('08:00-22:00')).toEqual({ opens: 480, closes: 1320 })
    expect(parseWindow('18:00-24:00')).toEqual({ opens: 1080, closes: 1440 })
    expect(parseWindow('24:00-24:00')).toBe('opensAtMidnight')
    expect(parseWindow('22:00-08:00')).toBe('order')
    expect(parseWindow('08:00-08:00')).toBe('order')
    expect(parseWindow('08:00')).toBe('clock')
    expect(parseWindow('08:00-12:00-13:00')).toBe('clock')
  })

  it('lets windows touch but marks both sides of an overlap, naming the other', () => {
    expect(checkDay([{ from: '08:00', to: '12:00' }, { from: '12:00', to: '18:00' }]).size).toBe(0)
    const errs = checkDay([
      { from: '08:00', to: '12:00' },
      { from: '13:00', to: '14:00' },
      { from: '11:00', to: '13:30' },
      { from: '9', to: '10:00' },
    ])
    expect(errs.get(0)).toEqual({ key: 'overlap', other: '11:00-13:30' })
    expect(errs.get(1)).toEqual({ key: 'overlap', other: '11:00-13:30' })
    expect(errs.get(2)).toEqual({ key: 'overlap', other: '08:00-12:00' })
    expect(errs.get(3)).toEqual({ key: 'clock' })
  })

  it("keys the week's problems like the server's locations", () => {
    const f = week({ tue: [{ from: '08:00', to: '22:00' }], sat: [{ from: '10:00', to: '09:00' }] })
    expect(validateWeek(f)).toEqual({ 'sat[0]': { key: 'order' } })
  })

  it('converts the week both ways, sorting windows and leaving out empty days', () => {
    const f = weekToForm({ mon: ['12:00-18:00', '07:30-11:00'], tue: [], wed: null, thu: [], fri: [], sat: [], sun: ['18:00-24:00'] })
    expect(f.mon).toEqual([{ from: '12:00', to: '18:00' }, { from: '07:30', to: '11:00' }])
    expect(f.wed).toEqual([])
    expect(formToWeek(f)).toEqual({ mon: ['07:30-11:00', '12:00-18:00'], sun: ['18:00-24:00'] })
    expect(sortWeek(week({ fri: [{ from: ' 14:00', to: '15:00 ' }, { from: '09:00', to: '10:00' }] })).fri).toEqual([
      { from: '09:00', to: '10:00' },
      { from: '14:00', to: '15:00' },
    ])
  })

  it('knows a week without windows has no hours limit', () => {
    expect(weekIsOpenEnded(week())).toBe(true)
    expect(weekIsOpenEnded(week({ sun: [{ from: '08:00', to: '09:00' }] }))).toBe(false)
  })
})

describe('closed dates', () => {
  it('wants a real calendar date and a short reason', () => {
    expect(validateClosedDate('2025-10-01', '国庆假期')).toEqual({})
    expect(validateClosedDate('2025-10-01', '')).toEqual({})
    expect(validateClosedDate('', '')).toEqual({ date: 'required' })
    expect(validateClosedDate('2025-02-30', '')).toEqual({ date: 'date' })
    expect(validateClosedDate('2025/10/01', '')).toEqual({ date: 'date' })
    expect(validateClosedDate('2025-10-01', 'x'.repeat(201))).toEqual({ reason: 'reasonTooLong' })
    expect(validateClosedDate('2025-10-01', 'a\u0000')).toEqual({ reason: 'control' })
  })
})

describe('names', () => {
  it('trims before counting', () => {
    expect(nameProblem('  a  ')).toBe('')
  })
})
