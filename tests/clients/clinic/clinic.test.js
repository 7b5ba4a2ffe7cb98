// The /clinic sign-in and alert inbox in Debian's headless Chromium against
// a running dorsal at DORSAL_URL: how axe-core gets into pages whose CSP
// forbids scripts, a clinician's day with the mouse and with the keyboard
// alone, the session cookie, and the sign-in form's refusals. Each page is
// held to SPEC §11 by checkPage (support.js).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const axe = require('axe-core')
const s = require('./support')

const { BASE } = s

test('axe-core runs in the pages with their Content-Security-Policy intact', async (t) => {
  // Not guarded: this test makes the page break its CSP on purpose.
  const context = await (await s.browser()).newContext()
  t.after(() => context.close())
  const page = await context.newPage()
  const messages = []
  page.on('console', (message) => messages.push(message.text()))
  const response = await page.goto(`${BASE}/clinic`)
  const csp = response.headers()['content-security-policy'] || ''
  assert.match(csp, /default-src 'none'/)
  assert.doesNotMatch(csp, /script-src|unsafe-inline|unsafe-eval/)
  // Evaluated through the DevTools protocol: not subject to the page's CSP.
  await page.evaluate(axe.source)
  assert.equal(await page.evaluate(() => typeof window.axe.run), 'function')
  assert.deepEqual(messages, [], 'evaluating axe broke no rule of the CSP')
  // And it works there: a field whose label is taken away is found.
  await page.evaluate(() => document.querySelector('label[for="email"]').remove())
  const found = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'rule', values: ['label'] } }))
  assert.deepEqual(found.violations.flatMap((v) => v.nodes.map((n) => n.target.join(' '))), ['#email'])
  // A script the page itself would run is still refused.
  await page.evaluate(() => {
    const script = document.createElement('script')
    script.textContent = 'window.ranInline = true'
    document.head.append(script)
  })
  assert.equal(await page.evaluate(() => window.ranInline), undefined)
  assert.ok(messages.some((m) => /Content Security Policy/.test(m)), 'the CSP refused the script')
})

test('a clinician signs in, acknowledges and resolves an emergency alert and opens the chart', async (t) => {
  const { clinician, patient, alertId } = await s.seedClinic()
  const { context, page, done } = await s.openPage(t)

  // Sign in.
  await page.goto(`${BASE}/clinic`)
  await s.checkPage(page, 'sign-in')
  await page.getByLabel('Email').fill(clinician.email)
  await page.getByLabel('Password', { exact: true }).fill(clinician.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${BASE}/clinic/alerts`)
  await page.getByText('Signed in as Dr Ada Okafor (clinician)').waitFor()

  // The session cookie, as the browser stored it over plain HTTP (no
  // proxy said HTTPS, so it is not Secure).
  const cookie = (await context.cookies(`${BASE}/clinic`)).find((c) => c.name === 'dorsal_clinic')
  assert.ok(cookie, 'the session cookie is stored')
  assert.equal(cookie.httpOnly, true)
  assert.equal(cookie.secure, false)
  assert.equal(cookie.sameSite, 'Strict')
  assert.equal(cookie.path, '/clinic')

  // The alert is open, with its evidence; acknowledge it.
  const open = page.locator(`#open [data-alert-id="${alertId}"]`)
  await open.waitFor()
  const text = await open.innerText()
  for (const expected of ['EMERGENCY', 'Cauda equina', 'Sam Whitfield', 'Saddle numbness yes']) {
    assert.ok(text.includes(expected), `"${expected}" in ${text}`)
  }
  await s.checkPage(page, 'inbox-open')
  await open.getByRole('button', { name: 'Acknowledge' }).click()
  await page.waitForURL((url) => url.hash === `#alert-${alertId}`)
  const acknowledged = page.locator(`#acknowledged [data-alert-id="${alertId}"]`)
  await acknowledged.waitFor()
  assert.equal(await page.locator(`#open [data-alert-id="${alertId}"]`).count(), 0)
  assert.equal(await acknowledged.getByRole('button', { name: 'Acknowledge' }).count(), 0)
  assert.equal((await s.api(`/v1/alerts/${alertId}`, { token: clinician.token })).status, 'acknowledged')
  await s.checkPage(page, 'inbox-acknowledged')

  // The patient's page: the chart and the plan.
  await acknowledged.getByRole('link', { name: 'Sam Whitfield' }).click()
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
  await page.locator('#pain-sleep-chart').waitFor()
  assert.equal(await page.locator('#pain-sleep-chart circle.pain').count(), 12)
  assert.ok((await page.locator('#pain-sleep-chart rect.sleep').count()) >= 11)
  await page.getByText('Evening stretches').waitFor()
  // A clinician writes no plans: no builder links.
  assert.equal(await page.getByRole('link', { name: 'Assign a new program' }).count(), 0)
  await s.checkPage(page, 'patient-clinician')

  // Back to the inbox to resolve it, with a note.
  await page.getByRole('navigation', { name: 'Clinic' }).getByRole('link', { name: 'Alerts' }).click()
  await page.waitForURL(`${BASE}/clinic/alerts`)
  const card = page.locator(`#acknowledged [data-alert-id="${alertId}"]`)
  await card.getByRole('textbox').fill('Called the patient; sent to A&E for an MRI.')
  await card.getByRole('button', { name: 'Resolve' }).click()
  await page.waitForURL(`${BASE}/clinic/alerts`)
  await page.locator(`#resolved [data-alert-id="${alertId}"]`).waitFor({ state: 'attached' })
  assert.equal(await page.locator(`#acknowledged [data-alert-id="${alertId}"]`).count(), 0)
  const resolved = await s.api(`/v1/alerts/${alertId}`, { token: clinician.token })
  assert.equal(resolved.status, 'resolved')
  assert.equal(resolved.resolution_note, 'Called the patient; sent to A&E for an MRI.')
  await page.locator('#resolved summary').click()
  await s.checkPage(page, 'inbox-resolved')

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

  done()
})

test('with the keyboard alone a clinician signs in, acknowledges an alert and opens the chart', async (t) => {
  const { clinician, patient, alertId } = await s.seedClinic()
  const { page, done } = await s.openPage(t)

  // The address typed in; from here on only keys.
  await page.goto(`${BASE}/clinic`)
  // Chromium applies `autofocus` at its next rendering step, which can
  // come just after the load event: wait for it (failing if it never does).
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'email', null, { timeout: 5000 })
    .catch(() => {})
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email', 'the form starts at Email')
  await page.keyboard.type(clinician.email)
  await s.tabTo(page, page.getByLabel('Password', { exact: true }))
  await page.keyboard.type(clinician.password)
  await s.tabTo(page, page.getByRole('button', { name: 'Sign in' }))
  await page.keyboard.press('Enter')
  await page.waitForURL(`${BASE}/clinic/alerts`)

  const open = page.locator(`#open [data-alert-id="${alertId}"]`)
  await s.tabTo(page, open.getByRole('button', { name: 'Acknowledge' }), { max: 200 })
  await page.keyboard.press('Space')
  await page.waitForURL((url) => url.hash === `#alert-${alertId}`)
  const acknowledged = page.locator(`#acknowledged [data-alert-id="${alertId}"]`)
  await acknowledged.waitFor()
  assert.equal((await s.api(`/v1/alerts/${alertId}`, { token: clinician.token })).status, 'acknowledged')

  // Back up the page (Shift+Tab) to the patient's name, and in.
  await s.tabTo(page, acknowledged.getByRole('link', { name: 'Sam Whitfield' }), { back: true, max: 200 })
  await page.keyboard.press('Enter')
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
  await page.locator('#pain-sleep-chart').waitFor()

  // And out.
  await s.tabTo(page, page.getByRole('button', { name: 'Sign out' }))
  await page.keyboard.press('Enter')
  await page.waitForURL(`${BASE}/clinic`)
  done()
})

test('the sign-in form refuses a wrong password and a patient, in words', async (t) => {
  const { patient } = await s.seedClinic()
  const { page, done } = await s.openPage(t)

  await page.goto(`${BASE}/clinic`)
  await page.getByLabel('Email').fill(patient.email)
  await page.getByLabel('Password', { exact: true }).fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').getByText('Email or password is wrong.').waitFor()
  await s.checkPage(page, 'sign-in-wrong-password')

  // (The form comes back empty.)
  await page.getByLabel('Email').fill(patient.email)
  await page.getByLabel('Password', { exact: true }).fill(patient.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'This page is for clinic staff' }).waitFor()
  await s.checkPage(page, 'staff-only')
  done()
})

test('checkPage finds sideways scrolling, unlabelled fields, controls out of the Tab order and axe violations', async (t) => {
  // A page made to break each check (about:blank: nothing is fetched).
  const { page, done } = await s.openPage(t)
  await page.setContent(`<!DOCTYPE html><html lang="en"><head><title>Broken</title>
    <meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
    <h1>Broken</h1>
    <div id="wide" style="width: 1400px">wide</div>
    <div id="scroller" style="overflow-x: auto"><table style="width: 900px"><tr><td>x</td></tr></table></div>
    <input id="nameless" type="text" aria-label="Only for screen readers" placeholder="Type">
    <p style="color: #ccc; background: #fff">Too pale to read</p>
    <a id="mouse-only" href="/clinic" tabindex="-1">Mouse only</a>
    </main></body></html>`)
  const problems = await s.inspect(page, 'broken', { screenshots: false })
  const at = (width, check, pattern) => problems.some((p) => p.width === width && p.check === check && pattern.test(p.detail))
  for (const width of [390, 1280]) {
    assert.ok(at(width, 'no sideways scrolling', /document scrollWidth/), `the page scrolls at ${width}`)
    assert.ok(at(width, 'no sideways scrolling', /wider than .*div#wide/), `#wide at ${width}`)
    assert.ok(at(width, 'visible labels', /input#nameless has no visible label \(only aria-label/), `label at ${width}`)
    assert.ok(at(width, 'axe', /^color-contrast \(serious\) at p/), `contrast at ${width}`)
    assert.ok(at(width, 'keyboard', /a#mouse-only "Mouse only" cannot take the keyboard focus/), `tabindex at ${width}`)
  }
  assert.ok(at(390, 'no sideways scrolling', /scrolls sideways: div#scroller/), 'the table scrolls at 390')
  assert.ok(!at(1280, 'no sideways scrolling', /scrolls sideways: div#scroller/), 'the table fits at 1280')
  done()
})

test('a clinic computer on the LAN signs in over plain HTTP and its forms keep their CSRF check', async (t) => {
  const boss = await s.admin()
  const clinician = await s.addStaff(boss.token, 'clinician', 'Dr Noor Haddad', s.unique())
  const { context, page, done } = await s.openPage(t)
  await page.goto(`${s.LAN_BASE}/clinic`)
  assert.equal(await page.evaluate(() => window.isSecureContext), false, 'not a secure context')
  await page.getByLabel('Email').fill(clinician.email)
  await page.getByLabel('Password', { exact: true }).fill(clinician.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${s.LAN_BASE}/clinic/alerts`)
  await page.getByText('Signed in as Dr Noor Haddad (clinician)').waitFor()
  const cookie = (await context.cookies(`${s.LAN_BASE}/clinic`)).find((c) => c.name === 'dorsal_clinic')
  assert.ok(cookie, 'the session cookie is kept on the LAN host')
  assert.equal(cookie.secure, false)
  assert.equal(cookie.sameSite, 'Strict')

  // A form whose CSRF token went stale is refused and changes nothing.
  await page.goto(`${s.LAN_BASE}/clinic/account`)
  await page.locator('main form[action="/clinic/account/two-factor"] input[name="csrf"]').evaluate((input) => { input.value = 'stale' })
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click(),
  ])
  assert.equal(refused.status(), 403)
  await page.goto(`${s.LAN_BASE}/clinic/account`)
  assert.equal(await page.locator('#two-factor').innerText(), 'Off')

  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL(`${s.LAN_BASE}/clinic`)
  done()
})
