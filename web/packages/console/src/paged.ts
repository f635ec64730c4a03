import { ref, type Ref } from 'vue'

/** What a page read answers: the API client's { data } or { error }. */
export interface PageAnswer<T> {
  data?: { items?: T[] | null; total: number }
  error?: unknown
}

/**
 * A server-paged list (orders, users, tenants): the rows of the current page, the total, the
 * loading and problem states, `load` for the current page and `search` to start again from the
 * first page with new filters. `read` gets the page (from 1) and its size.
 */
export function usePagedList<T>(read: (page: number, size: number) => Promise<PageAnswer<T>>, size = 20) {
  const rows = ref([]) as Ref<T[]>
  const total = ref(0)
  const page = ref(1)
  const loading = ref(false)
  const problem = ref<unknown>(null)
  let latest = 0

  async function load() {
    const mine = ++latest
    loading.value = true
    problem.value = null
    const { data, error } = await read(page.value, size)
    // A slower answer to an earlier request must not replace a newer page.
    if (mine !== latest) return
    loading.value = false
    if (error || !data) {
      problem.value = error
      return
    }
    rows.value = data.items ?? []
    total.value = data.total
  }

  function search() {
    page.value = 1
    return load()
  }

  return { rows, total, page, size, loading, problem, load, search }
}
