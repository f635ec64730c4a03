import { black, mix, parseHex, readableOn, toHex, white, type RGB } from './color'

/** The brand colour used when a tenant has none or an invalid one (the API's default). */
export const defaultPrimary = '#1677ff'
/** Paotui's own colour, for the pages that belong to no team (the site, the platform panel). */
export const paotuiPrimary = '#0958d9'

export interface ThemeInput {
  primaryColor?: string | null
  accentColor?: string | null
}

/**
 * The CSS custom properties of a tenant's theme. Apps map them onto their UI kit
 * (--van-primary-color, --el-color-primary and its light/dark steps), so one set of variables
 * brands every surface:
 *   --pt-primary, --pt-primary-rgb ("r, g, b" for rgba()), --pt-on-primary (readable text),
 *   --pt-primary-light-3/5/7/8/9 (mixed with white 30-90 %), --pt-primary-dark-2 (20 % black),
 *   --pt-accent, --pt-on-accent.
 */
export function themeVars(input: ThemeInput): Record<string, string> {
  const primary = parseHex(input.primaryColor) ?? parseHex(defaultPrimary)!
  const accent = parseHex(input.accentColor) ?? primary
  const vars: Record<string, string> = {
    '--pt-primary': toHex(primary),
    '--pt-primary-rgb': rgbList(primary),
    '--pt-on-primary': toHex(readableOn(primary)),
    '--pt-primary-dark-2': toHex(mix(primary, black, 0.2)),
    '--pt-accent': toHex(accent),
    '--pt-on-accent': toHex(readableOn(accent)),
  }
  for (const step of [3, 5, 7, 8, 9]) vars[`--pt-primary-light-${step}`] = toHex(mix(primary, white, step / 10))
  return vars
}

/** Sets the variables on root (the document element by default) and the browser's theme colour. */
export function applyTheme(vars: Record<string, string>, root: HTMLElement = document.documentElement): void {
  for (const [k, v] of Object.entries(vars)) root.style.setProperty(k, v)
  const primary = vars['--pt-primary']
  if (primary && typeof document !== 'undefined') {
    let meta = document.querySelector<HTMLMetaElement>('meta[name="theme-color"]')
    if (!meta) {
      meta = document.createElement('meta')
      meta.name = 'theme-color'
      document.head.appendChild(meta)
    }
    meta.content = primary
  }
}

function rgbList(c: RGB): string {
  return `${c.r}, ${c.g}, ${c.b}`
}
