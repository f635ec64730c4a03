// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { pingIntervalMs } from '../lib/tracker'

// A Geolocation whose single watcher the test drives.
function fakeGeo() {
  let ok: PositionCallback | undefined
  return {
    geo: {
      watchPosition: vi.fn((s: PositionCallback) => {
        ok = s
        return 1
      }),
      clearWatch: vi.fn(),
      getCurrentPosition: vi.fn(),
    },
    fix: (lat: number, lng: number) => ok?.({ coords: { latitude: lat, longitude: lng, accuracy: 5 }, timestamp: Date.now() } as unknown as GeolocationPosition),
  }
}

const profile = { userId: 'u1', status: 'approved', realName: '王五', studentNo: '2021', masked: false, vehicle: 'bike', note: '', appliedAt: '2026-01-01T00:00:00Z', creditScore: 100, updatedAt: '2026-01-01T00:00:00Z', allowed: [] }
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

describe('courier store', () => {
  let g: ReturnType<typeof fakeGeo>
  beforeEach(() => {
    g = fakeGeo()
    vi.stubGlobal('navigator', { geolocation: g.geo })
    setActivePinia(createPinia())
  })
  afterEach(() => vi.unstubAllGlobals())

  // The store reads navigator.geolocation when it is created: after the stub.
  const store = async () => (await import('./courier')).useCourier()

  it("paces pings to the interval go-online answers with, and to the fallback when it says none", async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (req: Request) => {
        if (req.url.endsWith('/courier/online')) return json({ ...profile, online: true, pingIntervalSeconds: 3 })
        if (req.url.endsWith('/courier/location')) return new Response(null, { status: 204 })
        return json({ ...profile, online: false })
      }),
    )
    const c = await store()
    expect(c.pingInterval()).toBe(pingIntervalMs)
    expect(await c.setOnline(true)).toBeNull()
    expect(c.profile?.online).toBe(true)
    expect(c.pingInterval()).toBe(3000)
    expect(g.geo.watchPosition).toHaveBeenCalledTimes(1)

    g.fix(30.535, 114.364)
    expect(c.position).toMatchObject({ lat: 30.535, lng: 114.364 })

    // Offline: the watch stops and the old position is forgotten.
    expect(await c.setOnline(false)).toBeNull()
    expect(g.geo.clearWatch).toHaveBeenCalledWith(1)
    expect(c.position).toBeNull()

    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ ...profile, online: true })),
    )
    await c.setOnline(true)
    expect(c.pingInterval()).toBe(pingIntervalMs)
  })

  it('takes the interval from the profile of a courier already online (the app was reloaded)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ ...profile, online: true, pingIntervalSeconds: 4 })),
    )
    const c = await store()
    expect(await c.load()).toBeNull()
    expect(c.pingInterval()).toBe(4000)
    expect(g.geo.watchPosition).toHaveBeenCalledTimes(1)
  })
})
