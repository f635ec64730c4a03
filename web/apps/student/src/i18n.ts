import type { MessageBundle } from '@paotui/ui'
import { stEn, stZhCN } from './messages'
import { studentMapEn, studentMapZhCN } from './mapMessages'

/** The student screens' texts (under `st`), for mountApp to add to the shared i18n. */
export const studentMessages: MessageBundle[] = [
  { 'zh-CN': { st: stZhCN }, en: { st: stEn } },
  { 'zh-CN': studentMapZhCN, en: studentMapEn },
]
