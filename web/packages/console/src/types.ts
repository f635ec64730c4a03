/** One screen in the console's menu. */
export interface NavItem {
  to: string
  label: string
  testid: string
}
