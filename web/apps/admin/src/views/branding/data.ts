// Branding form logic: colour input, contrast warnings, the logo file check and the map tile
// template check, mirroring what internal/branding accepts so mistakes show before sending.
import { contrast, parseHex, readableOn, toHex, white } from '@paotui/theme'

export interface BrandingForm {
  name: string
  primaryColor: string
  accentColor: string
  logoUrl: string
  servicePhone: string
  announcement: string
  mapTileUrl: string
  mapAttribution: string
}

export interface BrandingSource {
  name: string
  primaryColor: string
  accentColor: string
  logoUrl?: string
  servicePhone?: string
  announcement?: string
  mapTileUrl?: string
  mapAttribution?: string
}

export function brandingToForm(b: BrandingSource): BrandingForm {
  return {
    name: b.name,
    primaryColor: b.primaryColor,
    accentColor: b.accentColor,
    logoUrl: b.logoUrl ?? '',
    servicePhone: b.servicePhone ?? '',
    announcement: b.announcement ?? '',
    mapTileUrl: b.mapTileUrl ?? '',
    mapAttribution: b.mapAttribution ?? '',
  }
}

/** "#abc", "abc", "#AABBCC" -> "#aabbcc"; null for anything that is no colour. */
export function normalizeHex(s: string): string | null {
  const t = s.trim()
  const c = parseHex(t.startsWith('#') ? t : `#${t}`)
  return c ? toHex(c) : null
}

/** WCAG AA: body text needs 4.5:1; large text, buttons and other controls 3:1. */
export const minTextContrast = 4.5
export const minUiContrast = 3

export interface ContrastIssue {
  /** Which colour: primary or accent. */
  color: 'primary' | 'accent'
  /** text: the text on the colour; page: the primary colour as text on the white page. */
  kind: 'text' | 'page'
  /** poor: below 3:1, hard to read at any size; fair: 3 to 4.5:1, fine for large text only. */
  level: 'poor' | 'fair'
  /** The ratio, rounded down to one decimal (never shows a passing number for a failing one). */
  ratio: number
}

/**
 * What would be hard to read with these colours. Text on a brand colour is chosen by the
 * theme's readableOn, which reaches AA on every colour (black on the mid-tones where neither
 * white nor ink does), so the text check is a safety net; the page check is the real one.
 */
export function contrastIssues(primary: string, accent: string): ContrastIssue[] {
  const out: ContrastIssue[] = []
  for (const [color, hex] of [['primary', primary], ['accent', accent]] as const) {
    const c = parseHex(normalizeHex(hex))
    if (!c) continue
    const text = contrast(readableOn(c), c)
    if (text < minTextContrast) out.push({ color, kind: 'text', level: text < minUiContrast ? 'poor' : 'fair', ratio: floor1(text) })
    // The primary colour is also text (links, outlined buttons) on the white page; the accent
    // only ever fills a badge or button, where the text on it is what must read.
    const page = contrast(c, white)
    if (color === 'primary' && page < minUiContrast) out.push({ color, kind: 'page', level: 'poor', ratio: floor1(page) })
  }
  return out
}

function floor1(n: number): number {
  return Math.floor(n * 10) / 10
}

/** The server's logo limit (internal/branding MaxLogoBytes). */
export const maxLogoBytes = 512 * 1024
export const logoTypes = ['image/png', 'image/jpeg', 'image/webp'] as const

/**
 * Message key (admin.validation.*) for a logo file the server would refuse, else null. The
 * server judges the type from the bytes; the browser's type catches the usual mistakes (SVG,
 * GIF, a photo straight off a phone) before the upload.
 */
export function checkLogoFile(f: { type: string; size: number }): string | null {
  if (!(logoTypes as readonly string[]).includes(f.type)) return 'logoType'
  if (f.size > maxLogoBytes) return 'logoTooLarge'
  if (f.size === 0) return 'logoType'
  return null
}

/**
 * Message key for a tile URL template the server would refuse, else null. Empty is allowed
 * (maps without tiles). Like the server, placeholders are filled in before the URL is parsed.
 */
export function checkTileUrl(s: string): string | null {
  const v = s.trim()
  if (!v) return null
  const filled = v.replace(/\{s\}/g, 'a').replace(/\{[zxy]\}/g, '0').replace(/\{r\}/g, '')
  let u: URL
  try {
    u = new URL(filled)
  } catch {
    return 'tileHttps'
  }
  if (u.protocol !== 'https:' || !u.hostname) return 'tileHttps'
  if (!['{z}', '{x}', '{y}'].every((p) => v.includes(p))) return 'tilePlaceholders'
  return null
}

const phone = /^[0-9+\- ]{3,20}$/

/** Field -> message key (admin.validation.*); empty when the form can be saved. */
export function validateBranding(f: BrandingForm): Record<string, string> {
  const errs: Record<string, string> = {}
  const name = [...f.name.trim()].length
  if (name === 0) errs.name = 'required'
  else if (name > 100) errs.name = 'tooLong'
  if (!normalizeHex(f.primaryColor)) errs.primaryColor = 'hex'
  if (!normalizeHex(f.accentColor)) errs.accentColor = 'hex'
  if (f.servicePhone.trim() && !phone.test(f.servicePhone.trim())) errs.servicePhone = 'servicePhone'
  if ([...f.announcement.trim()].length > 300) errs.announcement = 'tooLong'
  const tile = checkTileUrl(f.mapTileUrl)
  if (tile) errs.mapTileUrl = tile
  const attribution = f.mapAttribution.trim()
  if ([...attribution].length > 200) errs.mapAttribution = 'tooLong'
  else if (/[<>]/.test(attribution)) errs.mapAttribution = 'attribution'
  return errs
}

export interface BrandingBody {
  name: string
  primaryColor: string
  accentColor: string
  logoUrl?: string
  servicePhone?: string
  announcement?: string
  mapTileUrl?: string
  mapAttribution?: string
}

/** update-branding replaces the whole document: everything is sent, empty optionals left out. */
export function brandingBody(f: BrandingForm): BrandingBody {
  const body: BrandingBody = {
    name: f.name.trim(),
    primaryColor: normalizeHex(f.primaryColor) ?? f.primaryColor,
    accentColor: normalizeHex(f.accentColor) ?? f.accentColor,
  }
  const opt = { logoUrl: f.logoUrl, servicePhone: f.servicePhone, announcement: f.announcement, mapTileUrl: f.mapTileUrl, mapAttribution: f.mapAttribution }
  for (const [k, v] of Object.entries(opt) as [keyof typeof opt, string][]) {
    if (v.trim()) body[k] = v.trim()
  }
  return body
}
