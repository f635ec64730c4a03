import type { MessageBundle } from '@paotui/ui'
import { adminEn, adminZhCN } from './messages'
import { financeEn, financeZhCN } from './views/finance/messages'
import { placesEn, placesZhCN } from './views/settings/places/messages'
import { dashboardMapEn, dashboardMapZhCN } from './views/dashboard/mapMessages'
import { taskTypesEn, taskTypesZhCN } from './views/settings/tasktypes/messages'

/** The admin screens' texts (each area keeps its own file), for mountApp to add. */
export const adminMessages: MessageBundle[] = [
  { 'zh-CN': adminZhCN, en: adminEn },
  { 'zh-CN': financeZhCN, en: financeEn },
  { 'zh-CN': placesZhCN, en: placesEn },
  { 'zh-CN': dashboardMapZhCN, en: dashboardMapEn },
  { 'zh-CN': taskTypesZhCN, en: taskTypesEn },
]
