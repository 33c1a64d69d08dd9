// Settings of this device chosen in 我的 (not user data: kept across sign-out).
// Docs: docs/pwa.md#screens.
const UNDO_KEY = 'govdesk.undoSeconds'
export const UNDO_CHOICES = [0, 3, 5, 10]
export const DEFAULT_UNDO = 5

/** Seconds a one-tap 同意 waits for 撤销 before it is sent (0: sent at once). */
export function undoSeconds() {
  const raw = localStorage.getItem(UNDO_KEY)
  const n = raw === null ? DEFAULT_UNDO : Number(raw)
  return UNDO_CHOICES.includes(n) ? n : DEFAULT_UNDO
}

export function setUndoSeconds(n) {
  localStorage.setItem(UNDO_KEY, String(n))
}

// Text size: 标准 / 大 / 特大 (the large-font class and a root font size).
const SIZE_KEY = 'govdesk.largeFont'
export const TEXT_SIZES = ['0', '1', '2']
export function textSize() {
  const v = localStorage.getItem(SIZE_KEY)
  return TEXT_SIZES.includes(v) ? v : '0'
}
export function applyTextSize(v = textSize()) {
  const root = document.documentElement
  root.classList.toggle('large-font', v !== '0')
  root.classList.toggle('larger-font', v === '2')
  localStorage.setItem(SIZE_KEY, v)
}
