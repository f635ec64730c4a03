// One errand end to end on the demo campus: the owner sets the price in the admin, then, in two
// phones side by side, the courier goes online in the hall, the student orders a parcel pickup
// at that price and pays from the wallet, the order shows up in the hall live, the courier
// grabs, picks up with the student's pickup code and delivers with the delivery code, and the
// student's order page follows every step without a reload, then confirms and rates. Back in
// the admin, the order is completed and today's figures moved.
import { assert, input, settled, signInBySms, waitFor } from '../lib.mjs'

const slug = 'demo'
const host = `${slug}.localhost`
const owner = '13800000000'
const studentPhone = '13900000001'
const courierPhone = '13700000001'
const taskType = 'parcel_pickup'
const pickupCode = 'E2E-4711'
// A flat price: no distance fee anywhere on the campus (under 2 km across), so the total is
// known. The API sets ¥3.00 as the starting point; the owner raises it to ¥5.00 in the admin.
const pricing = { baseFee: 300, includedMeters: 5000, perKmFee: 100, minFee: 300, sizeFees: { small: 0, medium: 100, large: 300 } }
const price = 500
// Every day, all day: the test must not depend on the clock.
const allDay = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]))

/** Today's completed orders and GMV (分) as the admin dashboard shows them. */
async function figures(page) {
  const completed = Number(((await page.locator('[data-testid=fig-completed] .el-statistic__content').textContent()) ?? '').replace(/[^\d]/g, ''))
  const gmvText = (await page.locator('[data-testid=fig-gmv] .fig__value').textContent()) ?? ''
  const gmv = Math.round(Number(gmvText.replace(/[^\d.]/g, '')) * 100)
  assert(Number.isFinite(completed) && Number.isFinite(gmv), `dashboard figures: ${completed} / ${JSON.stringify(gmvText)}`)
  return { completed, gmv }
}

/** Waits until the element of testid carries data-status="status". */
function statusIs(page, testid, status) {
  return page.locator(`[data-testid=${testid}][data-status=${status}]`).waitFor({ timeout: 20000 })
}

export default async function ({ server, browser }) {
  // Staff side through the API: a known price, and money in the student's wallet.
  const { accessToken: ownerToken } = await server.login(slug, owner)
  const types = await server.api(host, 'GET', '/api/v1/admin/task-types', { token: ownerToken })
  const tt = (types.items ?? types).find((t) => t.key === taskType)
  assert(tt, `the demo tenant has the ${taskType} task type`)
  await server.api(host, 'PUT', `/api/v1/admin/task-types/${taskType}`, {
    token: ownerToken,
    body: { name: tt.name, enabled: true, fields: tt.fields, pricing, serviceHours: allDay, version: tt.version },
  })
  const { accessToken: studentToken } = await server.login(slug, studentPhone)
  const me = await server.api(host, 'GET', '/api/v1/me', { token: studentToken })
  const topup = await server.request(host, 'POST', `/api/v1/users/${me.id}/wallet/topups`, {
    token: ownerToken,
    body: { amount: 10000, reason: 'e2e errand test' },
  })
  assert(topup.status >= 200 && topup.status < 300, `staff top-up: got ${topup.status}: ${topup.text.slice(0, 300)}`)
  // Task types may be served from a short cache: wait until students see the new price.
  await waitFor(
    async () => {
      const list = await server.api(host, 'GET', '/api/v1/task-types', { token: studentToken })
      return list.items.find((t) => t.key === taskType)?.pricing.baseFee === pricing.baseFee
    },
    { timeout: 20000, interval: 500, what: 'the new price on the student task types' },
  )
  // The owner signs in to the admin by SMS, notes today's figures and sets the price.
  const admin = await browser.page({ width: 1280, height: 900 })
  await admin.goto(server.origin(slug) + '/admin/login')
  await admin.locator('[data-testid=login-mode] label', { has: admin.locator('input[value=sms]') }).click()
  await signInBySms(server, admin, owner)
  await admin.waitForURL((u) => u.pathname === '/admin/' || u.pathname === '/admin')
  await admin.locator('[data-testid=fig-completed]').waitFor()
  await settled(admin)
  const before = await figures(admin)
  await browser.screenshot(admin, 'admin-dashboard-before')

  await admin.goto(server.origin(slug) + '/admin/settings/pricing')
  await admin.locator('[data-testid=pricing-task-type]').click()
  const typeName = typeof tt.name === 'string' ? tt.name : tt.name['zh-CN'] ?? Object.values(tt.name)[0]
  await admin.locator('.el-select-dropdown__item', { hasText: typeName }).click()
  const baseFee = input(admin, 'pricing-base-fee')
  await baseFee.fill((price / 100).toFixed(2))
  await baseFee.press('Tab')
  await waitFor(async () => ((await admin.locator('[data-testid=preview-total]').textContent()) ?? '').includes('5.00'), {
    what: 'the live preview to show ¥5.00',
  })
  await admin.locator('[data-testid=pricing-save]').click()
  await admin.locator('[data-testid=pricing-saved]').waitFor()
  await browser.screenshot(admin, 'admin-pricing')
  await waitFor(
    async () => {
      const list = await server.api(host, 'GET', '/api/v1/task-types', { token: studentToken })
      return list.items.find((t) => t.key === taskType)?.pricing.baseFee === price
    },
    { timeout: 20000, interval: 500, what: "the admin's price on the student task types" },
  )

  const places = (await server.api(host, 'GET', '/api/v1/places?limit=200', { token: studentToken })).items.filter((p) => p.enabled)
  assert(places.length >= 2, `the demo campus has places (got ${places.length})`)
  const near = places[0].at

  // The courier signs in and goes online in the hall before the order exists.
  const courier = await browser.page({
    geolocation: { latitude: near.lat, longitude: near.lng, accuracy: 10 },
    permissions: ['geolocation'],
  })
  await courier.goto(server.origin(slug) + '/courier/login')
  await signInBySms(server, courier, courierPhone)
  await courier.waitForURL(/\/courier\/hall/)
  await courier.locator('[data-testid=online-toggle]').click()
  await courier.locator('[data-testid=online-toggle][aria-pressed=true]').waitFor()
  await courier.locator('[data-testid=tracking-state][data-state=ok]').waitFor({ timeout: 20000 })
  await courier.locator('[data-testid=hall-live].hall__live--on').waitFor()
  await browser.assertFits(courier, 'courier hall')
  await browser.screenshot(courier, 'courier-online')

  // The student signs in, picks the task type and fills its form.
  const student = await browser.page()
  await student.goto(server.origin(slug) + '/login')
  await signInBySms(server, student, studentPhone)
  await student.locator(`[data-testid=task-type-${taskType}]`).click()
  await student.waitForURL(new RegExp(`/new/${taskType}$`))
  await student.locator('[data-testid=order-pickup] select').selectOption(places[0].id)
  await student.locator('[data-testid=order-dropoff] select').selectOption(places[1].id)
  await student.locator(`[data-testid=order-field-pickup_code] input`).fill(pickupCode)
  await student.locator(`[data-testid=order-field-parcel_count] input`).fill('2')
  await student.locator('[data-testid=quote-button]').click()
  const total = student.locator('[data-testid=quote-total]')
  await total.waitFor()
  const totalText = (await total.textContent()) ?? ''
  assert(totalText.includes('5.00'), `the quote shows the ¥5.00 price the owner set in the admin (got ${JSON.stringify(totalText)})`)
  await browser.assertFits(student, 'order form')
  await browser.screenshot(student, 'student-quote')

  await student.locator('[data-testid=pay-button]').click()
  await student.waitForURL(/\/orders\/[^/]+$/)
  const orderId = student.url().split('/').pop()
  await statusIs(student, 'order-status', 'awaiting_courier')
  const deliveryCode = ((await student.locator('[data-testid=delivery-code]').textContent()) ?? '').trim()
  assert(/^\d{4,6}$/.test(deliveryCode), `the order page shows the delivery code (got ${JSON.stringify(deliveryCode)})`)
  // Lost on a reload: proves the later steps arrived live.
  await student.evaluate(() => (window.__e2eNoReload = true))
  await browser.screenshot(student, 'student-awaiting')

  // The order arrives in the courier's hall through the stream; the courier grabs it.
  const item = courier.locator(`[data-testid=hall-item][data-order-id="${orderId}"]`)
  await item.waitFor({ timeout: 20000 })
  await browser.screenshot(courier, 'courier-hall-order')
  await item.locator('[data-testid=grab-button]').click()
  // The courier walks towards the pickup: the phone reports a new fix every second.
  let step = 0
  const walking = setInterval(() => {
    step += 1
    void courier
      .context()
      .setGeolocation({ latitude: near.lat + step * 0.00002, longitude: near.lng, accuracy: 10 })
      .catch(() => {})
  }, 1000)
  walking.unref?.()
  await courier.waitForURL(new RegExp(`/courier/trips/${orderId}$`))
  await statusIs(courier, 'trip-status', 'accepted')
  const shownCode = await courier.locator('[data-testid=trip-form-pickup_code]').textContent()
  assert(shownCode?.includes(pickupCode), `the trip shows the student's pickup code (got ${JSON.stringify(shownCode)})`)
  await browser.screenshot(courier, 'courier-accepted')
  await statusIs(student, 'order-status', 'accepted')
  await browser.screenshot(student, 'student-accepted')

  await input(courier, 'pickup-code').fill(pickupCode)
  await courier.locator('[data-testid=pickup-button]').click()
  await statusIs(courier, 'trip-status', 'picked_up')
  await browser.screenshot(courier, 'courier-picked-up')
  await statusIs(student, 'order-status', 'picked_up')
  // The courier's phone reports its position while carrying the order: it shows on the
  // student's map (a ping every tracking.ping_interval, 2 s by default).
  await student.locator('[data-testid=order-map][data-courier=shown]').waitFor({ timeout: 20000 })
  await student.locator('[data-testid=order-map] .pt-map__pin--courier').waitFor()
  await browser.screenshot(student, 'student-picked-up')

  await input(courier, 'delivery-code').fill(deliveryCode)
  await courier.locator('[data-testid=deliver-button]').click()
  await statusIs(courier, 'trip-status', 'delivered')
  clearInterval(walking)
  await browser.screenshot(courier, 'courier-delivered')
  await statusIs(student, 'order-status', 'delivered')
  assert(await student.evaluate(() => window.__e2eNoReload === true), 'the student page followed the trip without reloading')
  await browser.screenshot(student, 'student-delivered')

  // The student confirms receipt (asked in a dialog) and rates the courier.
  await student.locator('[data-testid=order-confirm]').click()
  await student.locator('.van-dialog__confirm').click()
  await statusIs(student, 'order-status', 'completed')
  await student.locator('[data-testid=order-rating] .van-rate__item').nth(3).click()
  await student.locator('[data-testid=order-comment] textarea').fill('准时送达,谢谢!')
  await student.locator('[data-testid=order-submit-review]').click()
  await student.locator('[data-testid=order-reviewed]').waitFor()
  await browser.assertFits(student, 'completed order')
  await browser.screenshot(student, 'student-completed')

  const done = await server.api(host, 'GET', `/api/v1/orders/${orderId}`, { token: studentToken })
  assert(done.status === 'completed', `the order is completed (got ${done.status})`)
  assert(done.paidAmount === price, `the order was paid at the quoted ¥5.00 (got ${done.paidAmount})`)
  const wallet = await server.api(host, 'GET', '/api/v1/me/wallet', { token: studentToken })
  assert(wallet.balance === 10000 - price, `the wallet paid for it (balance ${wallet.balance})`)
  // The rating reached the server: a second one is refused as already given.
  const again = await server.request(host, 'POST', `/api/v1/orders/${orderId}/review`, { token: studentToken, body: { rating: 5 } })
  assert(again.json?.code === 'order_already_reviewed', `the review was saved (a second one got ${again.status} ${again.json?.code})`)

  // The admin sees the order completed, and today's figures count it.
  await admin.goto(server.origin(slug) + '/admin/')
  await waitFor(
    async () => {
      await admin.reload()
      await admin.locator('[data-testid=fig-completed]').waitFor()
      await settled(admin)
      const now = await figures(admin)
      return now.completed === before.completed + 1 && now.gmv === before.gmv + price
    },
    { timeout: 20000, interval: 1000, what: 'the dashboard to count the completed ¥5.00 order' },
  )
  // The trend has a point today, so the chart is drawn (not the empty state).
  await admin.locator('[data-testid=trend-chart] canvas').waitFor()
  await browser.screenshot(admin, 'admin-dashboard-after')
  await admin.goto(server.origin(slug) + '/admin/orders')
  await admin.locator(`[data-testid="order-${done.number}"]`).click()
  await admin.locator('[data-testid=order-drawer] [data-testid=order-status]', { hasText: 'completed' }).waitFor()
  await browser.screenshot(admin, 'admin-order-completed')
}
