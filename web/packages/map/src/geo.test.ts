import { describe, expect, it } from 'vitest'
import { boundsOf, distanceMeters, isLatLng, polygonFromVertices, polygonPoints, toLeafletRings, validTileTemplate } from './geo'

describe('distanceMeters', () => {
  it('measures a degree of latitude as about 111.2 km', () => {
    expect(distanceMeters({ lat: 30, lng: 114 }, { lat: 31, lng: 114 })).toBeCloseTo(111195, -1)
  })
  it('shrinks longitude with latitude', () => {
    const atEquator = distanceMeters({ lat: 0, lng: 10 }, { lat: 0, lng: 11 })
    const at60 = distanceMeters({ lat: 60, lng: 10 }, { lat: 60, lng: 11 })
    expect(at60 / atEquator).toBeCloseTo(0.5, 2)
  })
  it('is zero for one point and symmetric', () => {
    const a = { lat: 30.5355, lng: 114.3645 }
    const b = { lat: 30.5401, lng: 114.3702 }
    expect(distanceMeters(a, a)).toBe(0)
    expect(distanceMeters(a, b)).toBeCloseTo(distanceMeters(b, a), 9)
    // Across a campus: a few hundred metres, checked against a planar estimate.
    const planar = Math.hypot((b.lat - a.lat) * 111195, (b.lng - a.lng) * 111195 * Math.cos((a.lat * Math.PI) / 180))
    expect(distanceMeters(a, b)).toBeCloseTo(planar, -1)
  })
})

describe('isLatLng', () => {
  it('refuses out-of-range, non-finite and the (0, 0) of a failed fix', () => {
    expect(isLatLng({ lat: 30, lng: 114 })).toBe(true)
    expect(isLatLng({ lat: 0, lng: 0 })).toBe(false)
    expect(isLatLng({ lat: 91, lng: 0 })).toBe(false)
    expect(isLatLng({ lat: 10, lng: NaN })).toBe(false)
    expect(isLatLng({ lat: '30', lng: 114 })).toBe(false)
    expect(isLatLng(null)).toBe(false)
  })
})

describe('boundsOf', () => {
  it('frames the usable points only', () => {
    expect(boundsOf([{ lat: 1, lng: 5 }, { lat: 3, lng: 2 }, { lat: 0, lng: 0 }])).toEqual([
      [1, 2],
      [3, 5],
    ])
    expect(boundsOf([])).toBeNull()
  })
})

describe('polygons', () => {
  it('closes a drawn ring, longitude first, dropping repeated clicks', () => {
    const p = polygonFromVertices([
      { lat: 30.1, lng: 114.1 },
      { lat: 30.1, lng: 114.1 },
      { lat: 30.2, lng: 114.1 },
      { lat: 30.2, lng: 114.2 },
    ])
    expect(p).toEqual({
      type: 'Polygon',
      coordinates: [
        [
          [114.1, 30.1],
          [114.1, 30.2],
          [114.2, 30.2],
          [114.1, 30.1],
        ],
      ],
    })
  })
  it('needs three distinct corners, also when the last click repeats the first', () => {
    expect(polygonFromVertices([{ lat: 1, lng: 1 }, { lat: 2, lng: 2 }])).toBeNull()
    expect(polygonFromVertices([{ lat: 1, lng: 1 }, { lat: 2, lng: 2 }, { lat: 1, lng: 1 }])).toBeNull()
  })
  it('rounds vertices to seven decimals', () => {
    const p = polygonFromVertices([{ lat: 1.123456789, lng: 2 }, { lat: 2, lng: 2 }, { lat: 2, lng: 3 }])
    expect(p?.coordinates[0]?.[0]).toEqual([2, 1.1234568])
  })
  it('turns GeoJSON into Leaflet rings and points', () => {
    const mp = {
      type: 'MultiPolygon' as const,
      coordinates: [
        [
          [
            [114, 30],
            [115, 30],
            [115, 31],
            [114, 30],
          ],
        ],
      ],
    }
    expect(toLeafletRings(mp)[0]?.[0]?.[1]).toEqual([30, 115])
    expect(polygonPoints(mp)).toHaveLength(4)
    expect(polygonPoints(mp)[2]).toEqual({ lat: 31, lng: 115 })
  })
})

describe('validTileTemplate', () => {
  it('takes https templates with {z}, {x} and {y}', () => {
    expect(validTileTemplate('https://tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe(true)
    expect(validTileTemplate('https://{s}.tiles.example.com/{z}/{x}/{y}{r}.png')).toBe(true)
  })
  it('refuses http, missing placeholders, other schemes and nothing', () => {
    expect(validTileTemplate('http://tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe(false)
    expect(validTileTemplate('https://tiles.example.com/{z}/{x}.png')).toBe(false)
    expect(validTileTemplate('javascript:alert(1)//{z}{x}{y}')).toBe(false)
    expect(validTileTemplate('')).toBe(false)
    expect(validTileTemplate(undefined)).toBe(false)
  })
})
