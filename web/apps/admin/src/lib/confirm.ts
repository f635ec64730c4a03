import { ref, type Ref } from 'vue'

/**
 * An action that asks first (delete a zone, remove a closed date): `ask(item)` opens the
 * dialog, `confirm()` runs it with a busy state and keeps the dialog open with the server's
 * problem when it is refused, `done` follows a success. `run` answers null or the problem.
 */
export function useConfirm<T>(run: (item: T) => Promise<unknown | null | undefined>, done?: (item: T) => void | Promise<void>) {
  const pending = ref(null) as Ref<T | null>
  const busy = ref(false)
  const problem = ref<unknown>(null)

  function ask(item: T) {
    problem.value = null
    pending.value = item
  }

  async function confirm() {
    const item = pending.value
    if (item === null || busy.value) return
    busy.value = true
    problem.value = null
    try {
      problem.value = (await run(item)) ?? null
    } finally {
      busy.value = false
    }
    if (problem.value) return
    pending.value = null
    await done?.(item)
  }

  return { pending, busy, problem, ask, confirm }
}
