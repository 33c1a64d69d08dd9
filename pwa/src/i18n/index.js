// The app's languages: Simplified Chinese by default, English as a choice in 我的.
// Docs: docs/pwa.md#languages.
//
// Every screen keeps its own messages file in ./messages/<area>.js:
//   export default { 'zh-CN': { <area>: { key: '…' } }, en: { <area>: { key: '…' } } }
// collected here at build time (import.meta.glob, eager). Screens use $t('<area>.key')
// or t() from useI18n(). Messages are plain text with named {placeholders} only (no
// plurals, no linked @: messages): @intlify/unplugin-vue-i18n bundles petite-vue-i18n
// (vue-i18n's small build: t, locale, composition API) runtime-only, without its
// message compiler, and compileMessage below turns a string into a message function —
// a few lines instead of the compiler or of precompiled message trees in the
// first-load JavaScript (docs/pwa.md#languages).
import { createI18n } from 'petite-vue-i18n'

export const LOCALES = ['zh-CN', 'en']
export const DEFAULT_LOCALE = 'zh-CN'
export const TIME_ZONE = 'Asia/Shanghai'
const STORE_KEY = 'govdesk.locale'

// petite-vue-i18n (vue-i18n's small build) looks keys up as they are, so the nested
// messages are flattened here: { tasks: { title } } → 'tasks.title'.
function flatten(tree, prefix, into) {
  for (const [key, value] of Object.entries(tree)) {
    if (value && typeof value === 'object') flatten(value, prefix + key + '.', into)
    else into[prefix + key] = value
  }
  return into
}

const modules = import.meta.glob('./messages/*.js', { eager: true })
const messages = Object.fromEntries(LOCALES.map((l) => [l, {}]))
for (const mod of Object.values(modules)) {
  for (const [locale, areas] of Object.entries(mod.default)) {
    if (messages[locale]) flatten(areas, '', messages[locale])
  }
}

const PLACEHOLDER = /\{(\w+)\}/

/** 'Approve {num}' → ctx => 'Approve 3' (vue-i18n's messageCompiler contract). */
export function compileMessage(message) {
  if (typeof message !== 'string') return () => message
  const parts = message.split(PLACEHOLDER)
  if (parts.length === 1) return () => message
  return (ctx) => ctx.normalize(parts.map((part, i) => (i % 2 ? ctx.interpolate(ctx.named(part)) : part)))
}

/** The stored choice, else the browser's language on the first visit, else zh-CN. */
export function initialLocale() {
  const stored = localStorage.getItem(STORE_KEY)
  if (LOCALES.includes(stored)) return stored
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || '']
  for (const lang of langs) {
    const l = String(lang).toLowerCase()
    if (l.startsWith('zh')) return 'zh-CN'
    if (l.startsWith('en')) return 'en'
  }
  return DEFAULT_LOCALE
}

export const i18n = createI18n({
  legacy: false,
  globalInjection: true,
  locale: initialLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages,
  messageCompiler: compileMessage,
  missingWarn: false,
  fallbackWarn: false,
})

export const t = (...args) => i18n.global.t(...args)
export const currentLocale = () => i18n.global.locale.value

function applyToPage(locale) {
  document.documentElement.lang = locale === 'en' ? 'en' : 'zh-CN'
  document.title = t('app.name')
}

// Vant's own words (确认/取消 in dialogs, 加载中…) follow the choice; its Chinese pack is
// built in, the English one is loaded only when English is chosen.
async function applyToVant(locale) {
  const { Locale } = await import('vant/es/locale/index.mjs')
  if (locale === 'en') {
    const { default: enUS } = await import('vant/es/locale/lang/en-US.mjs')
    Locale.use('en-US', enUS)
  } else {
    const { default: zhCN } = await import('vant/es/locale/lang/zh-CN.mjs')
    Locale.use('zh-CN', zhCN)
  }
}

/** Switch the language now and remember it on this device. */
export async function setLocale(locale) {
  if (!LOCALES.includes(locale)) return
  i18n.global.locale.value = locale
  localStorage.setItem(STORE_KEY, locale)
  applyToPage(locale)
  await applyToVant(locale)
}

export function installLocale() {
  const locale = currentLocale()
  applyToPage(locale)
  if (locale !== DEFAULT_LOCALE) applyToVant(locale)
}
