// The /clinic page in Debian's headless Chromium against a running dorsal
// at DORSAL_URL. Seeds its own clinician, therapist and patient through the
// public API (given an org admin: ADMIN_EMAIL, ADMIN_PASSWORD), raises an
// emergency alert, then signs in as the clinician, acknowledges the alert,
// opens the patient's chart and signs out. Screenshots go to SCREENSHOT_DIR.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { chromium } = require('playwright-core')

const BASE = (process.env.DORSAL_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const ADMIN_EMAIL = process.env.ADMIN_EMAIL
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(__dirname, 'screenshots')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const DAY = 86_400_000

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

// A clinician and a therapist in the admin's org, and a patient on its care
// team with two weeks of nights, a plan, some sessions and a red flag.
async function seed() {
  assert.ok(ADMIN_EMAIL && ADMIN_PASSWORD, 'set ADMIN_EMAIL and ADMIN_PASSWORD')
  const admin = await login(ADMIN_EMAIL, ADMIN_PASSWORD)
  const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
  const staff = async (role, displayName) => {
    const account = { email: `${role}-${suffix}@e2e.test`, password: `${role} e2e password` }
    await api('/v1/staff', {
      method: 'POST', token: admin, body: { ...account, role, display_name: displayName },
    })
    return { ...account, token: await login(account.email, account.password) }
  }
  const clinician = await staff('clinician', 'Dr Ada Okafor')
  const therapist = await staff('therapist', 'Tom Reyes PT')

  const patient = { email: `patient-${suffix}@e2e.test`, password: 'patient e2e password' }
  await api('/v1/auth/register', { method: 'POST', body: { ...patient, display_name: 'Sam Whitfield' } })
  patient.token = await login(patient.email, patient.password)
  patient.id = (await api('/v1/me', { token: patient.token })).id
  const invite = await api('/v1/invites', { method: 'POST', token: clinician.token, body: {} })
  await api('/v1/care-team/join', { method: 'POST', token: patient.token, body: { code: invite.code } })

  const now = Date.now()
  const plan = await api(`/v1/patients/${patient.id}/plans`, {
    method: 'POST',
    token: therapist.token,
    body: {
      title: 'Evening stretches', starts_on: isoDate(now - 14 * DAY), reminder_time: '21:00',
      items: [{ exercise_slug: 'cat-cow' }, { exercise_slug: 'pelvic-tilt' }],
    },
  })
  // Twelve nights, pain easing from 6 to 3 (eased by rest, so no flag),
  // sleep quality 2-4; sessions on most evenings.
  const nights = Array.from({ length: 12 }, (_, i) => 12 - i)
  const painLogs = nights.map((d) => ({
    id: `n${d}`, recorded_at: now - d * DAY, intensity: 3 + Math.round((d / 12) * 3),
    period: 'night', eased_by_rest: true,
  }))
  const sleepLogs = nights.map((d) => ({
    id: `s${d}`, night_of: isoDate(now - d * DAY - DAY / 2), quality: 2 + (d % 3),
    awakenings: d % 4, woke_from_pain: d % 3 === 0,
  }))
  const sessions = nights.filter((d) => d % 4 !== 0).map((d) => ({
    id: `e${d}`, plan_id: plan.id, performed_at: now - d * DAY, completed_items: 2,
    duration_minutes: 15, pain_before: 5, pain_after: 3,
  }))
  await api('/v1/sync/push', {
    method: 'POST', token: patient.token,
    body: { changes: {
      pain_logs: { created: painLogs },
      sleep_logs: { created: sleepLogs },
      exercise_sessions: { created: sessions },
    } },
  })
  // The red flag.
  await api('/v1/sync/push', {
    method: 'POST', token: patient.token,
    body: { changes: { pain_logs: { created: [
      { id: 'x1', recorded_at: now, intensity: 8, saddle_numbness: true },
    ] } } },
  })
  const open = await api('/v1/alerts?status=open&severity=emergency', { token: clinician.token })
  const alert = open.items.find((a) => a.patient_id === patient.id)
  assert.ok(alert, 'the emergency alert was raised')
  return { clinician, patient, alertId: alert.id }
}

test('a clinician signs in, acknowledges an emergency alert and opens the chart', async () => {
  const { clinician, patient, alertId } = await seed()
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dorsal-clinic-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 900 },
  })
  // Anything the browser reports (a CSP violation, a failed load) fails the test.
  const problems = []
  try {
    const page = context.pages()[0] || (await context.newPage())
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(String(error)))

    // Sign in.
    await page.goto(`${BASE}/clinic`)
    await page.getByLabel('Email').fill(clinician.email)
    await page.getByLabel('Password').fill(clinician.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(`${BASE}/clinic/alerts`)
    await page.getByText('Signed in as Dr Ada Okafor (clinician)').waitFor()

    // The session cookie, as the browser stored it over plain HTTP on loopback.
    const cookie = (await context.cookies(`${BASE}/clinic`)).find((c) => c.name === 'dorsal_clinic')
    assert.ok(cookie, 'the session cookie is stored')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.secure, true)
    assert.equal(cookie.sameSite, 'Strict')
    assert.equal(cookie.path, '/clinic')

    // The alert is open, with its evidence; acknowledge it.
    const open = page.locator(`#open [data-alert-id="${alertId}"]`)
    await open.waitFor()
    const text = await open.innerText()
    for (const expected of ['EMERGENCY', 'Cauda equina', 'Sam Whitfield', 'Saddle numbness yes']) {
      assert.ok(text.includes(expected), `"${expected}" in ${text}`)
    }
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'clinic-inbox-open.png'), fullPage: true })
    await open.getByRole('button', { name: 'Acknowledge' }).click()
    await page.waitForURL((url) => url.hash === `#alert-${alertId}`)
    const acknowledged = page.locator(`#acknowledged [data-alert-id="${alertId}"]`)
    await acknowledged.waitFor()
    assert.equal(await page.locator(`#open [data-alert-id="${alertId}"]`).count(), 0)
    assert.equal(await acknowledged.getByRole('button', { name: 'Acknowledge' }).count(), 0)
    await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {})
    const inboxShot = path.join(SCREENSHOT_DIR, 'clinic-inbox.png')
    await page.screenshot({ path: inboxShot, fullPage: true })

    // The patient's page: the chart and the plan.
    await acknowledged.getByRole('link', { name: 'Sam Whitfield' }).click()
    await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
    await page.locator('#pain-sleep-chart').waitFor()
    assert.equal(await page.locator('#pain-sleep-chart circle.pain').count(), 12)
    assert.ok((await page.locator('#pain-sleep-chart rect.sleep').count()) >= 11)
    await page.getByText('Evening stretches').waitFor()
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'clinic-patient.png'), fullPage: true })

    // A link from another site arrives without the Strict cookie; the page
    // reloads itself to get it sent, and lands signed in.
    const arrivals = []
    const onArrival = (response) => {
      if (response.url() !== `${BASE}/clinic/patients`) return
      arrivals.push(response.request().allHeaders().then((h) => /dorsal_clinic=/.test(h.cookie || '')))
    }
    page.on('response', onArrival)
    await page.goto('about:blank')
    await page.setContent(`<a id="out" href="${BASE}/clinic/patients">patients</a>`)
    await page.click('#out')
    await page.waitForURL(`${BASE}/clinic/patients`)
    await page.getByRole('heading', { name: 'Patients' }).waitFor()
    page.off('response', onArrival)
    // First without the session cookie (the reload page), then with it.
    assert.deepEqual(await Promise.all(arrivals), [false, true])

    // Sign out: back to the form, cookie gone.
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(`${BASE}/clinic`)
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    const left = (await context.cookies(`${BASE}/clinic`)).find((c) => c.name === 'dorsal_clinic')
    assert.equal(left, undefined)

    assert.deepEqual(problems, [])
    console.log(`screenshot: ${inboxShot}`)
  } finally {
    await context.close()
    fs.rmSync(userDataDir, { recursive: true, force: true })
  }
})
