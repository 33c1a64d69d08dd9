// A device named from its user agent (浏览器 · 系统), for the sessions list in 我的 and the
// name a new sign-in gives itself. Docs: docs/pwa.md#sessions.
import { t } from '../i18n/index.js'

const BROWSERS = [
  [/MicroMessenger/i, 'wechat'],
  [/DingTalk/i, 'dingtalk'],
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/Firefox|FxiOS/, 'Firefox'],
  [/Chrome|CriOS|Chromium/, 'Chrome'],
  [/Safari/, 'Safari'],
]
const SYSTEMS = [
  [/HarmonyOS|OpenHarmony/i, 'HarmonyOS'],
  [/Android/, 'Android'],
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux|X11/, 'Linux'],
]

export function describeAgent(ua) {
  if (!ua) return ''
  const browser = (BROWSERS.find(([re]) => re.test(ua)) || [])[1]
  const system = (SYSTEMS.find(([re]) => re.test(ua)) || [])[1]
  const name = browser === 'wechat' || browser === 'dingtalk' ? t('me.agent.' + browser) : browser
  return [name, system].filter(Boolean).join(' · ')
}

/** The label of a session row: from its user agent, else the name it gave, else 未命名. */
export function deviceLabel(s) {
  return describeAgent(s.user_agent) || s.device_name || t('me.unnamedDevice')
}
