import { inject, readonly, type App, type InjectionKey } from 'vue'
import { createApi, type Fetch } from '@paotui/api'

/** Which site the page is on: a tenant's subdomain, the platform panel, or the base domain. */
export type HostKind = 'tenant' | 'platform' | 'base'

export interface TenantBranding {
  displayName: string
  primaryColor: string
  accentColor?: string
  logoUrl?: string
  servicePhone?: string
  announcement?: string
  /** Leaflet tile URL template; absent: maps are drawn without tiles. */
  mapTileUrl?: string
  mapAttribution?: string
}

export interface BootTenant {
  slug: string
  name: string
  /** active or suspended (a suspended tenant's apps show the paused page). */
  status: string
  /** Who paused it: billing, platform or deletion; empty while active. */
  hold?: string | null
  branding: TenantBranding
}

/** What the server injects into index.html as window.__PAOTUI__, so the first paint is branded. */
export interface Boot {
  host: { kind: HostKind }
  tenant?: BootTenant | null
  locale?: string
  apiBase?: string
}

declare global {
  interface Window {
    __PAOTUI__?: Boot
  }
}

/** The injected boot data, or null when the page was not served by paotui (vite dev, tests). */
export function readBoot(win: { __PAOTUI__?: unknown } | undefined = globalThis.window): Boot | null {
  const b = win?.__PAOTUI__ as Partial<Boot> | undefined
  const kind = b?.host?.kind
  if (kind !== 'tenant' && kind !== 'platform' && kind !== 'base') return null
  const t = b?.tenant
  const tenant =
    t && typeof t.slug === 'string' && typeof t.name === 'string'
      ? { ...t, branding: { ...t.branding, displayName: t.branding?.displayName || t.name } }
      : null
  return { ...b, host: { kind }, tenant } as Boot
}

export interface ResolveOptions {
  /** The host kind the app is built for, used when nothing was injected. */
  expect: HostKind
  fetch?: Fetch
  baseUrl?: string
}

/**
 * The boot data: injected by the server, else (vite dev, a page served without injection) read
 * from GET /api/v1/branding on a tenant host. Never fails: without branding the app runs
 * unbranded.
 */
export async function resolveBoot(opts: ResolveOptions): Promise<Boot> {
  const injected = readBoot()
  if (injected) return injected
  if (opts.expect !== 'tenant') return { host: { kind: opts.expect }, tenant: null }
  const api = createApi({ baseUrl: opts.baseUrl, fetch: opts.fetch })
  const { data } = await api.GET('/api/v1/branding')
  if (!data) return { host: { kind: 'tenant' }, tenant: null }
  return {
    host: { kind: 'tenant' },
    tenant: {
      slug: data.slug,
      name: data.name,
      status: data.status,
      branding: {
        displayName: data.name,
        primaryColor: data.primaryColor,
        accentColor: data.accentColor,
        logoUrl: data.logoUrl,
        servicePhone: data.servicePhone,
        announcement: data.announcement,
        mapTileUrl: data.mapTileUrl,
        mapAttribution: data.mapAttribution,
      },
    },
  }
}

/** Whether the tenant's apps must show the paused page instead of their screens. */
export function isPaused(tenant: BootTenant | null | undefined): boolean {
  return tenant?.status === 'suspended'
}

const bootKey: InjectionKey<Readonly<Boot>> = Symbol('paotui.boot')

/** Makes the boot data (host kind, tenant, branding) available to every component. */
export function provideBoot(app: App, boot: Boot): void {
  app.provide(bootKey, readonly(boot) as Readonly<Boot>)
}

export function useBoot(): Readonly<Boot> {
  const b = inject(bootKey)
  if (!b) throw new Error('useBoot: provideBoot was not called')
  return b
}

/** The tenant of this page, or null on the base and platform hosts. */
export function useTenant(): Readonly<BootTenant> | null {
  return (useBoot().tenant as Readonly<BootTenant> | null | undefined) ?? null
}
