// @paotui/theme: the tenant's brand on every surface. Reads what the server injected
// (window.__PAOTUI__) or the branding endpoint, turns the brand colour into CSS variables with
// derived shades and a readable text colour, and hands the tenant to the apps.
export { parseHex, toHex, mix, luminance, contrast, readableOn, white, black, ink, type RGB } from './color'
export { themeVars, applyTheme, defaultPrimary, paotuiPrimary, type ThemeInput } from './theme'
export {
  readBoot,
  resolveBoot,
  isPaused,
  provideBoot,
  useBoot,
  useTenant,
  type Boot,
  type BootTenant,
  type TenantBranding,
  type HostKind,
  type ResolveOptions,
} from './boot'
