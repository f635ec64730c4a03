import { describe, expect, it } from 'vitest'
import { brandingBody, brandingToForm, checkLogoFile, checkTileUrl, contrastIssues, maxLogoBytes, normalizeHex, validateBranding } from './data'

const form = () => brandingToForm({ name: '北大跑腿', primaryColor: '#1677ff', accentColor: '#ff7a00' })

describe('normalizeHex', () => {
  it('accepts short and long forms with or without #', () => {
    expect(normalizeHex('#ABC')).toBe('#aabbcc')
    expect(normalizeHex(' 8b0012 ')).toBe('#8b0012')
    expect(normalizeHex('#12345')).toBeNull()
    expect(normalizeHex('red')).toBeNull()
  })
})

describe('contrastIssues', () => {
  it('is quiet for readable brand colours', () => {
    expect(contrastIssues('#8b0012', '#1f2329')).toEqual([])
    // A light accent is fine: it fills buttons, and ink reads on it.
    expect(contrastIssues('#0958d9', '#ff7a00')).toEqual([])
  })
  it('has no text warning where the theme picks black text on a mid-tone', () => {
    // The API's default blue carries white at 4.1:1 and ink at 3.9:1: the theme writes black
    // on it (5.1:1). Mid grey likewise (ink 4.49:1, black 5.9:1).
    expect(contrastIssues('#1677ff', '#ff7a00')).toEqual([])
    expect(contrastIssues('#0958d9', '#888888')).toEqual([])
  })
  it('warns when the primary fades into the white page', () => {
    // Pale yellow: ink reads on it, but as link text on white it nearly disappears.
    expect(contrastIssues('#fff7a0', '#0958d9')).toEqual([{ color: 'primary', kind: 'page', level: 'poor', ratio: 1.1 }])
  })
  it('skips colours that are not (yet) valid', () => {
    expect(contrastIssues('#12', '')).toEqual([])
  })
})

describe('checkLogoFile', () => {
  it('takes PNG, JPEG and WebP up to 512 KiB', () => {
    expect(checkLogoFile({ type: 'image/png', size: maxLogoBytes })).toBeNull()
    expect(checkLogoFile({ type: 'image/webp', size: 1000 })).toBeNull()
    expect(checkLogoFile({ type: 'image/jpeg', size: maxLogoBytes + 1 })).toBe('logoTooLarge')
    expect(checkLogoFile({ type: 'image/svg+xml', size: 100 })).toBe('logoType')
    expect(checkLogoFile({ type: 'image/png', size: 0 })).toBe('logoType')
  })
})

describe('checkTileUrl', () => {
  it('wants https and the three placeholders; empty means no tiles', () => {
    expect(checkTileUrl('')).toBeNull()
    expect(checkTileUrl('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}{r}.png')).toBeNull()
    expect(checkTileUrl('http://tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe('tileHttps')
    expect(checkTileUrl('tiles/{z}/{x}/{y}.png')).toBe('tileHttps')
    expect(checkTileUrl('https://tile.example.com/{z}/{x}.png')).toBe('tilePlaceholders')
  })
})

describe('validateBranding', () => {
  it('accepts a complete form', () => {
    expect(validateBranding({ ...form(), servicePhone: '010-6275 1234', mapTileUrl: 'https://t.example.com/{z}/{x}/{y}.png', mapAttribution: '© OSM' })).toEqual({})
  })
  it('names each broken field', () => {
    const errs = validateBranding({
      ...form(),
      name: ' ',
      primaryColor: '#12',
      servicePhone: 'call us',
      announcement: '公'.repeat(301),
      mapTileUrl: 'https://t.example.com/tile.png',
      mapAttribution: '<b>OSM</b>',
    })
    expect(errs).toEqual({
      name: 'required',
      primaryColor: 'hex',
      servicePhone: 'servicePhone',
      announcement: 'tooLong',
      mapTileUrl: 'tilePlaceholders',
      mapAttribution: 'attribution',
    })
  })
})

describe('brandingBody', () => {
  it('sends normalised colours and leaves out empty optional fields', () => {
    const body = brandingBody({ ...form(), name: ' 北大跑腿 ', primaryColor: 'ABC', logoUrl: '/api/v1/branding/logo?v=1', announcement: '  ' })
    expect(body).toEqual({ name: '北大跑腿', primaryColor: '#aabbcc', accentColor: '#ff7a00', logoUrl: '/api/v1/branding/logo?v=1' })
  })
})
