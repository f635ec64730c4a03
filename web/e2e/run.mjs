#!/usr/bin/env node
// Browser tests: starts `paotui serve --worker` on its own database, Redis DB and port, seeds
// it (migrate, a platform admin, the demo tenant), then runs tests/*.mjs one after another in
// headless Chromium and exits non-zero when one fails. Screenshots go to e2e/screenshots/.
//
//   node web/e2e/run.mjs [name-filter]       (make e2e)
//
// Environment (all optional):
//   PAOTUI_BIN          binary to test (default bin/paotui, built by `make build` with web/dist)
//   PAOTUI_DATABASE_URL server whose database E2E_DB is dropped and recreated (default local)
//   E2E_REDIS_URL       a Redis database to use (it is flushed); without it the runner starts a
//                       private memory-only redis-server on E2E_PORT+10000
//   E2E_DB=paotui_e2e  E2E_PORT=8124  CHROMIUM=/usr/bin/chromium
//   E2E_KEEP=1          leave the server running after the tests (for looking around)
import { readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { Browser, Server, flushRedis, freshDatabase, privateRedis } from './lib.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '../..')
const env = process.env

const port = Number(env.E2E_PORT ?? 8124)
const dbURL = new URL(env.PAOTUI_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/paotui?sslmode=disable')
dbURL.pathname = `/${env.E2E_DB ?? 'paotui_e2e'}`
const bin = path.resolve(repo, env.PAOTUI_BIN ?? 'bin/paotui')

const admin = { email: 'e2e-admin@paotui.local', password: 'e2e-admin-password' }

const serverEnv = (redisURL) => ({
  ...env,
  PAOTUI_ENV: 'development',
  PAOTUI_DATABASE_URL: dbURL.toString(),
  PAOTUI_REDIS_URL: redisURL,
  PAOTUI_HTTP_ADDR: `:${port}`,
  PAOTUI_BASE_DOMAIN: 'localhost',
  PAOTUI_LOG_FORMAT: 'json',
  PAOTUI_SMS_DRIVER: 'log',
  // Tests sign up and sign in many times from one IP within a minute.
  PAOTUI_SIGNUP_PER_IP_PER_HOUR: '1000',
  PAOTUI_SIGNUP_PER_PHONE_PER_DAY: '1000',
  PAOTUI_AUTH_SMS_PER_PHONE_PER_HOUR: '1000',
  PAOTUI_AUTH_SMS_PER_IP_PER_HOUR: '1000',
  PAOTUI_AUTH_SMS_RESEND_INTERVAL: '1s',
})

const filter = process.argv[2] ?? ''
const testsDir = path.join(here, 'tests')
const files = readdirSync(testsDir)
  .filter((f) => f.endsWith('.mjs') && f.includes(filter))
  .sort()

function log(...a) {
  console.log('[e2e]', ...a)
}

async function main() {
  if (files.length === 0) {
    log(`no tests match ${JSON.stringify(filter)}`)
    return 1
  }
  freshDatabase(dbURL.toString())
  let redis
  if (env.E2E_REDIS_URL) {
    await flushRedis(env.E2E_REDIS_URL)
    redis = { url: env.E2E_REDIS_URL, stop: async () => {} }
  } else {
    redis = await privateRedis(port + 10000)
  }
  log(`binary ${bin}; database ${dbURL.pathname.slice(1)}; redis ${redis.url}; port ${port}`)
  const server = new Server({ bin, env: serverEnv(redis.url), port })
  try {
    return await runTests(server)
  } finally {
    if (env.E2E_KEEP && server.proc) {
      log(`E2E_KEEP: server left running at ${server.origin()} (pid ${server.proc.pid}), redis ${redis.url}`)
    } else {
      await server.stop()
      await redis.stop()
    }
  }
}

async function runTests(server) {
  server.cli('migrate')
  server.cli('admin', 'create', '--email', admin.email, '--password', admin.password)
  server.cli('tenant', 'create', '--slug', 'demo', '--name', '演示大学跑腿', '--owner-phone', '13800000000', '--blueprint', 'demo', '--wait', '2m')
  await server.start()
  log(`server up at ${server.origin()}`)

  const browser = await chromium.launch({
    executablePath: env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
  const screenshots = path.join(here, 'screenshots')
  // Only this run's pictures: an earlier run's would mix in under the same names and numbers.
  rmSync(screenshots, { recursive: true, force: true })
  let failed = 0
  try {
    for (const file of files) {
      const name = file.replace(/\.mjs$/, '')
      const mod = await import(pathToFileURL(path.join(testsDir, file)).href)
      const b = new Browser(browser, { screenshots, test: name })
      const started = Date.now()
      try {
        await mod.default({ server, browser: b, admin })
        // "No console errors" is part of the quality bar: a test that passed with errors fails.
        if (b.errors.length) throw new Error(`errors in the browser console:\n  ${b.errors.join('\n  ')}`)
        log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)`)
      } catch (e) {
        failed += 1
        log(`FAIL ${name}: ${e instanceof Error ? e.stack ?? e.message : e}`)
        log(`server log (last lines):\n${server.tail(15)}`)
      } finally {
        await b.close()
      }
    }
  } finally {
    await browser.close()
  }
  log(`${files.length - failed} passed, ${failed} failed; screenshots in ${path.relative(process.cwd(), screenshots)}`)
  return failed ? 1 : 0
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error('[e2e] harness error:', e)
    process.exit(2)
  },
)
