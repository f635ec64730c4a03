/** An sRGB colour with 0-255 channels. */
export interface RGB {
  r: number
  g: number
  b: number
}

/** Parses #rgb or #rrggbb (any case); null for anything else. */
export function parseHex(s: string | null | undefined): RGB | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec((s ?? '').trim())
  if (!m) return null
  let h = m[1]!
  if (h.length === 3) h = [...h].map((c) => c + c).join('')
  const n = Number.parseInt(h, 16)
  return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255 }
}

export function toHex({ r, g, b }: RGB): string {
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`
}

/** Mixes `with` into c by weight (0: c itself, 1: `with`). */
export function mix(c: RGB, withColor: RGB, weight: number): RGB {
  const w = Math.min(1, Math.max(0, weight))
  return {
    r: Math.round(c.r + (withColor.r - c.r) * w),
    g: Math.round(c.g + (withColor.g - c.g) * w),
    b: Math.round(c.b + (withColor.b - c.b) * w),
  }
}

/** WCAG 2 relative luminance, 0 (black) to 1 (white). */
export function luminance({ r, g, b }: RGB): number {
  const lin = (v: number) => {
    const s = v / 255
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/** WCAG 2 contrast ratio between two colours, 1 to 21. */
export function contrast(a: RGB, b: RGB): number {
  const la = luminance(a)
  const lb = luminance(b)
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05)
}

export const white: RGB = { r: 255, g: 255, b: 255 }
export const black: RGB = { r: 0, g: 0, b: 0 }
/** The dark text colour used on light brand colours (softer than pure black). */
export const ink: RGB = { r: 0x1f, g: 0x23, b: 0x29 }

/** WCAG AA for normal-size text. */
export const aaContrast = 4.5

/**
 * The text colour to put on bg: white or ink, whichever contrasts more, as long as that reaches
 * AA (4.5:1); on the mid-tones where neither does (#1677ff: 4.1 and 3.9), black or white,
 * whichever contrasts more. Every colour reaches 4.5:1 with white or with black.
 */
export function readableOn(bg: RGB): RGB {
  const w = contrast(white, bg)
  const i = contrast(ink, bg)
  if (Math.max(w, i) >= aaContrast) return w >= i ? white : ink
  return contrast(black, bg) > w ? black : white
}
