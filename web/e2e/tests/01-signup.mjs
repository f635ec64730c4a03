// A campus team signs up on the base host (free plan "campus") and reaches its admin.
import { assert, waitFor } from '../lib.mjs'

export default async function ({ server, browser }) {
  const page = await browser.page()
  await page.goto(server.origin() + '/')
  await page.getByTestId('plan-campus').waitFor()
  await browser.assertFits(page, 'the landing')
  await browser.screenshot(page, 'landing')

  await page.getByTestId('choose-campus').click()
  await page.getByTestId('signup-form').waitFor()
  assert(await page.getByTestId('plan-radio-campus').isChecked(), 'the plan chosen on the landing is preselected')

  // Nothing filled in: the form says what is missing without asking the server.
  let signupRequests = 0
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/signup') signupRequests += 1
  })
  await page.getByTestId('signup-submit').click()
  await waitFor(async () => (await page.getByTestId('team-name-error').textContent())?.trim(), { what: 'a team name error' })
  assert((await page.getByTestId('phone-error').textContent())?.trim(), 'the empty phone is flagged')
  assert(signupRequests === 0, 'an invalid form is not sent')
  await browser.screenshot(page, 'empty-form-errors')

  // Live availability: taken, reserved, then a free one.
  const status = page.getByTestId('subdomain-status')
  const expectState = async (slug, state) => {
    await page.getByTestId('subdomain').fill(slug)
    await waitFor(async () => (await status.getAttribute('data-state')) === state, { what: `${slug} to be ${state}` })
  }
  await expectState('demo', 'unavailable')
  await expectState('www', 'unavailable')
  await expectState('a', 'unavailable')
  const slug = `e2e${Date.now().toString(36)}`
  await expectState(slug, 'available')

  const phone = `139${String(Date.now()).slice(-8)}`
  await page.getByTestId('team-name').fill('北苑跑腿社')
  await page.getByTestId('school').fill('北苑大学')
  await page.getByTestId('phone').fill(phone)
  const since = server.mark()
  await page.getByTestId('send-code').click()
  const code = await server.smsCode(phone, since)
  await waitFor(async () => await page.getByTestId('send-code').isDisabled(), { what: 'the resend countdown' })
  await page.getByTestId('sms-code').fill(code)
  await browser.assertFits(page, 'the signup form')
  await browser.screenshot(page, 'filled-form')

  await page.getByTestId('signup-submit').click()
  await page.waitForURL(/\/signup\/[0-9a-f-]{36}$/)
  const open = page.getByTestId('open-admin')
  await open.waitFor({ timeout: 60000 })
  await browser.screenshot(page, 'ready')

  const href = await open.getAttribute('href')
  assert(href && new URL(href).hostname === `${slug}.localhost`, `the admin link points at the new subdomain (got ${href})`)
  await open.click()
  await page.waitForURL((u) => u.hostname === `${slug}.localhost` && u.pathname.startsWith('/admin'))
  const boot = await page.evaluate(() => window.__PAOTUI__)
  assert(boot?.tenant?.slug === slug, `the admin is served for the new tenant (boot ${JSON.stringify(boot?.tenant)})`)
  assert(boot.tenant.name === '北苑跑腿社', `the admin carries the team's name (got ${boot.tenant.name})`)
  await page.waitForLoadState('networkidle')
  await browser.screenshot(page, 'admin')

  // A progress page for a signup that does not exist says so instead of spinning.
  const lost = await browser.page()
  await lost.goto(server.origin() + '/signup/00000000-0000-4000-8000-000000000000')
  const problem = lost.getByTestId('progress-problem')
  await problem.waitFor()
  assert((await problem.getAttribute('data-code')) === 'signup_not_found', `unknown signup: got ${await problem.getAttribute('data-code')}`)

  // The signup made the phone the tenant's owner.
  const session = await server.login(slug, phone)
  const roles = session.user?.roles ?? []
  assert(roles.includes('owner'), `the signup phone is the owner (roles ${JSON.stringify(roles)})`)
}
