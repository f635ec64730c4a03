// @paotui/map: the apps' map (Leaflet over the tenant's tiles, or a plain background) and the
// geometry they share. The component loads on demand, so Leaflet stays out of first loads.
import { defineAsyncComponent } from 'vue'

export const CampusMap = defineAsyncComponent(() => import('./CampusMap.vue'))
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
