// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { me } from '../../auth'
import { adminEn } from '../../messages'
import BrandingView from './BrandingView.vue'
import { maxLogoBytes } from './data'
import { savedBranding } from './live'

const view = { slug: 'pku', status: 'active', name: '北大跑腿', primaryColor: '#1677ff', accentColor: '#ff7a00' }

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

function fakeApi() {
  const calls: { call: string; type: string | null; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      const type = req.headers.get('Content-Type')
      const body = req.method === 'PUT' && type === 'application/json' ? await req.json() : undefined
      calls.push({ call: `${req.method} ${pathname}`, type, body })
      if (req.method === 'GET' && pathname === '/api/v1/branding') return json(view)
      if (req.method === 'PUT' && pathname === '/api/v1/admin/branding') return json({ ...view, ...(body as object) })
      if (req.method === 'PUT' && pathname === '/api/v1/admin/branding/logo') return json({ ...view, logoUrl: '/api/v1/branding/logo?v=abc' })
      return json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

async function mountView() {
  me.value = { id: 'me', name: '', phone: '', hasPassword: true, roles: ['owner'], permissions: ['*:*'], tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', adminEn as never)
  const w = mount(BrandingView, { global: { plugins: [i18n, ElementPlus] }, attachTo: document.body })
  await flushPromises()
  return w
}

function pick(w: Awaited<ReturnType<typeof mountView>>, file: File) {
  const input = w.get('[data-testid=branding-logo]')
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  return input.trigger('change')
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  savedBranding.value = null
  document.documentElement.removeAttribute('style')
  document.body.innerHTML = ''
})

describe('BrandingView', () => {
  it('previews, warns about contrast, saves and applies the colours to the page', async () => {
    const calls = fakeApi()
    const w = await mountView()
    await w.get('input[data-testid=branding-primary]').setValue('#FFF7A0')
    expect(w.get('[data-testid=branding-preview]').attributes('style')).toContain('--pt-primary: #fff7a0')
    expect(w.get('[data-testid=branding-contrast]').text()).toContain('on white')

    await w.get('input[data-testid=branding-primary]').setValue('8B0012')
    expect(w.find('[data-testid=branding-contrast]').exists()).toBe(false)
    await w.get('input[data-testid=branding-name]').setValue('燕园跑腿')
    await w.get('form').trigger('submit')
    await flushPromises()
    const put = calls.find((c) => c.call === 'PUT /api/v1/admin/branding')
    expect(put?.body).toEqual({ name: '燕园跑腿', primaryColor: '#8b0012', accentColor: '#ff7a00' })
    expect(document.documentElement.style.getPropertyValue('--pt-primary')).toBe('#8b0012')
    expect(savedBranding.value?.name).toBe('燕园跑腿')
    expect(w.find('[data-testid=branding-saved]').exists()).toBe(true)
  })

  it('refuses a bad tile URL before sending', async () => {
    const calls = fakeApi()
    const w = await mountView()
    await w.get('input[data-testid=branding-tile-url]').setValue('http://tiles.example.com/{z}/{x}/{y}.png')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls.some((c) => c.call === 'PUT /api/v1/admin/branding')).toBe(false)
    await vi.waitFor(() => expect(w.text()).toContain('Must be an https URL'))
  })

  it('checks the logo before uploading it as the raw body with its own type', async () => {
    const calls = fakeApi()
    const w = await mountView()
    await pick(w, new File([new Uint8Array(maxLogoBytes + 1)], 'big.png', { type: 'image/png' }))
    await flushPromises()
    expect(calls.some((c) => c.call.endsWith('/logo'))).toBe(false)
    await vi.waitFor(() => expect(w.text()).toContain('at most 512 KB'))

    await pick(w, new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'logo.webp', { type: 'image/webp' }))
    await flushPromises()
    expect(calls.find((c) => c.call === 'PUT /api/v1/admin/branding/logo')?.type).toBe('image/webp')
    expect(w.get('[data-testid=branding-logo-img]').attributes('src')).toBe('/api/v1/branding/logo?v=abc')
  })
})
