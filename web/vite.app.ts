// The Vite configuration every app shares: one app per surface, each built into
// web/dist/<name>/ with its mount path as base, which is what the Go server serves and embeds.
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { VantResolver } from '@vant/auto-import-resolver'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig, type Plugin, type UserConfig } from 'vite'

/**
 * Vant's icon font carries its glyphs inline (woff2) and a fallback on Alibaba's CDN. The
 * fallback is a third-party request every phone would make (and the server's CSP refuses it,
 * which the browser reports as an error), so it is cut: every browser we serve reads woff2.
 */
export function noRemoteFonts(): Plugin {
  return {
    name: 'paotui-no-remote-fonts',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('.css') || !code.includes('at.alicdn.com')) return null
      return { code: code.replace(/,\s*url\((?:https?:)?\/\/at\.alicdn\.com\/[^)]*\)\s*format\("woff"\)/g, ''), map: null }
    },
  }
}

export interface AppSpec {
  name: 'site' | 'student' | 'courier' | 'admin' | 'platform'
  /** Where the server mounts the app: '/', '/courier/', '/admin/'. */
  base: string
  /** The UI kit, auto-imported per component so only what a screen uses is bundled. */
  kit: 'vant' | 'element' | 'none'
}

/** The API server that `vite dev` forwards /api to (make run listens on :8080). */
const apiTarget = process.env.PAOTUI_API ?? 'http://localhost:8080'

export function defineApp(spec: AppSpec): UserConfig {
  const resolvers = spec.kit === 'vant' ? [VantResolver()] : spec.kit === 'element' ? [ElementPlusResolver()] : []
  return defineConfig({
    base: spec.base,
    plugins: [
      vue(),
      noRemoteFonts(),
      ...(resolvers.length ? [Components({ resolvers, dirs: [], dts: 'src/components.d.ts' })] : []),
    ],
    define: {
      // vue-i18n's bundler flags: composition API only, no devtools in production.
      __VUE_I18N_FULL_INSTALL__: true,
      __VUE_I18N_LEGACY_API__: false,
      __INTLIFY_PROD_DEVTOOLS__: false,
    },
    build: {
      outDir: fileURLToPath(new URL(`./dist/${spec.name}`, import.meta.url)),
      emptyOutDir: true,
      // The marker the server replaces with the tenant's branding must survive; Vite keeps
      // HTML comments, and hashed assets get long caching from the server.
      assetsDir: 'assets',
      sourcemap: false,
      // ECharts is one lazy chunk of ~500 KB (170 KB gzipped); first loads are checked by scripts/size.mjs.
      chunkSizeWarningLimit: 600,
    },
    server: {
      // Open http://<slug>.localhost:5173/ (tenant apps) or admin.localhost:5173 (platform):
      // the Host header is kept, so the API resolves the tenant as it does in production.
      proxy: { '/api': { target: apiTarget, changeOrigin: false } },
    },
  })
}
