// The student maps' texts (stops chosen on the map, the order's map), merged under `st.map`
// next to messages.ts. The pins' own names (Pickup, Courier...) are the shared `map.kind` texts.
export const studentMapZhCN = {
  st: {
    map: {
      useMap: '地图选点',
      usePlace: '选地点',
      noPin: '在下方地图上点选位置',
      pinAt: '已选位置 {lat}, {lng}',
      pickup: '取件位置地图',
      dropoff: '送达位置地图',
      label: '位置名称',
      labelPlaceholder: '例如：图书馆东门',
      labelRequired: '请给这个位置起个名字',
      labelTooLong: '最多 {n} 个字',
      pinRequired: '请在地图上点选位置',
      order: '订单地图',
      courierLive: '地图上的绿点是跑腿员的实时位置',
      courierWaiting: '跑腿员出发后会在地图上显示位置',
    },
  },
}

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> }
export type StudentMapMessages = Widen<typeof studentMapZhCN>

export const studentMapEn: StudentMapMessages = {
  st: {
    map: {
      useMap: 'On map',
      usePlace: 'From list',
      noPin: 'Tap the map below to choose the spot',
      pinAt: 'Spot at {lat}, {lng}',
      pickup: 'Map of the pickup spot',
      dropoff: 'Map of the delivery spot',
      label: 'Spot name',
      labelPlaceholder: 'e.g. Library east gate',
      labelRequired: 'Give this spot a short name',
      labelTooLong: 'At most {n} characters',
      pinRequired: 'Tap the map to choose the spot',
      order: 'Order map',
      courierLive: "The green dot is the courier's live position",
      courierWaiting: 'The courier shows on the map once on the way',
    },
  },
}
