// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createPaotuiI18n } from '@paotui/i18n'
import { me } from '../../../auth'
import TaskTypesView from './TaskTypesView.vue'
import { taskTypesEn } from './messages'
import type { TaskType } from './data'

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })
}

function problem(status: number, code: string, errors?: { location: string; message: string }[]) {
  return json({ status, code, title: 'Problem', errors }, status, 'application/problem+json')
}

const pricing = { baseFee: 300, includedMeters: 1000, perKmFee: 100, minFee: 300 }
const parcel: TaskType = {
  key: 'parcel_pickup',
  name: { zh: '代取快递', en: 'Parcel pickup' },
  enabled: true,
  sort: 0,
  fields: [{ key: 'pickup_code', label: { zh: '取件码', en: 'Pickup code' }, type: 'text', required: true }],
  pricing,
  version: 3,
  updatedAt: '2025-01-01T00:00:00Z',
}
const food: TaskType = { ...parcel, key: 'food_buy', name: { zh: '代买餐食', en: 'Food run' }, sort: 1, fields: [], courierShareBp: 9000, version: 1 }
const print: TaskType = { ...parcel, key: 'print', name: { zh: '代打印', en: 'Printing' }, enabled: false, sort: 2, serviceHours: { mon: ['08:00-18:00'] }, version: 2 }

/** Answers the API by method and path; records every request with its body. */
function fakeApi(answer: (method: string, path: string, body: unknown) => Response | undefined) {
  const calls: { call: string; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const { pathname } = new URL(req.url, 'http://localhost')
      const text = req.method === 'GET' ? '' : await req.text()
      const body = text ? JSON.parse(text) : undefined
      calls.push({ call: `${req.method} ${pathname}`, body })
      return answer(req.method, pathname, body) ?? problem(404, 'not_found')
    }),
  )
  return calls
}

function mountView(permissions = ['settings:*']) {
  me.value = { id: 's1', name: 'S', phone: '', hasPassword: true, roles: ['owner'], permissions, tenant: { name: '', slug: '' } }
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', taskTypesEn as never)
  return mount(TaskTypesView, { global: { plugins: [i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } }, attachTo: document.body })
}

const rowKeys = (w: ReturnType<typeof mountView>) =>
  w
    .get('[data-testid=tasktypes-table]')
    .findAll('code')
    .map((c) => c.text())

/** Element Plus shows a form item's message 100 ms after the item turns invalid. */
async function messagesShown() {
  await new Promise((r) => setTimeout(r, 120))
  await flushPromises()
}

afterEach(() => {
  vi.unstubAllGlobals()
  me.value = null
  document.body.innerHTML = ''
})

describe('TaskTypesView', () => {
  it('lists the types in order, offers or withdraws one, and moves one down', async () => {
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/task-types') return json({ items: [parcel, food, print], total: 3 })
      if (m === 'POST' && p === '/api/v1/admin/task-types/print/enabled') return json({ ...print, enabled: (body as { enabled: boolean }).enabled, version: 3 })
      if (m === 'PUT' && p === '/api/v1/admin/task-types/order') {
        const keys = (body as { keys: string[] }).keys
        const all = [parcel, food, print]
        return json({ items: keys.map((k, i) => ({ ...all.find((x) => x.key === k), sort: i })) })
      }
      return undefined
    })
    const w = mountView()
    await flushPromises()
    const table = w.get('[data-testid=tasktypes-table]').text()
    expect(table).toContain('Parcel pickup')
    expect(table).toContain('90%')
    expect(table).toContain('Team default')
    expect(table).toContain('Own hours')
    expect(rowKeys(w)).toEqual(['parcel_pickup', 'food_buy', 'print'])
    expect(w.get('[data-testid=tasktype-fields-parcel_pickup]').text()).toBe('1')
    expect(w.get('[data-testid=tasktype-up-parcel_pickup]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid=tasktype-down-print]').attributes('disabled')).toBeDefined()
    expect(w.get('[data-testid=tasktype-up-food_buy]').attributes('aria-label')).toBe('Move Food run up')

    await w.get('[data-testid=tasktype-enabled-print]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.call === 'POST /api/v1/admin/task-types/print/enabled')?.body).toEqual({ enabled: true })
    expect(w.get('[data-testid=tasktypes-notice]').text()).toContain('"Printing" is offered')
    expect(w.get('[data-testid=tasktype-enabled-print]').classes()).toContain('is-checked')

    await w.get('[data-testid=tasktype-down-parcel_pickup]').trigger('click')
    await flushPromises()
    // Every key, exactly once, in the new order.
    expect(calls.find((c) => c.call === 'PUT /api/v1/admin/task-types/order')?.body).toEqual({ keys: ['food_buy', 'parcel_pickup', 'print'] })
    expect(rowKeys(w)).toEqual(['food_buy', 'parcel_pickup', 'print'])
    // The keyboard user's focus follows the moved row.
    expect(document.activeElement?.getAttribute('data-testid')).toBe('tasktype-down-parcel_pickup')
  })

  it('shows a refused reorder with a way to reload the list', async () => {
    let listed = [parcel, food]
    fakeApi((m, p) => {
      if (m === 'GET' && p === '/api/v1/admin/task-types') return json({ items: listed, total: listed.length })
      if (m === 'PUT' && p === '/api/v1/admin/task-types/order') return problem(422, 'task_type_invalid', [{ location: 'body.keys', message: 'task type "print" is missing' }])
      return undefined
    })
    const w = mountView()
    await flushPromises()
    await w.get('[data-testid=tasktype-up-food_buy]').trigger('click')
    await flushPromises()
    expect(w.text()).toContain('task type "print" is missing')
    expect(rowKeys(w)).toEqual(['parcel_pickup', 'food_buy'])
    listed = [parcel, food, print]
    await w.get('.pt-problem__retry').trigger('click')
    await flushPromises()
    expect(rowKeys(w)).toEqual(['parcel_pickup', 'food_buy', 'print'])
    expect(w.find('.pt-problem').exists()).toBe(false)
  })

  it('shows staff who may only read the list without its controls, and the empty state', async () => {
    fakeApi((m) => (m === 'GET' ? json({ items: [print], total: 1 }) : undefined))
    const w = mountView(['settings:read'])
    await flushPromises()
    expect(w.find('[data-testid=tasktype-add]').exists()).toBe(false)
    expect(w.find('[data-testid=tasktype-enabled-print]').exists()).toBe(false)
    expect(w.find('[data-testid=tasktype-up-print]').exists()).toBe(false)
    expect(w.find('[data-testid=tasktype-edit-print]').exists()).toBe(false)
    expect(w.get('[data-testid=tasktype-status-print]').text()).toBe('Withdrawn')

    fakeApi((m) => (m === 'GET' ? json({ items: [], total: 0 }) : undefined))
    const empty = mountView()
    await flushPromises()
    expect(empty.text()).toContain('No task types yet')
  })

  it('shows a failed load with a retry', async () => {
    let fail = true
    fakeApi((m) => (m === 'GET' ? (fail ? problem(500, 'internal') : json({ items: [parcel], total: 1 })) : undefined))
    const w = mountView()
    await flushPromises()
    expect(w.find('.pt-problem').exists()).toBe(true)
    expect(w.text()).not.toContain('No task types yet')
    fail = false
    await w.get('.pt-problem__retry').trigger('click')
    await flushPromises()
    expect(rowKeys(w)).toEqual(['parcel_pickup'])
  })

  it('creates a type: checks the form first, then shows the server refusal by the option it names', async () => {
    let refuse = true
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/task-types') return json({ items: [parcel], total: 1 })
      if (m === 'POST' && p === '/api/v1/admin/task-types') {
        if (refuse) {
          refuse = false
          return problem(422, 'task_type_invalid', [{ location: 'body.fields[0].options[1]', message: 'at most 40 characters' }])
        }
        return json({ ...(body as object), sort: 1, version: 1, updatedAt: '2025-01-02T00:00:00Z' }, 201)
      }
      return undefined
    })
    const w = mountView()
    await flushPromises()
    await w.get('[data-testid=tasktype-add]').trigger('click')
    await flushPromises()
    const drawer = () => w.findComponent({ name: 'TaskTypeDrawer' })
    const marked = () =>
      drawer()
        .findAll('.el-form-item.is-error')
        .map((x) => x.get('.el-form-item__label').text())

    await drawer().get('[data-testid=tasktype-key]').setValue('parcel_pickup')
    await drawer().get('[data-testid=tasktype-field-add]').trigger('click')
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    expect(marked()).toEqual(['Key', 'Name (Chinese)', 'Name (English)', 'Field key', 'Label (Chinese)', 'Label (English)'])
    await messagesShown()
    expect(drawer().text()).toContain('A task type with this key exists')
    expect(calls.some((c) => c.call.startsWith('POST'))).toBe(false)

    await drawer().get('[data-testid=tasktype-key]').setValue('laundry')
    await drawer().get('[data-testid=tasktype-name-zh]').setValue('代洗衣物')
    await drawer().get('[data-testid=tasktype-name-en]').setValue('Laundry')
    await drawer().get('[data-testid=tasktype-field-0-key]').setValue('bags')
    await drawer().get('[data-testid=tasktype-field-0-label-zh]').setValue('袋数')
    await drawer().get('[data-testid=tasktype-field-0-label-en]').setValue('Bags')
    drawer().findComponent({ name: 'ElSelect' }).vm.$emit('update:modelValue', 'select')
    await flushPromises()
    // A choice without options is caught before sending.
    expect(marked()).toEqual(['Options (one per line)'])
    await drawer().get('[data-testid=tasktype-field-0-options]').setValue('1\n2 袋')
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    // The server's error for options[1] is shown by the options, not repeated in the alert.
    expect(marked()).toEqual(['Options (one per line)'])
    await messagesShown()
    expect(drawer().get('.el-form-item.is-error').text()).toContain('at most 40 characters')
    expect(drawer().find('.pt-problem__details').exists()).toBe(false)

    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    const posts = calls.filter((c) => c.call === 'POST /api/v1/admin/task-types')
    expect(posts).toHaveLength(2)
    expect(posts[1]!.body).toEqual({
      key: 'laundry',
      name: { zh: '代洗衣物', en: 'Laundry' },
      enabled: false,
      fields: [{ key: 'bags', label: { zh: '袋数', en: 'Bags' }, type: 'select', required: false, options: ['1', '2 袋'] }],
      pricing: { baseFee: 0, includedMeters: 0, perKmFee: 0, minFee: 0 },
    })
    expect(w.get('[data-testid=tasktypes-notice]').text()).toContain('Added task type "Laundry"')
    expect(rowKeys(w)).toEqual(['parcel_pickup', 'laundry'])
  })

  it('edits a type with its own hours and share, and offers a reload after a version conflict', async () => {
    let version = 3
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/task-types') return json({ items: [{ ...parcel, version, name: { ...parcel.name, en: version > 3 ? 'Parcels' : 'Parcel pickup' } }], total: 1 })
      if (m === 'PUT' && p === '/api/v1/admin/task-types/parcel_pickup') {
        const b = body as { version: number }
        if (b.version !== version) return problem(409, 'task_type_version_conflict')
        return json({ ...parcel, ...(body as object), version: version + 1 })
      }
      return undefined
    })
    const w = mountView()
    await flushPromises()
    await w.get('[data-testid=tasktype-edit-parcel_pickup]').trigger('click')
    await flushPromises()
    const drawer = () => w.findComponent({ name: 'TaskTypeDrawer' })
    // The key of an existing type is shown, not editable.
    expect(drawer().find('[data-testid=tasktype-key]').exists()).toBe(false)
    expect(drawer().get('[data-testid=tasktype-key-fixed]').text()).toBe('parcel_pickup')

    // Someone else saves meanwhile.
    version = 4
    await drawer().get('[data-testid=tasktype-name-en]').setValue('Parcel collection')
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    expect(drawer().get('[data-testid=tasktype-conflict]').text()).toContain('Someone else changed this task type')
    await drawer().get('[data-testid=tasktype-reload]').trigger('click')
    await flushPromises()
    expect(drawer().find('[data-testid=tasktype-conflict]').exists()).toBe(false)
    expect((drawer().get('[data-testid=tasktype-name-en]').element as HTMLInputElement).value).toBe('Parcels')
    expect(rowKeys(w)).toEqual(['parcel_pickup'])

    await drawer().get('[data-testid=tasktype-own-hours]').trigger('click')
    await drawer().get('[data-testid=tasktype-hours-fri-add]').trigger('click')
    await drawer().get('[data-testid=tasktype-hours-fri-add]').trigger('click')
    await drawer().get('[data-testid=tasktype-hours-fri-1-to]').setValue('24:00')
    await drawer().get('[data-testid=tasktype-hours-fri-0-from]').setValue('12:00')
    // The second window starts where the first ends; make them overlap and the rows say so.
    await drawer().get('[data-testid=tasktype-hours-fri-1-from]').setValue('21:00')
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    expect(drawer().get('[data-testid=tasktype-hours-fri-0-error]').text()).toBe('Overlaps 21:00-24:00')
    await drawer().get('[data-testid=tasktype-hours-fri-1-from]').setValue('22:00')
    const share = drawer().get('[data-testid=tasktype-share] input')
    await share.setValue('85.5')
    await share.trigger('change')
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    const puts = calls.filter((c) => c.call === 'PUT /api/v1/admin/task-types/parcel_pickup')
    expect(puts).toHaveLength(2)
    expect(puts[1]!.body).toEqual({
      name: { zh: '代取快递', en: 'Parcels' },
      enabled: true,
      fields: parcel.fields,
      pricing,
      serviceHours: { fri: ['12:00-22:00', '22:00-24:00'] },
      courierShareBp: 8550,
      version: 4,
    })
    expect(w.get('[data-testid=tasktypes-notice]').text()).toContain('Saved task type "Parcels"')
    expect(w.get('[data-testid=tasktypes-table]').text()).toContain('Own hours')
  })

  it('adds, moves and removes form fields, dropping server errors that named them by position', async () => {
    let refuse = true
    const calls = fakeApi((m, p, body) => {
      if (m === 'GET' && p === '/api/v1/admin/task-types') return json({ items: [parcel], total: 1 })
      if (m === 'PUT' && p === '/api/v1/admin/task-types/parcel_pickup') {
        if (refuse) {
          refuse = false
          return problem(422, 'task_type_invalid', [{ location: 'body.fields[0].key', message: 'refused here' }])
        }
        return json({ ...parcel, ...(body as object), version: 4 })
      }
      return undefined
    })
    const w = mountView()
    await flushPromises()
    await w.get('[data-testid=tasktype-edit-parcel_pickup]').trigger('click')
    await flushPromises()
    const drawer = () => w.findComponent({ name: 'TaskTypeDrawer' })
    await drawer().get('[data-testid=tasktype-field-add]').trigger('click')
    await drawer().get('[data-testid=tasktype-field-1-key]').setValue('floor')
    await drawer().get('[data-testid=tasktype-field-1-label-zh]').setValue('楼层')
    await drawer().get('[data-testid=tasktype-field-1-label-en]').setValue('Floor')
    drawer().findAllComponents({ name: 'ElSelect' })[1]!.vm.$emit('update:modelValue', 'number')
    await flushPromises()
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    expect(drawer().findAll('.el-form-item.is-error')).toHaveLength(1)

    // Moving the new field first: the error named the field that was first, so it goes.
    await drawer().get('[data-testid=tasktype-field-1-up]').trigger('click')
    expect(drawer().get('[data-testid=tasktype-field-0-up]').attributes('disabled')).toBeDefined()
    expect(drawer().findAll('.el-form-item.is-error')).toHaveLength(0)
    expect((drawer().get('[data-testid=tasktype-field-0-key]').element as HTMLInputElement).value).toBe('floor')
    await drawer().get('[data-testid=tasktype-field-add]').trigger('click')
    await drawer().get('[data-testid=tasktype-field-2-remove]').trigger('click')
    await drawer().get('[data-testid=tasktype-save]').trigger('click')
    await flushPromises()
    const puts = calls.filter((c) => c.call === 'PUT /api/v1/admin/task-types/parcel_pickup')
    expect(puts).toHaveLength(2)
    expect((puts[1]!.body as { fields: unknown[] }).fields).toEqual([
      { key: 'floor', label: { zh: '楼层', en: 'Floor' }, type: 'number', required: false },
      parcel.fields![0],
    ])
  })
})
