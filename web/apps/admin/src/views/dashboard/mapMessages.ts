// Texts of the dashboard's live map card, merged into the admin's messages (admin.liveMap.*).
export const dashboardMapZhCN = {
  admin: {
    liveMap: {
      title: '实时地图',
      label: '跑腿员实时位置地图',
      count: '{n} 名跑腿员正在上报位置',
      courier: '跑腿员 {id}',
      quiet: '{name}（{s} 秒未更新）',
      empty: '暂无跑腿员位置：在线跑腿员的应用上报位置后会出现在这里。',
      legend: '绿色为正在上报位置的跑腿员，灰色为一段时间未更新，超过 2 分钟未更新将从地图移除；色块为启用中的配送区域。',
    },
  },
}

export const dashboardMapEn: typeof dashboardMapZhCN = {
  admin: {
    liveMap: {
      title: 'Live map',
      label: "Map of couriers' live positions",
      count: '{n} couriers reporting their position',
      courier: 'Courier {id}',
      quiet: '{name} (no update for {s} s)',
      empty: 'No courier positions yet: online couriers appear here once their app reports a position.',
      legend: 'Green: couriers reporting their position; grey: no update for a while; after 2 minutes without one they leave the map. Shaded areas are the enabled delivery zones.',
    },
  },
}
