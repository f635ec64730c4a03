// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent, h } from 'vue'
import { useI18n } from 'vue-i18n'
import { createPaotuiI18n, localeStorageKey, problemsEn, problemsZhCN } from '@paotui/i18n'
import type { BootTenant } from '@paotui/theme'
import { fieldErrors } from './fieldErrors'
import ProblemAlert from './ProblemAlert.vue'
import PausedPage from './PausedPage.vue'
import LocaleSwitch from './LocaleSwitch.vue'
import { mountApp } from './mount'

const validation = {
  status: 422,
  code: 'validation_failed',
  title: 'Unprocessable Entity',
  detail: 'validation failed',
  instance: 'req-123',
  errors: [
    { location: 'body.phone', message: 'expected 11 digits' },
    { location: 'body.phone', message: 'must start with 1' },
    { location: 'body.stops[1].placeId', message: 'unknown place' },
    { location: 'query.limit', message: 'at most 100' },
    { location: 'body', message: 'unexpected property "foo"' },
    { location: 'header.Idempotency-Key', message: 'too long' },
    { message: 'no location' },
  ],
}

describe('fieldErrors', () => {
  it('maps every located error to its field without a list of fields', () => {
    expect(fieldErrors(validation)).toEqual({
      fields: {
        phone: 'expected 11 digits; must start with 1',
        'stops[1].placeId': 'unknown place',
        limit: 'at most 100',
      },
      other: ['unexpected property "foo"', 'too long', 'no location'],
    })
  })

  it("keeps errors for fields the form lacks in other, and maps nested paths to the form's field", () => {
    expect(fieldErrors(validation, ['phone', 'stops'])).toEqual({
      fields: { phone: 'expected 11 digits; must start with 1', stops: 'unknown place' },
      other: ['at most 100', 'unexpected property "foo"', 'too long', 'no location'],
    })
  })

  it('prefers the exact path when the form has it', () => {
    expect(fieldErrors(validation, ['stops[1].placeId']).fields).toEqual({ 'stops[1].placeId': 'unknown place' })
  })

  it.each([null, undefined, 'boom', new Error('x'), { status: 409, code: 'order_changed', title: 'Conflict' }])(
    'gives nothing for %j',
    (v) => {
      expect(fieldErrors(v)).toEqual({ fields: {}, other: [] })
    },
  )
})

function withI18n(locale: 'zh-CN' | 'en' = 'zh-CN') {
  return { global: { plugins: [createPaotuiI18n(locale)] } }
}

describe('ProblemAlert', () => {
  it("shows the code's text, the errors the form cannot place and the request id", () => {
    const w = mount(ProblemAlert, { props: { problem: validation, fields: ['phone', 'stops'] }, ...withI18n('en') })
    expect(w.get('[role=alert]').attributes('data-code')).toBe('validation_failed')
    expect(w.get('.pt-problem__message').text()).toBe(problemsEn.validation_failed)
    expect(w.findAll('.pt-problem__details li').map((li) => li.text())).toEqual([
      'at most 100',
      'unexpected property "foo"',
      'too long',
      'no location',
    ])
    expect(w.get('.pt-problem__id').text()).toContain('req-123')
    expect(w.find('button').exists()).toBe(false)
  })

  it('shows nothing without a problem', () => {
    const w = mount(ProblemAlert, { props: { problem: null }, ...withI18n() })
    expect(w.find('[role=alert]').exists()).toBe(false)
  })

  it('offers a retry when given one', async () => {
    const retry = vi.fn()
    const w = mount(ProblemAlert, {
      props: { problem: { status: 503, code: 'network_error', title: 'x' }, onRetry: retry },
      ...withI18n(),
    })
    expect(w.get('.pt-problem__message').text()).toBe(problemsZhCN.network_error)
    await w.get('button').trigger('click')
    expect(retry).toHaveBeenCalledOnce()
  })
})

describe('PausedPage', () => {
  const tenant: BootTenant = {
    slug: 'pku',
    name: 'PKU Errands',
    status: 'suspended',
    hold: 'billing',
    branding: { displayName: '北大跑腿', primaryColor: '#8b0012', servicePhone: '010-12345678' },
  }

  it("shows the tenant's name, why it is paused and how to call", () => {
    const w = mount(PausedPage, { props: { tenant }, ...withI18n('en') })
    expect(w.get('h1').text()).toBe('北大跑腿 has paused its service')
    expect(w.text()).toContain('unpaid bill')
    expect(w.get('a').attributes('href')).toBe('tel:010-12345678')
  })

  it('says the data is safe when no particular hold applies', () => {
    const w = mount(PausedPage, { props: { tenant: { ...tenant, hold: '' } }, ...withI18n('en') })
    expect(w.text()).toContain('Your data is safe')
    expect(w.text()).not.toContain('unpaid')
  })
})

describe('LocaleSwitch', () => {
  afterEach(() => localStorage.clear())

  it('switches the language and remembers it', async () => {
    const i18n = createPaotuiI18n('zh-CN')
    const w = mount(LocaleSwitch, { global: { plugins: [i18n] } })
    await w.get('select').setValue('en')
    expect(i18n.global.locale.value).toBe('en')
    expect(localStorage.getItem(localeStorageKey)).toBe('en')
    expect(document.documentElement.lang).toBe('en')
  })
})

describe('mountApp', () => {
  afterEach(() => {
    delete window.__PAOTUI__
    document.body.innerHTML = ''
  })

  it("adds the app's texts to the shared ones before the first render, in every locale", async () => {
    document.body.innerHTML = '<div id="app"></div>'
    window.__PAOTUI__ = { host: { kind: 'platform' }, tenant: null, locale: 'en' }
    const Root = defineComponent({
      setup() {
        const { t } = useI18n()
        return () => h('p', { id: 'out' }, `${t('demo.hello')} / ${t('common.retry')}`)
      },
    })
    const { app, i18n } = await mountApp(Root, {
      expect: 'platform',
      messages: [
        { 'zh-CN': { demo: { hello: '你好' } }, en: { demo: { hello: 'Hello' } } },
        { 'zh-CN': { demo: { bye: '再见' } }, en: { demo: { bye: 'Bye' } } },
      ],
    })
    // Rendered with the app's text on the first paint, next to a shared one.
    expect(document.getElementById('out')?.textContent).toBe('Hello / Retry')
    i18n.global.locale.value = 'zh-CN'
    // Bundles merge rather than replace each other.
    expect(i18n.global.t('demo.hello')).toBe('你好')
    expect(i18n.global.t('demo.bye')).toBe('再见')
    app.unmount()
  })
})
