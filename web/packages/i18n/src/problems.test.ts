import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { clientCodes } from '@paotui/api'
import { createPaotuiI18n, locales, pickLocale, problemMessage, setLocale } from './index'
import { problemsZhCN } from './problems.zh-CN'
import { problemsEn } from './problems.en'
import { zhCN } from './messages.zh-CN'

const internal = fileURLToPath(new URL('../../../../internal', import.meta.url))

function goFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return goFiles(p)
    return e.name.endsWith('.go') && !e.name.endsWith('_test.go') ? [p] : []
  })
}

/**
 * The problem codes the server can send, read from the Go sources the way the HTTP layer
 * declares them: ProblemTable rows (httpx.Rule or ProblemRule literals), NewProblem calls,
 * Problem literals and assignments, and codeForStatus' codes for framework errors.
 */
function serverCodes(): Set<string> {
  const patterns = [
    /\bRule\(\s*[\w.]+\s*,\s*[\w.]+\s*,\s*"([a-z0-9_]+)"/g,
    /\bNewProblem\(\s*[\w.]+\s*,\s*"([a-z0-9_]+)"/g,
    /\{\s*Err:[^{}]*?\bCode:\s*"([a-z0-9_]+)"/g,
    /\bProblem\{[^{}]*?\bCode:\s*"([a-z0-9_]+)"/g,
    /\bp\.Code\s*=\s*"([a-z0-9_]+)"/g,
  ]
  const codes = new Set<string>()
  for (const file of goFiles(internal)) {
    const src = readFileSync(file, 'utf8')
    for (const re of patterns) for (const m of src.matchAll(re)) codes.add(m[1]!)
    const byStatus = /func codeForStatus[\s\S]*?\n\}/.exec(src)
    if (byStatus) for (const m of byStatus[0].matchAll(/return "([a-z0-9_]+)"/g)) codes.add(m[1]!)
  }
  return codes
}

// Codes the client knows beyond what the server declares today: its own, and token_expired,
// which the refresh logic also accepts from the server.
const extraCodes = [...Object.values(clientCodes), 'token_expired']

describe('problem codes', () => {
  const codes = serverCodes()

  it('finds the codes in the Go sources', () => {
    expect(codes.size).toBeGreaterThan(150)
    for (const c of ['order_already_taken', 'token_invalid', 'malformed_body', 'internal', 'rate_limited', 'last_owner', 'invalid_form']) {
      expect(codes).toContain(c)
    }
  })

  it('has a zh-CN and an en text for every code the server sends', () => {
    const missingZh = [...codes].filter((c) => !(c in problemsZhCN)).sort()
    const missingEn = [...codes].filter((c) => !(c in problemsEn)).sort()
    expect(missingZh).toEqual([])
    expect(missingEn).toEqual([])
  })

  it('has no text for a code nobody sends (a typo or a removed code)', () => {
    const known = new Set([...codes, ...extraCodes])
    expect(Object.keys(problemsZhCN).filter((c) => !known.has(c))).toEqual([])
    expect(Object.keys(problemsEn).filter((c) => !known.has(c))).toEqual([])
  })

  it.each(locales)('translates every code in %s through vue-i18n', (locale) => {
    const i18n = createPaotuiI18n(locale)
    const { t, te } = i18n.global
    const table = locale === 'en' ? problemsEn : problemsZhCN
    for (const code of [...codes, ...extraCodes]) {
      const text = problemMessage({ t: (k) => t(k), te: (k) => te(k) }, { status: 400, code, title: 'x', detail: 'detail' })
      expect(text, code).toBe(table[code as keyof typeof table])
    }
  })
})

describe('problemMessage', () => {
  const i18n = createPaotuiI18n('zh-CN')
  const tr = { t: (k: string) => i18n.global.t(k), te: (k: string) => i18n.global.te(k) }

  it('translates a known code in the current locale', () => {
    const p = { status: 409, code: 'order_already_taken', title: 'Conflict', detail: 'taken' }
    expect(problemMessage(tr, p)).toBe(problemsZhCN.order_already_taken)
    setLocale(i18n, 'en')
    expect(problemMessage(tr, p)).toBe(problemsEn.order_already_taken)
    setLocale(i18n, 'zh-CN')
  })

  it.each([
    ['an unknown code falls back to the detail', { status: 409, code: 'brand_new_code', title: 'Conflict', detail: 'the detail' }, 'the detail'],
    ['then to the title', { status: 409, code: 'brand_new_code', title: 'Conflict' }, 'Conflict'],
    ['a code that is not a key is not looked up', { status: 400, code: 'problems.error', title: 'T', detail: 'D' }, 'D'],
    ['a non-problem value gets the unexpected-response text', '<html>', problemsZhCN.unexpected_response],
    ['a thrown error gets the network text', new TypeError('fetch failed'), problemsZhCN.network_error],
  ])('%s', (_name, value, want) => {
    expect(problemMessage(tr, value)).toBe(want)
  })
})

describe('screen texts', () => {
  function leaves(o: object, prefix = ''): string[] {
    return Object.entries(o).flatMap(([k, v]) =>
      typeof v === 'string' ? [`${prefix}${k}`] : leaves(v as object, `${prefix}${k}.`),
    )
  }

  it.each(locales)('every %s text compiles and fills its placeholders', (locale) => {
    const i18n = createPaotuiI18n(locale)
    const params = { name: 'N', phone: 'P', id: 'I', price: 'R' }
    for (const key of leaves(zhCN).filter((k) => !k.startsWith('problems.'))) {
      const text = i18n.global.t(key, params)
      expect(text, key).not.toBe(key)
      expect(text, key).not.toMatch(/[{}]/)
    }
  })
})

describe('pickLocale', () => {
  it.each([
    [null, null, 'zh-CN'],
    ['en', 'zh-CN', 'en'],
    ['fr', 'en', 'en'],
    [null, 'fr', 'zh-CN'],
  ])('stored %s, server %s -> %s', (stored, server, want) => {
    expect(pickLocale(stored, server)).toBe(want)
  })
})
