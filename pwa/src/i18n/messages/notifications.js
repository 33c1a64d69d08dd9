// 通知 (views/Notifications.vue).
export default {
  'zh-CN': {
    notifications: {
      title: '通知',
      readAll: '全部已读',
      live: '● 实时更新中',
      notLive: '○ 未连接实时通道',
      notLoaded: '{error}，未能取得通知',
      unread: '未读',
      empty: '暂无通知',
    },
  },
  en: {
    notifications: {
      title: 'Notifications',
      readAll: 'Mark all read',
      live: '● Live',
      notLive: '○ Not live',
      notLoaded: '{error}; notifications could not be loaded',
      unread: 'Unread',
      empty: 'No notifications',
    },
  },
}
