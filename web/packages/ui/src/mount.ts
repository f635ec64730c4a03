import { createApp, type App, type Component } from 'vue'
import { createPaotuiI18n, pickLocale, storedLocale, type PaotuiI18n } from '@paotui/i18n'
import { applyTheme, paotuiPrimary, provideBoot, resolveBoot, themeVars, type Boot, type HostKind } from '@paotui/theme'

export interface MountOptions {
  /** The host kind the app is built for (used when the server injected nothing). */
  expect: HostKind
  /** Installs the app's own plugins (router, UI kit pieces) before mounting. */
  setup?: (app: App, boot: Boot) => void
  /** Shown as the page title when the server did not set one (vite dev). */
  title?: (boot: Boot) => string
  selector?: string
}

/**
 * Starts a surface: reads the boot data (injected, or the branding endpoint), applies the
 * tenant's colours, sets up i18n in the remembered or the tenant's language, provides the boot
 * data and mounts root.
 */
export async function mountApp(root: Component, opts: MountOptions): Promise<{ app: App; boot: Boot; i18n: PaotuiI18n }> {
  const boot = await resolveBoot({ expect: opts.expect })
  applyTheme(themeVars(boot.tenant?.branding ?? { primaryColor: paotuiPrimary }))
  const locale = pickLocale(storedLocale(), boot.locale)
  const i18n = createPaotuiI18n(locale)
  document.documentElement.lang = locale
  if (!document.title && opts.title) document.title = opts.title(boot)
  const app = createApp(root)
  provideBoot(app, boot)
  app.use(i18n)
  opts.setup?.(app, boot)
  app.mount(opts.selector ?? '#app')
  return { app, boot, i18n }
}
