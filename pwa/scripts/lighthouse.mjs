// Lighthouse 12 against a running GovDesk (the bench: tests/bench/test_lighthouse.py).
// Docs: docs/pwa.md#lighthouse, docs/performance.md#the-pwa-lighthouse.
//
//   CHROME_PATH=/usr/bin/chromium node scripts/lighthouse.mjs --url http://localhost:8000 \
//     --username leader1 --password GovDesk@2026 --out /tmp/lighthouse.json
//
// Two measurements, both Lighthouse's default mobile profile (Moto G Power, 4× CPU
// slow-down, slow 4G):
// 1. cold: the first visit to / (empty cache, no service worker, signed out: the login
//    screen) — performance and accessibility scores, the JavaScript transferred;
// 2. repeat: the signed-in person opens the app again (service worker, caches and the
//    stored session kept, disableStorageReset) on the to-do list, with DevTools
//    throttling applied for real, so the app's user timing `govdesk:todo-shown` (the
//    moment the list is on screen) is measured under the throttled CPU and network.
// Writes a JSON summary to --out and prints it.
import fs from 'node:fs'
import puppeteer from 'puppeteer-core'
import lighthouse, { startFlow } from 'lighthouse'

const arg = (name, fallback) => {
  const i = process.argv.indexOf('--' + name)
  return i > 0 ? process.argv[i + 1] : fallback
}
const base = arg('url', 'http://localhost:8000').replace(/\/$/, '')
const username = arg('username', 'leader1')
const password = arg('password', 'GovDesk@2026')
const out = arg('out', '')
const chromePath = process.env.CHROME_PATH || '/usr/bin/chromium'
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run',
]

const scriptBytes = (lhr) => {
  const items = lhr.audits['resource-summary']?.details?.items || []
  const script = items.find((i) => i.resourceType === 'script')
  return script ? script.transferSize : null
}
const score = (lhr, category) => Math.round((lhr.categories[category]?.score ?? 0) * 100)
const metric = (lhr, id) => lhr.audits[id]?.numericValue ?? null
const userTiming = (lhr, name) => {
  const items = lhr.audits['user-timings']?.details?.items || []
  const mark = items.find((i) => i.name === name)
  return mark ? mark.startTime : null
}

const browser = await puppeteer.launch({ executablePath: chromePath, args: FLAGS, headless: true })
try {
  // 1. Cold first visit.
  const port = Number(new URL(browser.wsEndpoint()).port)
  const cold = (await lighthouse(base + '/', {
    port, output: 'json', logLevel: 'error',
    onlyCategories: ['performance', 'accessibility', 'best-practices'],
  })).lhr

  // 2. Repeat visit, signed in: warm the service worker and the stored session first.
  const login = await fetch(base + '/api/v1/auth/token/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, device_name: 'Lighthouse' }),
  }).then((r) => r.json())
  if (!login.access) throw new Error('login failed: ' + JSON.stringify(login))
  const page = await browser.newPage()
  await page.goto(base + '/', { waitUntil: 'networkidle0' })
  await page.evaluate((session) => {
    localStorage.setItem('govdesk.session', JSON.stringify(session))
  }, { access: login.access, refresh: login.refresh, user: login.user })
  // (not networkidle: the live notification stream stays open by design)
  await page.goto(base + '/#/todo', { waitUntil: 'load' })
  await page.evaluate(() => navigator.serviceWorker.ready)
  await page.reload({ waitUntil: 'load' })
  await page.waitForSelector('li.task', { timeout: 30_000 })
  const flow = await startFlow(page, {
    config: {
      extends: 'lighthouse:default',
      settings: { throttlingMethod: 'devtools', disableStorageReset: true, onlyCategories: ['performance', 'accessibility'] },
    },
  })
  await page.goto('about:blank') // a real page load next, not a same-document hash change
  await flow.navigate(base + '/#/todo', { name: 'repeat visit: to-do list' })
  const repeat = (await flow.createFlowResult()).steps[0].lhr
  if (repeat.runtimeError) console.error('repeat visit:', repeat.runtimeError)

  const summary = {
    lighthouse: cold.lighthouseVersion,
    url: base,
    user_agent: cold.environment.hostUserAgent,
    form_factor: cold.configSettings.formFactor,
    cold: {
      performance: score(cold, 'performance'),
      accessibility: score(cold, 'accessibility'),
      best_practices: score(cold, 'best-practices'),
      first_contentful_paint_ms: metric(cold, 'first-contentful-paint'),
      largest_contentful_paint_ms: metric(cold, 'largest-contentful-paint'),
      total_blocking_time_ms: metric(cold, 'total-blocking-time'),
      cumulative_layout_shift: metric(cold, 'cumulative-layout-shift'),
      script_transfer_bytes: scriptBytes(cold),
    },
    repeat_todo: {
      throttling: 'devtools (mobile: 4x CPU, 150 ms RTT, 1.6 Mbit/s)',
      performance: score(repeat, 'performance'),
      accessibility: score(repeat, 'accessibility'),
      todo_shown_ms: userTiming(repeat, 'govdesk:todo-shown'),
      first_contentful_paint_ms: metric(repeat, 'first-contentful-paint'),
      largest_contentful_paint_ms: metric(repeat, 'largest-contentful-paint'),
      script_transfer_bytes: scriptBytes(repeat),
    },
    failed_accessibility_audits: [cold, repeat].flatMap((lhr) =>
      Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 1 && lhr.categories.accessibility.auditRefs.some((r) => r.id === a.id && r.weight > 0))
        .map((a) => a.id)),
  }
  const text = JSON.stringify(summary, null, 2)
  if (out) fs.writeFileSync(out, text)
  console.log(text)
} finally {
  await browser.close()
}
