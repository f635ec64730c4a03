import { useI18n } from 'vue-i18n'
import { stEn, stZhCN } from './messages'
import { studentMapEn, studentMapZhCN } from './mapMessages'

/**
 * Adds the student screens' texts (under `st`) to the shared i18n instance. Called from the
 * root component's setup, before any page renders; @paotui/ui's mountApp creates the
 * instance and gives the app no hook into it before mounting.
 */
export function useStudentMessages(): void {
  const { mergeLocaleMessage, te } = useI18n({ useScope: 'global' })
  if (te('st.tabs.home', 'en')) return
  mergeLocaleMessage('zh-CN', { st: stZhCN } as never)
  mergeLocaleMessage('en', { st: stEn } as never)
  mergeLocaleMessage('zh-CN', studentMapZhCN as never)
  mergeLocaleMessage('en', studentMapEn as never)
}
