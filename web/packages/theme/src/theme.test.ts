// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest'
import { black, contrast, ink, parseHex, readableOn, toHex, white } from './color'
import { applyTheme, themeVars } from './theme'
import { isPaused, readBoot, resolveBoot } from './boot'

describe('colours', () => {
  it.each([
    ['#1677ff', { r: 22, g: 119, b: 255 }],
    ['#ABC', { r: 170, g: 187, b: 204 }],
    ['  #000000 ', { r: 0, g: 0, b: 0 }],
    ['1677ff', null],
    ['#12345', null],
    ['red', null],
    ['', null],
  ])('parseHex(%j)', (s, want) => {
    expect(parseHex(s)).toEqual(want)
  })

  it('measures WCAG contrast', () => {
    expect(contrast(white, { r: 0, g: 0, b: 0 })).toBeCloseTo(21, 5)
    expect(contrast(white, white)).toBe(1)
    // #767676 is the classic lightest grey with 4.5:1 on white.
    expect(contrast(white, parseHex('#767676')!)).toBeGreaterThanOrEqual(4.5)
  })

  it.each([
    ['#ffffff', ink],
    ['#000000', white],
    ['#1677ff', black],
    ['#c2185b', white],
    ['#ffd400', ink],
    ['#07c160', ink],
    ['#8b1a1a', white],
  ])('text on %s', (bg, want) => {
    expect(readableOn(parseHex(bg)!)).toEqual(want)
  })

  it('reaches AA (4.5:1) on every colour, preferring white or ink where either does', () => {
    for (let r = 0; r <= 255; r += 17) {
      for (let g = 0; g <= 255; g += 17) {
        for (let b = 0; b <= 255; b += 17) {
          const bg = { r, g, b }
          const chosen = readableOn(bg)
          expect(contrast(chosen, bg), toHex(bg)).toBeGreaterThanOrEqual(4.5)
          if (Math.max(contrast(white, bg), contrast(ink, bg)) >= 4.5) {
            expect(chosen, toHex(bg)).toEqual(contrast(white, bg) >= contrast(ink, bg) ? white : ink)
          }
        }
      }
    }
  })
})

describe('themeVars', () => {
  it("derives Element Plus' shades from the primary colour", () => {
    // Element Plus' own palette for its default #409eff, so mapped variables match the kit.
    const v = themeVars({ primaryColor: '#409EFF' })
    expect(v['--pt-primary']).toBe('#409eff')
    expect(v['--pt-primary-light-3']).toBe('#79bbff')
    expect(v['--pt-primary-light-5']).toBe('#a0cfff')
    expect(v['--pt-primary-light-9']).toBe('#ecf5ff')
    expect(v['--pt-primary-dark-2']).toBe('#337ecc')
    expect(v['--pt-primary-rgb']).toBe('64, 158, 255')
  })

  it('gives readable text colours for primary and accent', () => {
    const v = themeVars({ primaryColor: '#ffd400', accentColor: '#1a1a1a' })
    expect(v['--pt-on-primary']).toBe(toHex(ink))
    expect(v['--pt-accent']).toBe('#1a1a1a')
    expect(v['--pt-on-accent']).toBe('#ffffff')
  })

  it('falls back to the default colour, and the accent to the primary', () => {
    const v = themeVars({ primaryColor: 'javascript:alert(1)' })
    expect(v['--pt-primary']).toBe('#1677ff')
    expect(v['--pt-accent']).toBe('#1677ff')
  })
})

describe('applyTheme', () => {
  afterEach(() => {
    document.documentElement.removeAttribute('style')
    document.querySelectorAll('meta[name="theme-color"]').forEach((m) => m.remove())
  })

  it('sets the variables on the document and the theme colour', () => {
    applyTheme(themeVars({ primaryColor: '#e60012' }))
    const style = document.documentElement.style
    expect(style.getPropertyValue('--pt-primary')).toBe('#e60012')
    expect(style.getPropertyValue('--pt-on-primary')).toBe('#ffffff')
    expect(document.querySelector<HTMLMetaElement>('meta[name="theme-color"]')?.content).toBe('#e60012')
  })

  it('updates an existing theme-color meta instead of adding another', () => {
    const meta = document.createElement('meta')
    meta.name = 'theme-color'
    meta.content = '#000000'
    document.head.appendChild(meta)
    applyTheme(themeVars({ primaryColor: '#00aa55' }))
    const metas = document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]')
    expect(metas).toHaveLength(1)
    expect(metas[0]?.content).toBe('#00aa55')
  })
})

describe('boot data', () => {
  afterEach(() => {
    delete window.__PAOTUI__
  })

  const injected = {
    host: { kind: 'tenant' as const },
    tenant: {
      slug: 'pku',
      name: '北大跑腿',
      status: 'suspended',
      hold: 'billing',
      branding: { displayName: '', primaryColor: '#8b0012' },
    },
    locale: 'zh-CN',
    apiBase: '/api/v1',
  }

  it('reads what the server injected, naming the tenant when the brand has no display name', () => {
    const b = readBoot({ __PAOTUI__: injected })
    expect(b?.host.kind).toBe('tenant')
    expect(b?.tenant?.branding.displayName).toBe('北大跑腿')
    expect(b?.tenant?.hold).toBe('billing')
    expect(isPaused(b?.tenant)).toBe(true)
  })

  it.each([undefined, {}, { host: { kind: 'evil' } }, 'x'])('ignores %j', (v) => {
    expect(readBoot({ __PAOTUI__: v })).toBeNull()
  })

  it('prefers the injected data over asking the API', async () => {
    window.__PAOTUI__ = injected
    let calls = 0
    const b = await resolveBoot({
      expect: 'tenant',
      baseUrl: 'http://t.test',
      fetch: async () => {
        calls++
        return new Response('{}')
      },
    })
    expect(calls).toBe(0)
    expect(b.tenant?.slug).toBe('pku')
  })

  it('falls back to the branding endpoint without injection', async () => {
    const seen: string[] = []
    const b = await resolveBoot({
      expect: 'tenant',
      baseUrl: 'http://t.test',
      fetch: async (req) => {
        seen.push(new URL((req as Request).url).pathname)
        return new Response(
          JSON.stringify({ slug: 'demo', status: 'active', name: '演示', primaryColor: '#123456', accentColor: '#654321' }),
          { headers: { 'Content-Type': 'application/json' } },
        )
      },
    })
    expect(seen).toEqual(['/api/v1/branding'])
    expect(b.tenant).toMatchObject({ slug: 'demo', status: 'active', branding: { displayName: '演示', primaryColor: '#123456' } })
    expect(isPaused(b.tenant)).toBe(false)
  })

  it('runs unbranded when the branding endpoint fails', async () => {
    const b = await resolveBoot({
      expect: 'tenant',
      baseUrl: 'http://t.test',
      fetch: async () => {
        throw new TypeError('offline')
      },
    })
    expect(b).toEqual({ host: { kind: 'tenant' }, tenant: null })
  })

  it('does not ask for branding on the platform and base hosts', async () => {
    const b = await resolveBoot({
      expect: 'platform',
      fetch: async () => {
        throw new Error('must not be called')
      },
    })
    expect(b).toEqual({ host: { kind: 'platform' }, tenant: null })
  })
})
