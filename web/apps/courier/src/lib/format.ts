// Display helpers bound to the current locale, so templates stay short.
import { useI18n } from 'vue-i18n'
import { formatMoney } from '@paotui/i18n'

/** "2026-11-25 12:03" style in the user's locale; empty for a missing or bad timestamp. */
export function formatTime(iso: string | undefined, locale: string): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  return new Intl.DateTimeFormat(locale, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }).format(d)
}

export function useFormat() {
  const { locale } = useI18n()
  return {
    money: (minor: number) => formatMoney(minor, locale.value),
    time: (iso?: string) => formatTime(iso, locale.value),
  }
}
