// The super-admin suspends the demo tenant from the platform panel with a reason; its students
// and couriers then see the branded "service paused" page instead of their screens, and the
// API refuses them. Resuming from the panel brings the apps back.
import { assert, input, signInBySms } from '../lib.mjs'

const slug = 'demo'
const host = `${slug}.localhost`
const studentPhone = '13900000002'

export default async function ({ server, browser, admin }) {
  // A student signed in before the pause, on the home screen.
  const { accessToken: studentToken } = await server.login(slug, studentPhone)
  const student = await browser.page()
  await student.goto(server.origin(slug) + '/login')
  await signInBySms(server, student, studentPhone)
  await student.locator('[data-testid^=task-type-]').first().waitFor()

  // The platform admin signs in on admin.<base> and suspends the tenant from its drawer.
  const panel = await browser.page({ width: 1280, height: 900 })
  await panel.goto(server.origin('admin') + '/login')
  await input(panel, 'login-email').fill(admin.email)
  await input(panel, 'login-password').fill(admin.password)
  await panel.locator('[data-testid=login-submit]').click()
  await panel.waitForURL((u) => u.hostname === 'admin.localhost' && u.pathname === '/')
  await panel.goto(server.origin('admin') + '/tenants')
  await panel.locator(`[data-testid=tenant-${slug}]`).click()
  const drawer = panel.locator('[data-testid=tenant-drawer]')
  await drawer.locator('[data-testid=tenant-status]', { hasText: 'active' }).waitFor()
  await drawer.locator('[data-testid=tenant-suspend]').click()
  // A reason is required: the form refuses to send without one.
  await drawer.locator('[data-testid=tenant-confirm]').click()
  await drawer.locator('.el-form-item__error').waitFor()
  await input(drawer, 'tenant-reason').fill('e2e: 逾期未付款')
  await browser.screenshot(panel, 'platform-suspend-reason')
  await drawer.locator('[data-testid=tenant-confirm]').click()
  await drawer.locator('[data-testid=tenant-status]', { hasText: 'suspended' }).waitFor()
  await browser.screenshot(panel, 'platform-suspended')

  // The student's next page load shows the paused page, in the tenant's name; so does the
  // courier app; the API refuses the student's token.
  await student.reload()
  const paused = student.locator('[data-testid=paused-page]')
  await paused.waitFor()
  const text = (await paused.textContent()) ?? ''
  assert(text.includes('演示大学跑腿'), `the paused page names the team (got ${JSON.stringify(text.slice(0, 200))})`)
  assert((await student.locator('[data-testid^=task-type-]').count()) === 0, 'no order screen behind the paused page')
  await browser.assertFits(student, 'paused page')
  await browser.screenshot(student, 'student-paused')
  const courier = await browser.page()
  await courier.goto(server.origin(slug) + '/courier/')
  await courier.locator('[data-testid=paused-page]').waitFor()
  await browser.screenshot(courier, 'courier-paused')
  const refused = await server.request(host, 'GET', '/api/v1/me/wallet', { token: studentToken })
  assert(refused.status === 403 && refused.json?.code === 'tenant_suspended', `the API refuses a paused tenant (got ${refused.status} ${refused.json?.code})`)

  // Resumed from the panel, the student's screens come back.
  await drawer.locator('[data-testid=tenant-resume]').click()
  await input(drawer, 'tenant-reason').fill('e2e: 已付款')
  await drawer.locator('[data-testid=tenant-confirm]').click()
  await drawer.locator('[data-testid=tenant-status]', { hasText: 'active' }).waitFor()
  await student.reload()
  await student.locator('[data-testid^=task-type-]').first().waitFor()
  await browser.screenshot(student, 'student-resumed')
}
