import { createApp, type App, type Component } from 'vue'
import { createPaotuiI18n, locales, pickLocale, storedLocale, type PaotuiI18n } from '@paotui/i18n'
import { applyTheme, paotuiPrimary, provideBoot, resolveBoot, themeVars, type Boot, type HostKind } from '@paotui/theme'

/** Texts an app adds to the shared ones (its screens' own), in every locale. */
export type MessageBundle = Record<(typeof locales)[number], Record<string, unknown>>

export interface MountOptions {
  /** The app's own texts, merged into the shared i18n before anything renders. */
  messages?: readonly MessageBundle[]
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
  for (const bundle of opts.messages ?? []) {
    for (const l of locales) i18n.global.mergeLocaleMessage(l, bundle[l] as never)
  }
  document.documentElement.lang = locale
  if (!document.title && opts.title) document.title = opts.title(boot)
  const app = createApp(root)
  provideBoot(app, boot)
  app.use(i18n)
  opts.setup?.(app, boot)
  app.mount(opts.selector ?? '#app')
  return { app, boot, i18n }
}
