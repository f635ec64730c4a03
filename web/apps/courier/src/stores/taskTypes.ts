// The tenant's task types, loaded once, to show a hall entry's or trip's type by its name
// rather than its key.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { pickText, type BilingualText } from '@paotui/i18n'
import { api } from '../api'

export const useTaskTypes = defineStore('taskTypes', () => {
  const names = ref<Record<string, BilingualText>>({})
  /** type key -> field key -> the field's label. */
  const labels = ref<Record<string, Record<string, BilingualText>>>({})
  let loading: Promise<void> | null = null

  function ensure(): Promise<void> {
    loading ??= api.GET('/api/v1/task-types').then(({ data }) => {
      if (!data) {
        // A failure only costs the names (keys are shown); try again next time.
        loading = null
        return
      }
      names.value = Object.fromEntries((data.items ?? []).map((tt) => [tt.key, tt.name]))
      labels.value = Object.fromEntries((data.items ?? []).map((tt) => [tt.key, Object.fromEntries((tt.fields ?? []).map((f) => [f.key, f.label]))]))
    })
    return loading
  }

  return { names, labels, ensure }
})

/** key -> the type's name in the current language (the key while names are unknown). */
export function useTaskTypeName(): (key: string) => string {
  const store = useTaskTypes()
  const { locale } = useI18n()
  void store.ensure()
  return (key) => {
    const n = store.names[key]
    return n ? pickText(n, locale.value) || key : key
  }
}

/** (type, field) -> the form field's label in the current language (the field key while unknown). */
export function useFieldLabel(): (type: string, field: string) => string {
  const store = useTaskTypes()
  const { locale } = useI18n()
  void store.ensure()
  return (type, field) => {
    const l = store.labels[type]?.[field]
    return l ? pickText(l, locale.value) || field : field
  }
}
