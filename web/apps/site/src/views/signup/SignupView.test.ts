// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { createPaotuiI18n } from '@paotui/i18n'
import { siteMessages } from '../../messages'
import SignupView from './SignupView.vue'

const plans = {
  items: [
    {
      id: 'campus',
      name: { zh: '校园版', en: 'Campus' },
      currency: 'cny',
      monthlyAmount: 0,
      yearlyAmount: 0,
      trialDays: 0,
      limits: { maxOrdersPerMonth: 300, maxActiveCouriers: 10 },
      status: 'active',
    },
  ],
}

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

/** Answers the API by path; records every request as "METHOD path". */
function fakeApi(signup: () => Response) {
  const calls: string[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      calls.push(`${req.method} ${pathname}`)
      if (pathname === '/api/v1/plans') return json(plans)
      if (pathname.startsWith('/api/v1/signup/subdomains/')) return json({ slug: pathname.split('/').pop(), available: true })
      if (pathname === '/api/v1/signup') return signup()
      return json({ status: 404, code: 'not_found', title: 'Not Found' }, 404, 'application/problem+json')
    }),
  )
  return calls
}

async function mountView() {
  const i18n = createPaotuiI18n('en')
  for (const [l, m] of Object.entries(siteMessages)) i18n.global.mergeLocaleMessage(l, m)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/signup', name: 'signup', component: SignupView },
      { path: '/signup/:signupId', name: 'signup-progress', component: { template: '<p>progress</p>' } },
    ],
  })
  await router.push('/signup')
  const w = mount(SignupView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { w, router }
}

async function fillValid(w: Awaited<ReturnType<typeof mountView>>['w']) {
  await w.get('[data-testid=team-name]').setValue('Beiyuan Errands')
  await w.get('[data-testid=subdomain]').setValue('beiyuan')
  await w.get('[data-testid=school]').setValue('Beiyuan University')
  await w.get('[data-testid=phone]').setValue('13800001234')
  await w.get('[data-testid=sms-code]').setValue('123456')
}

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('SignupView', () => {
  it('does not send an incomplete form and says what is missing', async () => {
    const calls = fakeApi(() => json({}, 500))
    const { w } = await mountView()
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls).not.toContain('POST /api/v1/signup')
    expect(w.get('[data-testid=team-name-error]').text()).toBe('Required')
    expect(w.get('[data-testid=phone-error]').text()).toBe('Required')
    // The only plan on offer was picked for the user.
    expect((w.get('[data-testid=plan-radio-campus]').element as HTMLInputElement).checked).toBe(true)
  })

  it('shows a taken subdomain next to the subdomain field', async () => {
    fakeApi(() => json({ status: 409, code: 'subdomain_taken', title: 'Conflict', detail: 'taken' }, 409, 'application/problem+json'))
    const { w, router } = await mountView()
    await fillValid(w)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid=subdomain-error]').text()).toBe('This subdomain is taken.')
    expect(w.find('[data-testid=signup-problem]').exists()).toBe(false)
    expect(router.currentRoute.value.name).toBe('signup')
  })

  it('goes to the progress page with the signup id', async () => {
    const calls = fakeApi(() =>
      json({ signupId: '7b0c1f5e-5a4e-4f7a-9a57-2f7f0d1c9e11', tenantId: 1, slug: 'beiyuan', state: 'provisioning', ready: false, step: 'registered', adminUrl: '', createdAt: '' }, 202),
    )
    const { w, router } = await mountView()
    await fillValid(w)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(calls).toContain('POST /api/v1/signup')
    expect(router.currentRoute.value.fullPath).toBe('/signup/7b0c1f5e-5a4e-4f7a-9a57-2f7f0d1c9e11')
  })
})
