// Two tenants with different colours each render their own brand, from the first paint
// (colours injected into index.html) on the student app and the admin.
import { assert, waitFor } from '../lib.mjs'

const teams = [
  { slug: 'e2e-red', name: '红枫跑腿', phone: '13700000001', primaryColor: '#d4380d', accentColor: '#faad14' },
  { slug: 'e2e-green', name: '青竹跑腿', phone: '13700000002', primaryColor: '#389e0d', accentColor: '#13c2c2' },
]

export default async function ({ server, browser }) {
  for (const team of teams) {
    server.cli('tenant', 'create', '--slug', team.slug, '--name', team.name, '--owner-phone', team.phone, '--wait', '2m')
    const { accessToken } = await server.login(team.slug, team.phone)
    await server.api(`${team.slug}.localhost`, 'PUT', '/api/v1/admin/branding', {
      token: accessToken,
      body: { name: team.name, primaryColor: team.primaryColor, accentColor: team.accentColor },
    })
  }

  for (const team of teams) {
    for (const app of ['/', '/admin/']) {
      const page = await browser.page(app === '/' ? {} : { width: 1280, height: 800 })
      const url = server.origin(team.slug) + app
      // The server caches tenants briefly; the new colours arrive once the update is seen.
      await waitFor(
        async () => {
          await page.goto(url)
          const primary = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--pt-primary').trim())
          return primary.toLowerCase() === team.primaryColor
        },
        { timeout: 20000, interval: 500, what: `${url} to show ${team.primaryColor}` },
      )
      const boot = await page.evaluate(() => window.__PAOTUI__)
      assert(boot?.tenant?.slug === team.slug, `${url} is served for ${team.slug} (got ${boot?.tenant?.slug})`)
      assert(boot.tenant.branding?.primaryColor?.toLowerCase() === team.primaryColor, `${url} injects the brand colour in the page`)
      const title = await page.title()
      assert(title.includes(team.name), `${url}: the title names the team (got ${JSON.stringify(title)})`)
      await page.waitForLoadState('networkidle')
      await browser.screenshot(page, `${team.slug}${app === '/' ? '-student' : '-admin'}`)
    }
  }
}
