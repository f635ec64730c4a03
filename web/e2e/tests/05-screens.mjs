// Every screen the other tests do not drive opens without errors and shows its content, at the
// width it is made for: the admin's finance, staff, users, places (with the zones map and the
// service hours), branding and billing at 1280 px; the student's wallet and the courier's
// earnings at 375 px; the platform's plans and job health. The task-type order is changed
// through its screen. The runner fails the test on any
// console error, so a screen that throws while rendering fails here. Each screen is also checked
// with axe-core against WCAG 2.1 A and AA: a serious or critical violation fails the test.
import { a11yViolations, assert, input, settled, signInBySms, waitFor } from '../lib.mjs'

const slug = 'demo'
const owner = '13800000000'

export default async function ({ server, browser, admin }) {
  const violations = []
  const a11y = async (page, name) => {
    for (const v of await a11yViolations(page)) violations.push(`${name}: ${v}`)
  }
  const page = await browser.page({ width: 1280, height: 900 })
  await page.goto(server.origin(slug) + '/admin/login')
  await page.locator('[data-testid=login-mode] label', { has: page.locator('input[value=sms]') }).click()
  await signInBySms(server, page, owner)
  await page.waitForURL((u) => u.pathname === '/admin/' || u.pathname === '/admin')

  const screens = [
    ['finance', '/admin/finance', '[data-testid=fin-balance-wallet]'],
    ['staff', '/admin/staff', '[data-testid=staff-table] .el-table__row'],
    ['users', '/admin/users', '[data-testid=users-search]'],
    ['task-types', '/admin/settings/task-types', '[data-testid=tasktype-up-parcel_pickup]'],
    ['places', '/admin/settings/places?tab=places', '[data-testid=places-table] .el-table__row'],
    ['zones', '/admin/settings/places?tab=zones', '[data-testid=map] .pt-map__zone'],
    ['hours', '/admin/settings/places?tab=hours', '[data-testid=hours-save]'],
    ['branding', '/admin/settings/branding', '[data-testid=branding-primary]'],
    ['billing', '/admin/billing', 'main, .el-main'],
  ]
  for (const [name, path, ready] of screens) {
    await page.goto(server.origin(slug) + path)
    await page.locator(ready).first().waitFor()
    await settled(page)
    await a11y(page, `admin ${name}`)
    await browser.screenshot(page, `admin-${name}`)
  }
  // Moving a task type down reorders it for students.
  await page.goto(server.origin(slug) + '/admin/settings/task-types')
  const { accessToken } = await server.login(slug, '13900000006')
  const order = async () => (await server.api(`${slug}.localhost`, 'GET', '/api/v1/task-types', { token: accessToken })).items.map((x) => x.key)
  const before = await order()
  await page.locator(`[data-testid=tasktype-down-${before[0]}]`).click()
  await page.locator(`[data-testid=tasktype-up-${before[0]}]:not([disabled])`).waitFor()
  // Students may see the list from a short cache: wait for the new order.
  await waitFor(
    async () => {
      const after = await order()
      return after[0] === before[1] && after[1] === before[0]
    },
    { timeout: 20000, interval: 500, what: `${before[0]} to move below ${before[1]} for students` },
  )

  // The demo campus draws its zone without tiles (none configured) and says so.
  await page.goto(server.origin(slug) + '/admin/settings/places?tab=zones')
  const map = page.locator('[data-testid=map]').first()
  await map.waitFor()
  assert((await map.getAttribute('data-tiles')) === 'none', 'the demo campus has no tile server: the map is drawn plain')
  await page.locator('[data-testid=map-no-tiles]').first().waitFor()

  // The branding form shows the brand colour the server has, ready to edit.
  await page.goto(server.origin(slug) + '/admin/settings/branding')
  const primary = await input(page, 'branding-primary').inputValue()
  assert(/^#[0-9a-fA-F]{6}$/.test(primary), `the branding form shows the primary colour (got ${JSON.stringify(primary)})`)

  // The student's wallet and the courier's earnings, on phones.
  const student = await browser.page()
  await student.goto(server.origin(slug) + '/login')
  await signInBySms(server, student, '13900000003')
  await student.locator('[data-testid^=task-type-]').first().waitFor()
  await student.goto(server.origin(slug) + '/me')
  await student.locator('[data-testid=wallet-balance]').waitFor()
  await student.locator('[data-testid=wallet-topup]').waitFor()
  await browser.assertFits(student, 'wallet')
  await a11y(student, 'student wallet')
  await browser.screenshot(student, 'student-wallet')

  const courier = await browser.page()
  await courier.goto(server.origin(slug) + '/courier/login')
  await signInBySms(server, courier, '13700000002')
  await courier.waitForURL(/\/courier\/(hall|me)/)
  await courier.goto(server.origin(slug) + '/courier/earnings')
  await courier.locator('[data-testid=earnings-balance]').waitFor()
  await browser.assertFits(courier, 'earnings')
  await a11y(courier, 'courier earnings')
  await browser.screenshot(courier, 'courier-earnings')

  // The platform's plans and job health.
  const panel = await browser.page({ width: 1280, height: 900 })
  await panel.goto(server.origin('admin') + '/login')
  await input(panel, 'login-email').fill(admin.email)
  await input(panel, 'login-password').fill(admin.password)
  await panel.locator('[data-testid=login-submit]').click()
  await panel.waitForURL((u) => u.hostname === 'admin.localhost' && u.pathname === '/')
  await panel.goto(server.origin('admin') + '/plans')
  await panel.locator('[data-testid=plans-table]').waitFor()
  await panel.locator('[data-testid=plan-create]').waitFor()
  await a11y(panel, 'platform plans')
  await browser.screenshot(panel, 'platform-plans')
  await panel.goto(server.origin('admin') + '/jobs')
  await settled(panel)
  await a11y(panel, 'platform jobs')
  await browser.screenshot(panel, 'platform-jobs')

  // The pages the flows drive, at rest: the site, sign-in and the student's home and orders.
  const site = await browser.page()
  await site.goto(server.origin())
  await site.locator('[data-testid=hero-signup]').waitFor()
  await a11y(site, 'site landing')
  await student.goto(server.origin(slug) + '/')
  await student.locator('[data-testid^=task-type-]').first().waitFor()
  await a11y(student, 'student home')
  const signin = await browser.page()
  await signin.goto(server.origin(slug) + '/login')
  await signin.locator('[data-testid=login-submit]').waitFor()
  await a11y(signin, 'student sign-in')
  await page.goto(server.origin(slug) + '/admin/')
  await page.locator('[data-testid=fig-completed]').waitFor()
  await settled(page)
  await a11y(page, 'admin dashboard')
  await page.goto(server.origin(slug) + '/admin/orders')
  await settled(page)
  await a11y(page, 'admin orders')
  await page.goto(server.origin(slug) + '/admin/settings/pricing')
  await settled(page)
  await a11y(page, 'admin pricing')
  assert(violations.length === 0, `accessibility (axe-core, WCAG 2.1 AA), serious or critical:\n  ${violations.join('\n  ')}`)
}
