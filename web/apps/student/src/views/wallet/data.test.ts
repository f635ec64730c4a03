import { describe, expect, it, vi } from 'vitest'
import { fenToYuanInput, maxTopup, minTopup, parseTopup, topupPresets, waitForCredit } from './data'

describe('parseTopup', () => {
  it.each([
    ['50', 5000],
    [' 12.5 ', 1250],
    ['19.99', 1999],
    ['¥ 1', 100],
    ['1.00', 100],
    ['5000', 500_000],
  ])('takes %j as %d 分', (input, amount) => {
    expect(parseTopup(input)).toEqual({ amount })
  })

  it.each([
    ['', 'required'],
    ['   ', 'required'],
    ['abc', 'format'],
    ['1.234', 'format'],
    ['-5', 'format'],
    ['1e3', 'format'],
    ['0.99', 'min'],
    ['0', 'min'],
    ['5000.01', 'max'],
    ['99999', 'max'],
  ])('refuses %j: %s', (input, error) => {
    expect(parseTopup(input)).toEqual({ error })
  })

  it('offers presets within the bounds', () => {
    for (const p of topupPresets) {
      expect(p).toBeGreaterThanOrEqual(minTopup)
      expect(p).toBeLessThanOrEqual(maxTopup)
      expect(parseTopup(fenToYuanInput(p))).toEqual({ amount: p })
    }
  })
})

describe('fenToYuanInput', () => {
  it('writes yuan the way a student types them', () => {
    expect(fenToYuanInput(5000)).toBe('50')
    expect(fenToYuanInput(1250)).toBe('12.5')
    expect(fenToYuanInput(1999)).toBe('19.99')
    expect(fenToYuanInput(105)).toBe('1.05')
  })
})

describe('waitForCredit', () => {
  const sleep = () => Promise.resolve()

  it('stops as soon as the balance shows the top-up', async () => {
    const balances = [1000, null, 1000, 6000]
    const read = vi.fn(async () => balances.shift() ?? 0)
    expect(await waitForCredit({ read, before: 1000, amount: 5000, sleep })).toBe(true)
    expect(read).toHaveBeenCalledTimes(4)
  })

  it('gives up after its tries when the webhook has not come', async () => {
    const read = vi.fn(async () => 1000)
    expect(await waitForCredit({ read, before: 1000, amount: 5000, tries: 3, sleep })).toBe(false)
    expect(read).toHaveBeenCalledTimes(3)
  })

  it('stops reading once the student left', async () => {
    const read = vi.fn(async () => 1000)
    let left = false
    const pending = waitForCredit({ read, before: 1000, amount: 5000, sleep: async () => void (left = true), cancelled: () => left })
    expect(await pending).toBe(false)
    expect(read).not.toHaveBeenCalled()
  })
})
