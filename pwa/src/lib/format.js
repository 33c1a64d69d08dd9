// Small display helpers shared by the screens. Docs: docs/pwa.md#screens.

export const URGENCY = {
  very_urgent: { zh: '特急', en: 'Very urgent', type: 'danger' },
  urgent: { zh: '加急', en: 'Urgent', type: 'warning' },
  normal: { zh: '普通', en: 'Normal', type: 'default' },
}

// The deadline light (绿/黄/红) when the server sends it, else from due_at/overdue.
export function deadlineLight(task) {
  if (task.deadline_light) return task.deadline_light
  if (!task.due_at) return ''
  if (task.overdue) return 'red'
  const left = new Date(task.due_at).getTime() - Date.now()
  return left < 4 * 3600 * 1000 ? 'yellow' : 'green'
}

export const LIGHT_TEXT = {
  red: '已超期 Overdue',
  yellow: '即将到期 Due soon',
  green: '正常 On time',
}

export function when(value) {
  if (!value) return ''
  const d = new Date(value)
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getMonth() + 1}月${d.getDate()}日 ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export const ACTION_TEXT = {
  approve: '同意 Approve',
  return: '退回 Return',
  transfer: '转交 Transfer',
  acknowledge: '已阅 Read',
  add_countersigner: '加签 Add',
  seal: '用印 Seal',
}

export const OPINION_CHIPS = ['同意', '已阅', '拟同意', '同意，请抓紧落实。', '请按程序办理。']
