// Small display helpers shared by the screens. Docs: docs/pwa.md#screens, #languages.
import { TIME_ZONE, currentLocale, t } from '../i18n/index.js'

export const URGENCY_TYPE = { very_urgent: 'danger', urgent: 'warning', normal: 'default' }

/** 特急 / 加急 / 普通 in the chosen language. */
export const urgencyText = (urgency) => t('common.urgency.' + (URGENCY_TYPE[urgency] ? urgency : 'normal'))

// The deadline light (绿/黄/红) when the server sends it, else from due_at/overdue.
export function deadlineLight(task) {
  if (task.deadline_light) return task.deadline_light
  if (!task.due_at) return ''
  if (task.overdue) return 'red'
  const left = new Date(task.due_at).getTime() - Date.now()
  return left < 4 * 3600 * 1000 ? 'yellow' : 'green'
}

export const lightText = (light) => (light ? t('common.light.' + light) : '')

const ACTIONS = ['approve', 'return', 'transfer', 'acknowledge', 'add_countersigner', 'seal', 'withdraw', 'delegate']
/** 同意 / 退回 / 转交 … for a trail or 已办 action code; an unknown code as it came. */
export const actionText = (action) => (ACTIONS.includes(action) ? t('common.action.' + action) : action || '')

const formatters = new Map()
function formatter(kind) {
  const locale = currentLocale()
  const key = locale + kind
  if (!formatters.has(key)) {
    const options = { timeZone: TIME_ZONE, hour12: false }
    if (kind === 'when') Object.assign(options, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    if (kind === 'date') Object.assign(options, { year: 'numeric', month: 'short', day: 'numeric' })
    formatters.set(key, new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', options))
  }
  return formatters.get(key)
}

/** A date and time in the chosen language, Beijing time (12月7日 09:30 / 7 Dec, 09:30). */
export function when(value) {
  if (!value) return ''
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? '' : formatter('when').format(d)
}

/** A date only (2026年12月7日 / 7 Dec 2026). */
export function day(value) {
  if (!value) return ''
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? '' : formatter('date').format(d)
}

export const opinionChips = () => [1, 2, 3, 4, 5].map((n) => t('common.chip' + n))

/** A file size as the attachment lists show it: "12 KB". */
export const size = (bytes) => t('common.kb', { num: Math.max(1, Math.ceil((bytes || 0) / 1024)) })
