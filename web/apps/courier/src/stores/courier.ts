// The courier's profile (application status, online), the position pings sent while online
// and the last position the device reported (for distances and the trip map).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Problem, Schema } from '@paotui/api'
import { api } from '../api'
import { Tracker, intervalFromServer, type Fix, type TrackerState } from '../lib/tracker'

export type Profile = Schema<'CourierProfile'>

export const useCourier = defineStore('courier', () => {
  const profile = ref<Profile | null>(null)
  /** True once the profile was asked for: null then means "has not applied". */
  const loaded = ref(false)
  const tracking = ref<TrackerState>('idle')
  const lastPingAt = ref<number | undefined>()
  /** The device's last fix while tracking; null when offline or not located yet. */
  const position = ref<Fix | null>(null)

  const tracker = new Tracker({
    geolocation: globalThis.navigator?.geolocation,
    now: () => Date.now(),
    onState: (s, at) => {
      tracking.value = s
      lastPingAt.value = at
    },
    onFix: (fix) => (position.value = fix),
    send: async (fix) => {
      const { error } = await api.POST('/api/v1/courier/location', { body: fix })
      // A refused ping (too frequent, implausible) is not worth a message: the next one follows.
      return !error || error.code === 'location_too_frequent'
    },
  })

  async function load(): Promise<Problem | null> {
    const { data, error } = await api.GET('/api/v1/courier/profile')
    if (error) {
      if (error.code === 'courier_profile_not_found') {
        profile.value = null
        loaded.value = true
        return null
      }
      return error
    }
    // Before setProfile starts the tracker of a courier who is already online (a reload).
    tracker.setInterval(intervalFromServer(data.pingIntervalSeconds))
    setProfile(data)
    loaded.value = true
    return null
  }

  function setProfile(p: Profile | null): void {
    profile.value = p
    if (p?.online && p.status === 'approved') tracker.start()
    else {
      tracker.stop()
      // An old fix would give the hall wrong distances once the courier is back online.
      position.value = null
    }
  }

  async function setOnline(on: boolean): Promise<Problem | null> {
    if (!on) {
      const { data, error } = await api.POST('/api/v1/courier/offline')
      if (error) return error
      setProfile(data)
      return null
    }
    const { data, error } = await api.POST('/api/v1/courier/online')
    if (error) return error
    // Only going online says the server's pace; after a reload while online the tracker
    // keeps its fallback until the courier goes online again.
    tracker.setInterval(intervalFromServer(data.pingIntervalSeconds))
    setProfile(data)
    return null
  }

  function reset(): void {
    tracker.stop()
    profile.value = null
    loaded.value = false
    position.value = null
  }

  return { profile, loaded, tracking, lastPingAt, position, load, setProfile, setOnline, reset, pingInterval: () => tracker.interval }
})
