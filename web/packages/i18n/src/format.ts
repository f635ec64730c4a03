/** A text the API gives in both languages (task type and plan names). */
export interface BilingualText {
  zh: string
  en: string
}

/** The text in the locale's language, or the other one when that is empty. */
export function pickText(text: BilingualText | null | undefined, locale: string): string {
  if (!text) return ''
  return locale.startsWith('zh') ? text.zh || text.en : text.en || text.zh
}

/** Formats an amount in minor units (分) as money in the locale: ¥12.50. */
export function formatMoney(minor: number, locale: string, currency = 'CNY'): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() }).format(minor / 100)
}
