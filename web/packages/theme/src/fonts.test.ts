import { describe, expect, it } from 'vitest'
import { noRemoteFonts } from '../../../vite.app'

// The build cuts Vant's CDN fallback font so pages make no third-party request (and the CSP
// reports nothing), and keeps the inline woff2 that browsers use.
describe('noRemoteFonts', () => {
  const transform = noRemoteFonts().transform as (code: string, id: string) => { code: string } | null
  const css =
    '@font-face{font-family:vant-icon;src:url(data:font/woff2;base64,AAAA) format("woff2"),url(//at.alicdn.com/t/c/font_1.woff?t=1) format("woff")}'

  it('drops the CDN source and keeps the inline one', () => {
    const out = transform(css, '/node_modules/vant/es/icon/index.css')
    expect(out?.code).toBe('@font-face{font-family:vant-icon;src:url(data:font/woff2;base64,AAAA) format("woff2")}')
  })

  it('leaves other files alone', () => {
    expect(transform(css, '/src/main.ts')).toBeNull()
    expect(transform('body{color:red}', '/src/style.css')).toBeNull()
  })
})
