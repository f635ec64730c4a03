import { describe, expect, it, vi } from 'vitest'
import { dueForPing, intervalFromServer, pingIntervalMs, Tracker, type Fix, type TrackerState } from './tracker'

// A fake Geolocation whose watchers the test drives.
function fakeGeo() {
  let ok: PositionCallback | undefined
  let fail: PositionErrorCallback | null | undefined
  const geo = {
    watchPosition: vi.fn((s: PositionCallback, e?: PositionErrorCallback | null) => {
      ok = s
      fail = e
      return 7
    }),
    clearWatch: vi.fn(),
    getCurrentPosition: vi.fn(),
  }
  const fix = (lat: number, lng: number) =>
    ok!({ coords: { latitude: lat, longitude: lng, accuracy: 12 }, timestamp: 0 } as unknown as GeolocationPosition)
  const error = (code: number) => fail!({ code } as GeolocationPositionError)
  return { geo: geo as unknown as Geolocation, raw: geo, fix, error }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('dueForPing', () => {
  it('sends the first fix at once, then one per interval', () => {
    expect(dueForPing(undefined, 0)).toBe(true)
    expect(dueForPing(1000, 5999)).toBe(false)
    expect(dueForPing(1000, 6000)).toBe(true)
  })
})

describe('intervalFromServer', () => {
  it("uses the server's interval, bounded, and the fallback when it said none", () => {
    expect(intervalFromServer(2)).toBe(2000)
    expect(intervalFromServer(1.5)).toBe(1500)
    expect(intervalFromServer(0.1)).toBe(1000)
    expect(intervalFromServer(600)).toBe(60000)
    for (const bad of [undefined, null, 0, -3, Number.NaN]) expect(intervalFromServer(bad)).toBe(pingIntervalMs)
  })
})

describe('Tracker', () => {
  it('throttles pings to the interval', async () => {
    const g = fakeGeo()
    let now = 1000
    const sent: Fix[] = []
    const tr = new Tracker({ geolocation: g.geo, now: () => now, onState: () => {}, send: async (f) => (sent.push(f), true) }, 5000)
    tr.start()
    g.fix(39.99, 116.3)
    await flush()
    now = 3000
    g.fix(39.991, 116.3)
    await flush()
    now = 6000
    g.fix(39.992, 116.3)
    await flush()
    expect(sent.map((f) => f.lat)).toEqual([39.99, 39.992])
    expect(sent[0]).toMatchObject({ lng: 116.3, accuracy: 12 })
    expect(tr.state).toBe('ok')
  })

  it("paces pings to the interval it is given once online, and keeps every fix as the last position", async () => {
    const g = fakeGeo()
    let now = 1000
    const sent: number[] = []
    const seen: number[] = []
    const tr = new Tracker({
      geolocation: g.geo,
      now: () => now,
      onState: () => {},
      onFix: (f) => seen.push(f.lat),
      send: async (f) => (sent.push(f.lat), true),
    })
    expect(tr.interval).toBe(pingIntervalMs)
    tr.setInterval(intervalFromServer(2))
    tr.start()
    g.fix(1, 0)
    await flush()
    now = 2500 // 1.5 s later: too soon for the server
    g.fix(2, 0)
    await flush()
    now = 3000 // 2 s: due, where the 5 s fallback would still wait
    g.fix(3, 0)
    await flush()
    expect(sent).toEqual([1, 3])
    expect(seen).toEqual([1, 2, 3])
  })

  it('reports a denied permission and stops watching on stop()', () => {
    const g = fakeGeo()
    const states: TrackerState[] = []
    const tr = new Tracker({ geolocation: g.geo, now: () => 0, onState: (s) => states.push(s), send: async () => true })
    tr.start()
    g.error(1)
    expect(tr.state).toBe('denied')
    tr.stop()
    expect(g.raw.clearWatch).toHaveBeenCalledWith(7)
    expect(states).toEqual(['locating', 'denied', 'idle'])
  })

  it('says when the browser has no geolocation', () => {
    const tr = new Tracker({ geolocation: undefined, now: () => 0, onState: () => {}, send: async () => true })
    tr.start()
    expect(tr.state).toBe('unsupported')
  })

  it('watches once however often it is started', () => {
    const g = fakeGeo()
    const tr = new Tracker({ geolocation: g.geo, now: () => 0, onState: () => {}, send: async () => true })
    tr.start()
    tr.start()
    expect(g.raw.watchPosition).toHaveBeenCalledTimes(1)
  })

  it('asks for a fresh fix when a ping is due and the phone reported none (standing still)', async () => {
    const g = fakeGeo()
    let now = 1000
    let beat: (() => void) | undefined
    const cancel = vi.fn()
    const sent: Fix[] = []
    const tr = new Tracker(
      {
        geolocation: g.geo,
        now: () => now,
        onState: () => {},
        send: async (f) => (sent.push(f), true),
        every: (_ms, fn) => ((beat = fn), cancel),
      },
      2000,
    )
    tr.start()
    g.fix(39.99, 116.3)
    await flush()
    // Not due yet: no extra fix is asked for.
    now = 2500
    beat!()
    expect(g.raw.getCurrentPosition).not.toHaveBeenCalled()
    // Due and nothing came: a fresh fix (maximumAge 0) is asked for, and it is sent.
    now = 3000
    beat!()
    expect(g.raw.getCurrentPosition).toHaveBeenCalledTimes(1)
    expect(g.raw.getCurrentPosition.mock.calls[0]![2]).toMatchObject({ maximumAge: 0 })
    const answer = g.raw.getCurrentPosition.mock.calls[0]![0] as PositionCallback
    answer({ coords: { latitude: 39.99, longitude: 116.3, accuracy: 5 }, timestamp: 3000 } as unknown as GeolocationPosition)
    await flush()
    expect(sent).toHaveLength(2)
    expect(sent[1]!.at).toBe(new Date(3000).toISOString())
    tr.stop()
    expect(cancel).toHaveBeenCalled()
  })
})
