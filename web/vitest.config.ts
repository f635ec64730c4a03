import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

// One run for every package and app. Tests default to Node (real fetch, Request, streams);
// files that need a DOM say so with a `// @vitest-environment happy-dom` comment.
export default defineConfig({
  plugins: [vue()],
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    environment: 'node',
  },
})
