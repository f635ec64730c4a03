import { problemsZhCN } from './problems.zh-CN'

// Screen texts in simplified Chinese, the default locale. messages.en.ts has the same keys.
export const zhCN = {
  locale: {
    label: '语言',
    'zh-CN': '简体中文',
    en: 'English',
  },
  smsLogin: {
    phone: '手机号',
    phonePlaceholder: '11 位手机号',
    code: '验证码',
    codePlaceholder: '短信验证码',
    send: '获取验证码',
    resend: '{s} 秒后重发',
    sent: '验证码已发送',
    submit: '登录',
    badPhone: '请输入 11 位手机号',
    badCode: '请输入短信验证码',
  },
  map: {
    loading: '地图加载中…',
    failed: '地图加载失败，可从地点列表中选择',
    label: '地图',
    noTiles: '未配置地图底图：仅显示相对位置',
    tilesFailed: '地图底图加载失败：仅显示相对位置',
    pickHint: '点击地图选择位置',
    drawHint: '点击地图添加顶点（已有 {n} 个）',
    undo: '撤销',
    clear: '清除',
    kind: { pickup: '取件点', dropoff: '送达点', courier: '跑腿员', place: '地点', me: '我的位置' },
  },
  common: {
    loading: '加载中…',
    empty: '暂无内容',
    retry: '重试',
    requestId: '请求编号：{id}',
    signIn: '登录',
    signOut: '退出登录',
    comingSoon: '即将推出',
  },
  paused: {
    title: '{name} 暂停服务中',
    body: '服务暂时暂停，你的数据安全，没有任何改动。',
    billing: '服务因账单未结清而暂停，负责人完成付款后会立即恢复。',
    platform: '服务已被平台暂停，详情请联系服务方。',
    deletion: '这项服务即将关闭。',
    contact: '服务电话：{phone}',
    billingAction: '前往账单',
  },
  apps: {
    site: {
      title: '跑腿 · 校园跑腿服务平台',
      tagline: '几分钟开通你们学校的跑腿服务：学生下单，跑腿员接单，你来管理。',
      plans: '套餐',
      perMonth: '{price} / 月',
      signup: '免费开通',
      noPlans: '暂无可选套餐',
    },
    student: {
      title: '校园跑腿',
      chooseTask: '你需要帮忙做什么？',
      noTasks: '服务方还没有开放跑腿类型',
      from: '{price} 起',
    },
    courier: {
      title: '跑腿员',
      intro: '上线接单，送达赚钱。',
    },
    admin: {
      title: '管理后台',
      dashboard: '概览',
      trend: '近期订单',
      noData: '暂无数据',
    },
    platform: {
      title: '平台管理',
      tenants: '租户',
    },
  },
  problems: problemsZhCN,
}
