// The branding saved in this session, for the shell (App.vue): the boot data the page started
// with is read-only and would keep showing the old name until a reload.
import { ref } from 'vue'

export interface SavedBranding {
  name: string
  logoUrl?: string
}

export const savedBranding = ref<SavedBranding | null>(null)
