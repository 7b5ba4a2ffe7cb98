// What every browser test of /clinic and /docs shares: the browser, a page
// that fails its test on any request to another origin and on any console
// error or warning, seeding through the public API, signing in, keyboard
// helpers, and checkPage, which holds a page to SPEC §11 at 390 px and at
// 1280 px wide: no sideways scrolling, no axe-core violation (WCAG 2.1 A and
// AA), a visible label on every form field, every control in the Tab
// order; and takes its screenshots.
//
// Environment: DORSAL_URL, ADMIN_EMAIL and ADMIN_PASSWORD (an org admin),
// SCREENSHOT_DIR (default target/clinic-screenshots at the workspace root),
// CHROMIUM (default /usr/bin/chromium). CLINIC_E2E_REPORT_ONLY=1 makes
// checkPage note what it finds and go on, and each test file fail at its end
// with everything found (and VIOLATIONS_FILE, default
// $SCREENSHOT_DIR/violations.jsonl, gets one JSON line per finding), so one
// run lists every page's problems; without it a page's first failed check
// fails its test.
'use strict'

const { after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { randomUUID } = require('node:crypto')
const { chromium } = require('playwright-core')
const axe = require('axe-core')

const BASE = (process.env.DORSAL_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
/// The same server under a LAN host name (the browser resolves it to
/// 127.0.0.1), where plain HTTP is not a secure context.
const LAN_HOST = 'clinic.lan'
const LAN_BASE = (() => {
  const url = new URL(BASE)
  url.hostname = LAN_HOST
  return url.origin
})()
const ADMIN_EMAIL = process.env.ADMIN_EMAIL
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD
const SCREENSHOT_DIR = path.resolve(
  process.env.SCREENSHOT_DIR || path.join(__dirname, '..', '..', '..', 'target', 'clinic-screenshots'),
)
const VIOLATIONS_FILE = process.env.VIOLATIONS_FILE || path.join(SCREENSHOT_DIR, 'violations.jsonl')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const REPORT_ONLY = /^(1|true|yes)$/i.test(process.env.CLINIC_E2E_REPORT_ONLY || '')
/// Which pass of .ci/clinic-e2e this is (sqlite, postgres), for the report.
const DATABASE = process.env.CLINIC_E2E_DATABASE || ''
const DAY = 86_400_000

/// The two widths every page must work at (a phone, a laptop), with the
/// height of a typical screen of that width.
const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 900 },
]
const DESKTOP = VIEWPORTS[1]
/// The axe-core rules of WCAG 2.0 and 2.1, levels A and AA.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']

// ---------------------------------------------------------------------------
// The API

async function api(route, { method = 'GET', token, body } = {}) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${BASE}${route}`, { method, headers, body: body && JSON.stringify(body) })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : null
}

async function login(email, password) {
  const tokens = await api('/v1/auth/login', { method: 'POST', body: { email, password } })
  return tokens.access_token
}

const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10)
const unique = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`

/// The org admin the CI script made.
async function admin() {
  assert.ok(ADMIN_EMAIL && ADMIN_PASSWORD, 'set ADMIN_EMAIL and ADMIN_PASSWORD')
  return { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, token: await login(ADMIN_EMAIL, ADMIN_PASSWORD) }
}

/// A new member of staff in the admin's org, signed in through the API.
async function addStaff(adminToken, role, displayName, suffix = unique()) {
  const account = { email: `${role}-${suffix}@e2e.test`, password: `${role} e2e password`, role }
  const made = await api('/v1/staff', {
    method: 'POST', token: adminToken, body: { ...account, display_name: displayName },
  })
  return { ...account, id: made.id, displayName, token: await login(account.email, account.password) }
}

/// A patient who joined the care team with an invite from `inviter`.
async function addPatient(inviterToken, displayName, suffix = unique()) {
  const patient = { email: `patient-${suffix}@e2e.test`, password: 'patient e2e password', displayName }
  await api('/v1/auth/register', { method: 'POST', body: { email: patient.email, password: patient.password, display_name: displayName } })
  patient.token = await login(patient.email, patient.password)
  patient.id = (await api('/v1/me', { token: patient.token })).id
  const invite = await api('/v1/invites', { method: 'POST', token: inviterToken, body: {} })
  await api('/v1/care-team/join', { method: 'POST', token: patient.token, body: { code: invite.code } })
  return patient
}

/// Twelve nights of diary (pain easing from 6 to 3, eased by rest so no
/// flag; sleep quality 2-4) and sessions on most evenings of `planId`.
async function pushDiary(patientToken, planId, now = Date.now()) {
  // Record ids are the device's UUIDs, unique across patients.
  const nights = Array.from({ length: 12 }, (_, i) => 12 - i)
  const painLogs = nights.map((d) => ({
    id: randomUUID(), recorded_at: now - d * DAY, intensity: 3 + Math.round((d / 12) * 3),
    period: 'night', eased_by_rest: true,
  }))
  const sleepLogs = nights.map((d) => ({
    id: randomUUID(), night_of: isoDate(now - d * DAY - DAY / 2), quality: 2 + (d % 3),
    awakenings: d % 4, woke_from_pain: d % 3 === 0,
  }))
  const sessions = nights.filter((d) => d % 4 !== 0).map((d) => ({
    id: randomUUID(), plan_id: planId, performed_at: now - d * DAY, completed_items: 2,
    duration_minutes: 15, pain_before: 5, pain_after: 3,
  }))
  await api('/v1/sync/push', {
    method: 'POST', token: patientToken,
    body: { changes: {
      pain_logs: { created: painLogs },
      sleep_logs: { created: sleepLogs },
      exercise_sessions: { created: sessions },
    } },
  })
}

/// A red flag (saddle numbness: cauda equina, an emergency) from the
/// patient; the alert it raised.
async function raiseEmergency(patient, staffToken, id = randomUUID()) {
  await api('/v1/sync/push', {
    method: 'POST', token: patient.token,
    body: { changes: { pain_logs: { created: [
      { id, recorded_at: Date.now(), intensity: 8, saddle_numbness: true },
    ] } } },
  })
  const open = await api('/v1/alerts?status=open&severity=emergency', { token: staffToken })
  const alert = open.items.find((a) => a.patient_id === patient.id)
  assert.ok(alert, 'the emergency alert was raised')
  return alert
}

/// A clinician and a therapist in the admin's org, and a patient on its
/// care team with two weeks of nights, a plan, some sessions and an open
/// emergency alert.
async function seedClinic() {
  const boss = await admin()
  const suffix = unique()
  const clinician = await addStaff(boss.token, 'clinician', 'Dr Ada Okafor', suffix)
  const therapist = await addStaff(boss.token, 'therapist', 'Tom Reyes PT', suffix)
  const patient = await addPatient(clinician.token, 'Sam Whitfield', suffix)
  const now = Date.now()
  const plan = await api(`/v1/patients/${patient.id}/plans`, {
    method: 'POST',
    token: therapist.token,
    body: {
      title: 'Evening stretches', starts_on: isoDate(now - 14 * DAY), reminder_time: '21:00',
      items: [{ exercise_slug: 'cat-cow' }, { exercise_slug: 'pelvic-tilt' }],
    },
  })
  await pushDiary(patient.token, plan.id, now)
  const alert = await raiseEmergency(patient, clinician.token)
  return { admin: boss, clinician, therapist, patient, plan, alertId: alert.id, suffix }
}

// ---------------------------------------------------------------------------
// The browser, and pages that fail on what they should never do

let launched = null

/// Debian's Chromium, headless, launched once per test file and closed
/// after its last test.
function browser() {
  if (!launched) {
    launched = chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic',
        // dorsal as a clinic's computers on its LAN see it: a plain-HTTP
        // host that is not this computer's own name.
        `--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`,
      ],
    })
  }
  return launched
}

// Registered as the file is loaded (so on the file, not on a test).
after(async () => {
  if (!launched) return
  const b = await launched
  launched = null
  await b.close()
})

/// Refuses (as if offline) every request for another origin and notes it,
/// and notes every console error and warning (a CSP violation, a failed
/// load) and uncaught page error. `clean()` asserts nothing was noted.
async function guard(context) {
  const problems = []
  const elsewhere = []
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if ([BASE, LAN_BASE].includes(new URL(url).origin)) return route.continue()
    elsewhere.push(url)
    return route.abort('internetdisconnected')
  })
  // Pages answered with an error status (a 404 page, a form sent back
  // with 422): Chromium logs that as a failed load, which is not a problem
  // of the page (the tests check those statuses themselves). A stylesheet
  // or image that fails to load still is.
  const documents = new Set()
  const watch = (page) => {
    page.on('response', (response) => {
      const request = response.request()
      if (request.isNavigationRequest() && request.resourceType() === 'document') documents.add(response.url())
    })
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return
      const failedDocument = /^Failed to load resource: the server responded with a status of \d+/.test(message.text()) &&
        documents.has(message.location().url)
      if (!failedDocument) problems.push(`${page.url()}: console ${message.type()}: ${message.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error}`))
  }
  context.pages().forEach(watch)
  context.on('page', watch)
  return {
    problems,
    elsewhere,
    clean() {
      assert.deepEqual(elsewhere, [], 'no request left dorsal')
      assert.deepEqual(problems, [], 'the browser reported no error or warning')
    },
  }
}

/// A fresh browser context (its own cookies) with one guarded page, at
/// the desktop width; closed when the test `t` ends. `done()` asserts the
/// page stayed clean.
async function openPage(t, { viewport = DESKTOP } = {}) {
  const b = await browser()
  const context = await b.newContext({ viewport })
  t.after(() => context.close())
  const guarded = await guard(context)
  const page = await context.newPage()
  return { context, page, ...guarded, done: guarded.clean }
}

/// Signs `account` in through the form (with the mouse), landing on the
/// inbox.
async function signIn(page, account) {
  await page.goto(`${BASE}/clinic`)
  await page.getByLabel('Email').fill(account.email)
  await page.getByLabel('Password', { exact: true }).fill(account.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${BASE}/clinic/alerts`)
}

/// A signed-in page for `account`.
async function staffPage(t, account) {
  const opened = await openPage(t)
  await signIn(opened.page, account)
  return opened
}

// ---------------------------------------------------------------------------
// The keyboard

/// Presses Tab (or Shift+Tab with `back`) until `locator` has the focus,
/// checking at each stop that the focus is visible; fails after `max`
/// presses.
async function tabTo(page, locator, { back = false, max = 80 } = {}) {
  const target = await locator.elementHandle()
  assert.ok(target, `${locator} is on the page`)
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const stop = await page.evaluate((el) => {
      const focused = document.activeElement
      if (!focused || focused === document.body) return { at: false, name: 'body', shown: true }
      const style = getComputedStyle(focused)
      // Chromium focuses a segment inside a date or time field and
      // highlights that segment (the field itself is not :focus-visible).
      const segmented = focused.tagName === 'INPUT' && ['date', 'time', 'datetime-local', 'month', 'week'].includes(focused.type)
      const shown = segmented || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) ||
        style.boxShadow !== 'none'
      const name = `${focused.tagName.toLowerCase()}${focused.id ? `#${focused.id}` : ''} ` +
        `"${(focused.innerText || focused.value || focused.getAttribute('aria-label') || '').trim().slice(0, 40)}"`
      return { at: focused === el, name, shown }
    }, target)
    assert.ok(stop.shown, `the keyboard focus is visible on ${stop.name} (${page.url()})`)
    if (stop.at) return
  }
  assert.fail(`${locator} not reached with ${back ? 'Shift+Tab' : 'Tab'} in ${max} presses (${page.url()})`)
}

/// Replaces the text of the focused field by typing.
async function retype(page, text) {
  await page.keyboard.press('ControlOrMeta+A')
  await page.keyboard.press('Backspace')
  if (text) await page.keyboard.type(text)
}

// ---------------------------------------------------------------------------
// checkPage

const found = []

if (REPORT_ONLY) {
  after(() => {
    if (found.length) {
      assert.fail(`${found.length} problem(s) found on the clinic's pages:\n${found.map(describe).join('\n')}`)
    }
  })
}

function describe(problem) {
  return `  ${problem.page} @ ${problem.width} px · ${problem.check}: ${problem.detail}`
}

// In the page: each check's findings as strings. (Functions passed to
// page.evaluate run in the page: nothing from this file is in scope.)

/// Sideways scrolling: the document wider than the window, an element
/// wider than it or sticking out of it (not clipped by a scrolling or
/// clipping box), and a box that scrolls sideways itself. Only the
/// outermost offender of each kind is named.
function measureOverflow() {
  const name = (el) => {
    const parts = []
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let part = e.tagName.toLowerCase()
      if (e.id) part += `#${e.id}`
      else if (typeof e.className === 'string' && e.className.trim()) part += `.${e.className.trim().split(/\s+/).join('.')}`
      parts.unshift(part)
      if (e.id) break
    }
    return parts.join(' > ')
  }
  const vw = window.innerWidth
  const out = []
  const doc = document.documentElement.scrollWidth
  if (doc > vw) out.push(`the page scrolls sideways: document scrollWidth ${doc} px > window ${vw} px`)
  const clips = (el) => {
    for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== 'visible') return true
    }
    return false
  }
  const wide = []
  const sticking = []
  const scrolling = []
  const inside = (list, el) => list.some((outer) => outer.contains(el))
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el)
    if (style.display === 'none' || style.visibility === 'hidden') continue
    const r = el.getBoundingClientRect()
    if (r.width === 0 && r.height === 0) continue
    const text = `${name(el)} (${Math.round(r.width)} px wide, from ${Math.round(r.left)} to ${Math.round(r.right)} px)`
    if (r.width > vw + 0.5 && !inside(wide, el)) {
      wide.push(el)
      out.push(`wider than the ${vw} px window: ${text}`)
    } else if ((r.right > vw + 0.5 || r.left < -0.5) && !clips(el) && !inside(sticking, el) && !inside(wide, el)) {
      sticking.push(el)
      out.push(`sticks out of the ${vw} px window: ${text}`)
    }
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1 && el !== document.documentElement) {
      scrolling.push(el)
      out.push(`scrolls sideways: ${name(el)} (content ${el.scrollWidth} px in a ${el.clientWidth} px box)`)
    }
  }
  return out
}

/// Form fields (not hidden, not buttons) without a visible label of their
/// own: a <label for> or wrapping <label> that is shown and has text. An
/// aria-label or a placeholder alone is not a visible label.
function unlabelledFields() {
  const shown = (el) => {
    const style = getComputedStyle(el)
    const r = el.getBoundingClientRect()
    return style.display !== 'none' && style.visibility !== 'hidden' && r.width > 1 && r.height > 1
  }
  const out = []
  for (const field of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(field.type)) continue
    if (!shown(field) && !(field.type === 'checkbox' || field.type === 'radio')) continue
    const labels = [...(field.labels || [])].filter((label) => shown(label) && label.innerText.trim())
    if (labels.length) continue
    const tag = field.tagName.toLowerCase()
    const holder = field.id ? null : field.parentElement && field.parentElement.closest('[id]')
    const what = `${holder ? `${holder.tagName.toLowerCase()}#${holder.id} ` : ''}` +
      `${tag}${field.id ? `#${field.id}` : ''}${field.name ? `[name="${field.name}"]` : ''}`
    const aria = field.getAttribute('aria-label')
    const placeholder = field.getAttribute('placeholder')
    out.push(`${what} has no visible label` +
      (aria ? ` (only aria-label "${aria}")` : '') +
      (placeholder ? ` (placeholder "${placeholder}")` : ''))
  }
  return out
}

/// Controls the keyboard cannot reach: a link, button, field or summary
/// that is shown but out of the Tab order (tabindex -1, disabled, inert).
function unreachableControls() {
  const out = []
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary')) {
    if (el.type === 'hidden') continue
    const r = el.getBoundingClientRect()
    const style = getComputedStyle(el)
    if (style.display === 'none' || style.visibility === 'hidden' || (r.width === 0 && r.height === 0)) continue
    if (el.tabIndex < 0 || el.disabled || el.closest('[inert]')) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.innerText || el.value || '').trim().slice(0, 40)}" cannot take the keyboard focus`)
    }
  }
  return out
}

/// axe-core in the page, once per document. Playwright's page.evaluate
/// goes through the DevTools protocol (Runtime.evaluate), which the page's
/// Content-Security-Policy does not govern, so axe runs while the page
/// keeps the exact headers dorsal sends (no bypassCSP, no script tag: the
/// CSP would block a <script>, and bypassCSP would test another page than
/// the one staff get). The first test of clinic.test.js checks both.
async function runAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axe.source)
  }
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  )
  return result.violations.flatMap((v) => v.nodes.map((node) =>
    `${v.id} (${v.impact}) at ${node.target.join(' ')}: ${v.help}` +
    (node.failureSummary ? ` — ${node.failureSummary.replace(/\s+/g, ' ').trim()}` : '')))
}

/// What the page now shown in `page` breaks of SPEC §11 at 390 px and at
/// 1280 px wide (the page is not reloaded: a page answering a POST, such
/// as a secret shown once, stays as it is), saving
/// `$SCREENSHOT_DIR/<name>-<width>.png` unless `screenshots` is false;
/// ends at the desktop width.
async function inspect(page, name, { screenshots = true } = {}) {
  const problems = []
  try {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport)
      // A frame, so the layout is the new width's.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())))
      const width = viewport.width
      const note = (check) => (detail) => problems.push({ page: name, width, check, detail, url: page.url(), database: DATABASE })
      ;(await page.evaluate(measureOverflow)).forEach(note('no sideways scrolling'))
      ;(await page.evaluate(unlabelledFields)).forEach(note('visible labels'))
      ;(await page.evaluate(unreachableControls)).forEach(note('keyboard'))
      ;(await runAxe(page)).forEach(note('axe'))
      if (screenshots) {
        fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${width}.png`), fullPage: true })
      }
    }
  } finally {
    await page.setViewportSize(DESKTOP)
  }
  return problems
}

/// Holds the page now shown in `page` to SPEC §11 (see `inspect`): fails
/// the test on any problem or, with CLINIC_E2E_REPORT_ONLY, notes them for
/// the end of the file and goes on. Returns the problems found.
async function checkPage(page, name) {
  const problems = await inspect(page, name)
  if (problems.length) {
    if (REPORT_ONLY) {
      found.push(...problems)
      fs.mkdirSync(path.dirname(VIOLATIONS_FILE), { recursive: true })
      fs.appendFileSync(VIOLATIONS_FILE, problems.map((p) => JSON.stringify(p)).join('\n') + '\n')
      console.log(`checkPage: ${problems.length} problem(s) noted:\n${problems.map(describe).join('\n')}`)
    } else {
      assert.fail(`${name} (${page.url()}) fails SPEC §11:\n${problems.map(describe).join('\n')}`)
    }
  }
  return problems
}

/// The pull a patient's device makes from scratch: every row it gets.
async function pullAll(token) {
  const pulled = await api('/v1/sync/pull?last_pulled_at=null', { token })
  return pulled.changes
}

/// The rows of `table` in a pull's `changes`, created and updated.
function rows(changes, table) {
  const t = changes[table] || {}
  return [...(t.created || []), ...(t.updated || [])]
}

module.exports = {
  BASE, LAN_BASE, SCREENSHOT_DIR, REPORT_ONLY, DAY, VIEWPORTS, DESKTOP,
  api, login, isoDate, unique, admin, addStaff, addPatient, pushDiary, raiseEmergency, seedClinic,
  browser, guard, openPage, signIn, staffPage, tabTo, retype, inspect, checkPage, pullAll, rows,
}
