// @paotui/map: the apps' map (Leaflet over the tenant's tiles, or a plain background) and the
// geometry they share. The component loads on demand, so Leaflet stays out of first loads.
import { defineAsyncComponent } from 'vue'
import MapState from './MapState.vue'

/**
 * The map, loaded on first use. While Leaflet downloads it shows "loading", and if the download
 * fails "map failed", in its place: screens need no Suspense or error handling of their own.
 */
export const CampusMap = defineAsyncComponent({
  loader: () => import('./CampusMap.vue'),
  loadingComponent: MapState,
  errorComponent: MapState,
  delay: 150,
  // Inside a screen's <Suspense> too, the map waits on its own instead of holding up the screen.
  suspensible: false,
})
export type { MapMarker, MapZone } from './types'
export {
  distanceMeters,
  isLatLng,
  boundsOf,
  polygonPoints,
  toLeafletRings,
  polygonFromVertices,
  validTileTemplate,
  type LatLng,
  type Polygon,
  type MultiPolygon,
} from './geo'
