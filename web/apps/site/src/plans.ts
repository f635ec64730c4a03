// The plans on offer, loaded once per page and shared by the landing and the signup form.
import { ref } from 'vue'
import type { Problem, Schema } from '@paotui/api'
import { api } from './api'
import { offeredPlans } from './views/signup/data'

const plans = ref<Schema<'PlanOffer'>[]>([])
const loading = ref(false)
const problem = ref<Problem | null>(null)
let loaded = false

async function load(): Promise<void> {
  loading.value = true
  problem.value = null
  const { data, error } = await api.GET('/api/v1/plans', { params: { query: { limit: 100 } } })
  loading.value = false
  if (error) {
    problem.value = error
    return
  }
  plans.value = offeredPlans(data.items ?? [])
  loaded = true
}

export function usePlans() {
  if (!loaded && !loading.value) void load()
  return { plans, loading, problem, reload: load }
}
