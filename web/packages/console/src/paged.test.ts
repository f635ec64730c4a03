import { describe, expect, it } from 'vitest'
import { usePagedList } from './paged'

describe('usePagedList', () => {
  it('reads the current page, and search starts again from the first', async () => {
    const asked: [number, number][] = []
    const list = usePagedList<string>(async (page, size) => {
      asked.push([page, size])
      return { data: { items: [`row of page ${page}`], total: 41 } }
    }, 20)
    await list.load()
    expect(list.rows.value).toEqual(['row of page 1'])
    expect(list.total.value).toBe(41)
    list.page.value = 3
    await list.load()
    expect(list.rows.value).toEqual(['row of page 3'])
    await list.search()
    expect(asked).toEqual([
      [1, 20],
      [3, 20],
      [1, 20],
    ])
    expect(list.loading.value).toBe(false)
  })

  it('keeps the rows it had and shows the problem when a read is refused', async () => {
    let fail = false
    const list = usePagedList<string>(async () => (fail ? { error: { code: 'permission_denied' } } : { data: { items: ['a'], total: 1 } }))
    await list.load()
    fail = true
    await list.load()
    expect(list.problem.value).toEqual({ code: 'permission_denied' })
    expect(list.rows.value).toEqual(['a'])
    expect(list.loading.value).toBe(false)
  })

  it('ignores an earlier answer that arrives after a later one', async () => {
    const release: Array<() => void> = []
    const list = usePagedList<number>(
      (page) => new Promise((r) => release.push(() => r({ data: { items: [page], total: 2 } }))),
    )
    list.page.value = 1
    const first = list.load()
    list.page.value = 2
    const second = list.load()
    release[1]!()
    await second
    release[0]!()
    await first
    expect(list.rows.value).toEqual([2])
  })
})
