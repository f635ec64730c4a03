// @paotui/i18n: the screens' texts in zh-CN (default) and en, the choice of locale, and the
// texts of the API's problem codes.
import { createI18n, useI18n } from 'vue-i18n'
import { toProblem } from '@paotui/api'
import { zhCN } from './messages.zh-CN'
import { en, type Messages } from './messages.en'

export type { Messages }
export { zhCN, en }
export { problemsZhCN } from './problems.zh-CN'
export { problemsEn } from './problems.en'

export const locales = ['zh-CN', 'en'] as const
export type Locale = (typeof locales)[number]
export const defaultLocale: Locale = 'zh-CN'

/** Where the user's choice of language is kept between visits. */
export const localeStorageKey = 'paotui.locale'

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (locales as readonly string[]).includes(v)
}

/**
 * The locale to start with: the user's earlier choice, else the one the server put in the
 * page (the tenant's default), else zh-CN.
 */
export function pickLocale(stored?: string | null, fromServer?: string | null): Locale {
  if (isLocale(stored)) return stored
  if (isLocale(fromServer)) return fromServer
  return defaultLocale
}

export function createPaotuiI18n(locale: Locale = defaultLocale) {
  return createI18n<[Messages], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: defaultLocale,
    messages: { 'zh-CN': zhCN, en },
  })
}

export type PaotuiI18n = ReturnType<typeof createPaotuiI18n>

/** Switches the language, remembers it and tells the page (lang drives fonts and screen readers). */
export function setLocale(i18n: PaotuiI18n, locale: Locale): void {
  i18n.global.locale.value = locale
  rememberLocale(locale)
}

/** Keeps the choice for the next visit and sets the document's lang. */
export function rememberLocale(locale: Locale): void {
  try {
    globalThis.localStorage?.setItem(localeStorageKey, locale)
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

/** The stored choice of language, if any. */
export function storedLocale(): string | null {
  try {
    return globalThis.localStorage?.getItem(localeStorageKey) ?? null
  } catch {
    return null
  }
}

interface Translator {
  t: (key: string) => string
  te: (key: string) => boolean
}

/**
 * The text to show for a problem (or any error value): the translation of its code, else the
 * server's detail, else its title, else a generic text. Unknown codes come from a server newer
 * than this page; its detail is English but still says what went wrong.
 */
export function problemMessage(i18n: Translator, error: unknown): string {
  const p = toProblem(error)
  const key = `problems.${p.code}`
  if (/^[a-z0-9_]+$/.test(p.code) && i18n.te(key)) return i18n.t(key)
  return p.detail || p.title || i18n.t('problems.error')
}

/** problemMessage bound to the component's i18n. */
export function useProblemMessage(): (error: unknown) => string {
  const { t, te } = useI18n()
  return (error) => problemMessage({ t: (k) => t(k), te: (k) => te(k) }, error)
}

export { pickText, formatMoney, type BilingualText } from './format'
