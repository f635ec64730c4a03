// Prints each built app's first-load size (the JS and CSS index.html loads, gzipped) and the
// lazily loaded JS, and fails when an app is over its budget. Run after `npm run build`.
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../dist', import.meta.url))
const apps = ['site', 'student', 'courier', 'admin', 'platform']
// First-load JavaScript budgets in gzipped KB; the student app's is the product requirement.
const budgets = { student: 600 }

const kb = (n) => (n / 1024).toFixed(1)
const gz = (file) => gzipSync(readFileSync(file)).length

let failed = false
const rows = []
for (const app of apps) {
  const dir = join(dist, app)
  if (!existsSync(join(dir, 'index.html'))) {
    console.error(`size: ${app} is not built (run npm run build)`)
    failed = true
    continue
  }
  const html = readFileSync(join(dir, 'index.html'), 'utf8')
  const refs = (re) => [...html.matchAll(re)].map((m) => m[1].replace(/^.*?\/assets\//, 'assets/'))
  const js = new Set([
    ...refs(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
    ...refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ])
  const css = new Set(refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g))
  const sum = (files) => [...files].reduce((n, f) => n + gz(join(dir, f)), 0)
  const firstJs = sum(js)
  const firstCss = sum(css)
  const lazy = readdirSync(join(dir, 'assets'))
    .filter((f) => f.endsWith('.js') && !js.has(`assets/${f}`))
    .reduce((n, f) => n + gz(join(dir, 'assets', f)), 0)
  const budget = budgets[app]
  const over = budget !== undefined && firstJs / 1024 > budget
  if (over) failed = true
  rows.push({ app, firstJs, firstCss, lazy, budget, over })
}

console.log('app       first-load JS (gz)  first-load CSS (gz)  lazy JS (gz)  budget')
for (const r of rows) {
  const budget = r.budget === undefined ? '-' : `${r.budget} KB${r.over ? '  OVER' : ''}`
  console.log(
    `${r.app.padEnd(9)} ${`${kb(r.firstJs)} KB`.padStart(19)} ${`${kb(r.firstCss)} KB`.padStart(20)} ${`${kb(r.lazy)} KB`.padStart(13)}  ${budget}`,
  )
}
if (failed) process.exit(1)
