// Whether an error caught by onErrorCaptured came from the map: its on-demand chunk (Leaflet)
// failed to load, or the map failed while drawing. Those switch the screen to its "map failed"
// note; any other error goes on up to the app's handler.
import type { ComponentPublicInstance } from 'vue'

export function fromMap(vm: ComponentPublicInstance | null, self: ComponentPublicInstance | null): boolean {
  for (let c = vm; c && c !== self; c = c.$parent) {
    // defineAsyncComponent's wrapper: CampusMap is one, and the only one these screens hold.
    if ('__asyncLoader' in (c.$.type as object)) return true
  }
  return false
}
