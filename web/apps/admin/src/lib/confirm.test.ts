import { describe, expect, it, vi } from 'vitest'
import { useConfirm } from './confirm'

describe('useConfirm', () => {
  it('runs the asked-for item once confirmed, then closes and calls done', async () => {
    const run = vi.fn(async () => null)
    const done = vi.fn()
    const c = useConfirm<string>(run, done)
    await c.confirm()
    expect(run).not.toHaveBeenCalled()
    c.ask('zone-a')
    expect(c.pending.value).toBe('zone-a')
    await c.confirm()
    expect(run).toHaveBeenCalledWith('zone-a')
    expect(done).toHaveBeenCalledWith('zone-a')
    expect(c.pending.value).toBeNull()
    expect(c.busy.value).toBe(false)
  })

  it('keeps the dialog open with the problem when refused, and a new ask clears it', async () => {
    const problem = { status: 409, code: 'zone_in_use' }
    const done = vi.fn()
    const c = useConfirm<string>(async () => problem, done)
    c.ask('zone-a')
    await c.confirm()
    expect(c.problem.value).toEqual(problem)
    expect(c.pending.value).toBe('zone-a')
    expect(done).not.toHaveBeenCalled()
    c.ask('zone-b')
    expect(c.problem.value).toBeNull()
  })

  it('ignores a second confirm while the first is running', async () => {
    let release!: () => void
    const run = vi.fn(() => new Promise<null>((r) => (release = () => r(null))))
    const c = useConfirm<string>(run)
    c.ask('x')
    const first = c.confirm()
    void c.confirm()
    expect(c.busy.value).toBe(true)
    release()
    await first
    expect(run).toHaveBeenCalledTimes(1)
  })
})
