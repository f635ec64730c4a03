// Pieces the browser tests share: the paotui server under test (its own database, Redis DB and
// port), calls to its API by host, SMS codes read from its log, and pages that record console
// errors and save screenshots.
import { spawn, execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export class AssertionError extends Error {}

/** Fails the test with msg when cond is false. */
export function assert(cond, msg) {
  if (!cond) throw new AssertionError(msg)
}

/** Polls fn until it returns a truthy value or `timeout` ms pass. */
export async function waitFor(fn, { timeout = 15000, interval = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeout
  let last
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > end) throw new AssertionError(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}

/** Runs psql against the server of dsn (database "postgres") with one SQL command. */
function psql(dsn, sql) {
  const u = new URL(dsn)
  u.pathname = '/postgres'
  execFileSync('psql', [u.toString(), '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Drops and recreates the e2e database so every run starts from nothing. */
export function freshDatabase(dsn) {
  const name = decodeURIComponent(new URL(dsn).pathname.slice(1))
  assert(/^[a-z0-9_]+$/.test(name) && name !== 'postgres', `refusing to recreate database ${JSON.stringify(name)}`)
  psql(dsn, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  psql(dsn, `CREATE DATABASE ${name}`)
}

/**
 * Empties the Redis database of url (FLUSHDB over RESP, no client library): rate-limit
 * counters, caches and queued jobs of an earlier run would otherwise meet tenant ids that the
 * fresh database hands out again.
 */
export function flushRedis(url) {
  const u = new URL(url)
  const db = u.pathname.slice(1) || '0'
  const cmd = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')
  let payload = ''
  if (u.password) payload += u.username ? cmd('AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)) : cmd('AUTH', decodeURIComponent(u.password))
  payload += cmd('SELECT', db) + cmd('FLUSHDB') + cmd('QUIT')
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port || 6379), u.hostname)
    let out = ''
    sock.on('data', (d) => (out += d))
    sock.on('error', reject)
    sock.on('close', () => (out.includes('-ERR') ? reject(new Error(`redis: ${out.trim()}`)) : resolve()))
    sock.write(payload)
  })
}

/**
 * Starts a private, memory-only redis-server on port and resolves to its URL once it answers;
 * stop() ends it. The tests then share no Redis state (rate limits, caches, queues) with
 * anything else on the machine, and need none of a shared server's numbered databases.
 */
export async function privateRedis(port) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise((resolve) => proc.on('exit', resolve))
  const spawnError = new Promise((_, reject) => proc.on('error', reject))
  const url = `redis://127.0.0.1:${port}/0`
  await Promise.race([
    spawnError,
    waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`)
        await flushRedis(url)
        return true
      },
      { timeout: 10000, interval: 100, what: 'the private redis-server' },
    ),
  ])
  return {
    url,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM')
        await exited
      }
    },
  }
}

/** The paotui server under test: its process, its log and the CLI with the same environment. */
export class Server {
  constructor({ bin, env, port, baseDomain = 'localhost' }) {
    this.bin = bin
    this.env = env
    this.port = port
    this.baseDomain = baseDomain
    /** Parsed JSON log lines (and raw text ones as {msg}), in order. */
    this.log = []
    this.proc = null
  }

  /** Runs a paotui subcommand to completion (migrate, admin create, tenant create ...). */
  cli(...args) {
    return execFileSync(this.bin, args, { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180000 })
  }

  async start() {
    this.proc = spawn(this.bin, ['serve', '--worker'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) this.#record(line)
      })
    }
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })))
    await waitFor(
      async () => {
        if (this.proc.exitCode !== null) throw new Error(`server exited with ${this.proc.exitCode}:\n${this.tail(20)}`)
        return (await this.request(this.baseDomain, 'GET', '/readyz')).status === 200
      },
      { timeout: 30000, what: 'the server to be ready' },
    )
  }

  #record(line) {
    if (!line.trim()) return
    try {
      this.log.push(JSON.parse(line))
    } catch {
      this.log.push({ msg: line })
    }
  }

  /** The last n log lines as text, for failure reports. */
  tail(n = 30) {
    return this.log
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n')
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000)
    await this.exited
    clearTimeout(timer)
  }

  /** http://<sub>.<base>:<port> (sub '' for the base host). */
  origin(sub = '') {
    return `http://${sub ? `${sub}.` : ''}${this.baseDomain}:${this.port}`
  }

  /**
   * Calls the API on a host (e.g. "demo.localhost"). Node's resolver need not know
   * *.localhost, so it connects to loopback and sends the Host header the server routes on.
   */
  request(host, method, urlPath, { token, body, headers = {} } = {}) {
    const data = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path: urlPath,
          headers: {
            Host: `${host}:${this.port}`,
            Accept: 'application/json, application/problem+json',
            ...(data ? { 'Content-Type': 'application/json' } : {}),
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
            ...headers,
          },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c) => (text += c))
          res.on('end', () => {
            let json
            try {
              json = text ? JSON.parse(text) : undefined
            } catch {
              json = undefined
            }
            resolve({ status: res.statusCode, headers: res.headers, text, json })
          })
        },
      )
      req.on('error', reject)
      if (data) req.write(data)
      req.end()
    })
  }

  /** Like request, but fails unless the status is `want`; returns the JSON body. */
  async api(host, method, urlPath, opts = {}, want = 200) {
    const res = await this.request(host, method, urlPath, opts)
    assert(res.status === want, `${method} ${host}${urlPath}: want ${want}, got ${res.status}: ${res.text.slice(0, 300)}`)
    return res.json
  }

  /** Position in the log; pass it to smsCode to only see codes sent after it. */
  mark() {
    return this.log.length
  }

  /**
   * The SMS code the log driver printed for phone (matched on its last four digits, which the
   * masked phone keeps) after log position `since`.
   */
  smsCode(phone, since = 0) {
    const last4 = phone.slice(-4)
    return waitFor(
      () => {
        for (let i = this.log.length - 1; i >= since; i--) {
          const l = this.log[i]
          if (typeof l.code === 'string' && /^\d{4,8}$/.test(l.code) && String(l.phone ?? '').endsWith(last4) && /sms/i.test(l.msg ?? '')) return l.code
        }
        return null
      },
      { timeout: 10000, what: `an SMS code for …${last4} in the server log` },
    )
  }

  /** Signs a tenant user in by SMS code over the API; returns the session (accessToken, user). */
  async login(slug, phone) {
    const host = `${slug}.${this.baseDomain}`
    let since
    for (let attempt = 1; ; attempt++) {
      since = this.mark()
      const res = await this.request(host, 'POST', '/api/v1/auth/sms-code', { body: { phone } })
      if (res.status === 202) break
      // Within the resend gap of a code the browser just asked for: wait it out, as a person would.
      const wait = Number(res.headers['retry-after'] ?? 0)
      assert(res.status === 429 && wait <= 5 && attempt < 3, `POST ${host}/api/v1/auth/sms-code: got ${res.status}: ${res.text.slice(0, 300)}`)
      await new Promise((r) => setTimeout(r, Math.max(1, wait) * 1000 + 100))
    }
    const code = await this.smsCode(phone, since)
    return this.api(host, 'POST', '/api/v1/auth/login', { body: { phone, code } })
  }
}

/**
 * Signs in on a page showing the SMS sign-in form (student, courier or admin): fills the phone,
 * asks for a code and waits for the server's answer to that request, then fills the code the
 * server logged. A code refused as too soon after the last one (the API login of the same phone
 * a moment earlier) is asked for again once the gap is over, as a person would; any other
 * refusal, or a click that sent nothing, fails with what the page shows.
 */
export async function signInBySms(server, page, phone) {
  await input(page, 'login-phone').fill(phone)
  let since
  for (let attempt = 1; ; attempt++) {
    since = server.mark()
    const answered = page
      .waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/auth/sms-code', { timeout: 8000 })
      .catch(() => null)
    await page.locator('[data-testid=login-send-code]:not([disabled])').click()
    const res = await answered
    if (!res) {
      const shown = await page.locator('form').innerText().catch(() => '?')
      throw new AssertionError(`clicking "send code" for …${phone.slice(-4)} sent no request; the form shows: ${JSON.stringify(shown)}`)
    }
    if (res.status() === 202) break
    const body = await res.text().catch(() => '')
    const retryAfter = Number(res.headers()['retry-after'] ?? 0)
    // The resend gap (seconds) answers 429 with a short Retry-After; the hourly caps (set high
    // by the runner) would answer with a long one.
    assert(res.status() === 429 && retryAfter <= 5 && attempt < 3, `the code request for …${phone.slice(-4)} got ${res.status()}: ${body.slice(0, 300)}`)
    await new Promise((r) => setTimeout(r, Math.max(1, retryAfter) * 1000 + 100))
    // The refusal shows a problem and may start no countdown; the button is usable again.
  }
  const code = await server.smsCode(phone, since)
  await input(page, 'login-code').fill(code)
  await page.locator('[data-testid=login-submit]').click()
}

const axePath = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url))
let axeSource

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the page and answers its serious and critical
 * violations as text, one line per rule with where it applies.
 */
export async function a11yViolations(page) {
  // Evaluated through the DevTools protocol: the pages' CSP rightly refuses an injected script.
  axeSource ??= readFileSync(axePath, 'utf8')
  if (!(await page.evaluate('typeof window.axe'))?.startsWith?.('object')) await page.evaluate(axeSource)
  const found = await page.evaluate(async () => {
    // Colours read mid-transition (a tag zooming in) are neither the start nor the end state.
    for (let i = 0; i < 50 && document.getAnimations().some((a) => a.playState === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100))
    }
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      // Contrast findings carry their colours, so the report says what to change.
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(' ') + (n.any?.[0]?.data?.fgColor ? ` [${n.any[0].data.fgColor} on ${n.any[0].data.bgColor} = ${n.any[0].data.contrastRatio}]` : ''))
        .join(' | ')}`)
  })
  return found
}

/** Waits until Element Plus shows no loading mask anywhere on the page (every card loaded). */
export function settled(page) {
  return page.waitForFunction(() => !document.querySelector('.el-loading-mask'))
}

/**
 * The text input of a form field by test id: Vant puts the id on the field around the input,
 * Element Plus on the input itself.
 */
export function input(page, testid) {
  return page.locator(`input[data-testid=${testid}], [data-testid=${testid}] input`)
}

/** Browser helpers bound to one test: pages that record errors, and screenshots by test name. */
export class Browser {
  constructor(browser, { screenshots, test }) {
    this.browser = browser
    this.dir = screenshots
    this.test = test
    this.shots = 0
    this.contexts = []
    /** Console errors and uncaught exceptions of every page, as text. */
    this.errors = []
  }

  /**
   * A new page in its own context (separate storage), at a phone's width unless told; other
   * options (geolocation, permissions ...) go to the context as Playwright takes them.
   */
  async page({ width = 375, height = 812, locale = 'zh-CN', ...options } = {}) {
    const context = await this.browser.newContext({ ...options, viewport: { width, height }, locale })
    this.contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (e) => this.errors.push(`${page.url()}: uncaught ${e.message}`))
    page.on('console', (m) => {
      // Chromium logs every 4xx answer to fetch as an error; the API's refusals (a wrong code,
      // a taken subdomain) are expected and shown by the screens, so only other errors count.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
        this.errors.push(`${page.url()}: console.error ${m.text()}`)
      }
    })
    page.setDefaultTimeout(15000)
    return page
  }

  /** Fails when the page scrolls sideways (the quality bar: usable at 375 px wide). */
  async assertFits(page, what) {
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }))
    assert(scroll <= width, `${what}: the page is ${scroll}px wide in a ${width}px window`)
  }

  /** Saves a full-page screenshot as <test>-<nn>-<name>.png. */
  async screenshot(page, name) {
    this.shots += 1
    mkdirSync(this.dir, { recursive: true })
    const file = path.join(this.dir, `${this.test}-${String(this.shots).padStart(2, '0')}-${name}.png`)
    await page.screenshot({ path: file, fullPage: true })
    return file
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {})
  }
}
