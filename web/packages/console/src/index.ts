// @paotui/console: pieces the desktop consoles (admin, platform) share, built on Element Plus.
export { default as ConsoleShell } from './ConsoleShell.vue'
export type { NavItem } from './types'
export { usePagedList, type PageAnswer } from './paged'
