// 日程 (views/Schedule.vue).
export default {
  'zh-CN': {
    schedule: { title: '日程', busy: '忙', deadline: '办理时限', repeats: '重复', empty: '未来七天没有日程' },
  },
  en: {
    schedule: { title: 'Schedule', busy: 'Busy', deadline: 'Deadline', repeats: 'Repeats', empty: 'Nothing in the next seven days' },
  },
}
