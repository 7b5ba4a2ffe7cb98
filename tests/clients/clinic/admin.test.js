// An admin's work in /clinic, in Debian's headless Chromium against a
// running dorsal at DORSAL_URL: makes an invite (code and QR code shown,
// and a patient joins with the code), adds a member of staff, changes
// their role, switches their account off through its confirmation page
// (cancelled once), adds a webhook (its secret shown once) and removes it
// through its confirmation page, sets and removes the push gateway, and
// filters the audit log. What the API then says is checked where it
// matters; the pages only these tasks reach go through checkPage.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const s = require('./support')

const { BASE } = s

test('an admin runs the clinic: invites, staff, webhooks, push gateway, audit log', async (t) => {
  const boss = await s.admin()
  const suffix = s.unique()
  const { page, done } = await s.staffPage(t, boss)
  const nav = page.getByRole('navigation', { name: 'Clinic' })

  // An invite: the code large, the same code as a QR code, its expiry.
  await nav.getByRole('link', { name: 'Invites' }).click()
  await page.waitForURL(`${BASE}/clinic/invites`)
  await page.getByRole('button', { name: 'Make an invite code' }).click()
  const code = (await page.locator('#invite-code').innerText()).trim()
  assert.match(code, /^\S{6,}$/)
  const qr = page.getByRole('img', { name: `QR code of the invite code ${code}` })
  await qr.waitFor()
  assert.ok((await qr.locator('path').count()) > 0, 'the QR code is drawn')
  await page.locator('#invite').getByText(/Works once, until \d{4}-\d\d-\d\d/).waitFor()
  await s.checkPage(page, 'invite-made')
  // The code works, once: a patient joins with it.
  const patient = { email: `patient-${suffix}@e2e.test`, password: 'patient e2e password' }
  await s.api('/v1/auth/register', { method: 'POST', body: { ...patient, display_name: 'Noor Haddad' } })
  patient.token = await s.login(patient.email, patient.password)
  await s.api('/v1/care-team/join', { method: 'POST', token: patient.token, body: { code } })
  patient.id = (await s.api('/v1/me', { token: patient.token })).id

  // A new member of staff; first with an email already taken (refused).
  const member = { email: `new-clinician-${suffix}@e2e.test`, password: 'new clinician password', name: 'Dr Lena Moreau' }
  await nav.getByRole('link', { name: 'Staff' }).click()
  await page.waitForURL(`${BASE}/clinic/staff`)
  const add = async (email) => {
    await page.getByLabel('Email').fill(email)
    await page.getByLabel(/^Display name/).fill(member.name)
    await page.getByLabel('Role').selectOption('clinician')
    await page.getByLabel(/^Initial password/).fill(member.password)
    await page.getByRole('button', { name: 'Add', exact: true }).click()
  }
  await add(boss.email)
  await page.getByRole('alert').waitFor()
  assert.equal(await page.getByLabel(/^Display name/).inputValue(), member.name, 'what was typed is kept')
  assert.equal(await page.getByLabel(/^Initial password/).inputValue(), '', 'but never the password')
  await s.checkPage(page, 'staff-add-refused')
  await add(member.email)
  await page.waitForURL((url) => /\/clinic\/staff\/[0-9a-f-]{36}$/.test(url.pathname) && url.searchParams.has('added'))
  member.id = new URL(page.url()).pathname.split('/').pop()
  await page.getByRole('status').getByText(/^Added\./).waitFor()
  await s.checkPage(page, 'staff-member-added')
  const token = await s.login(member.email, member.password)
  assert.equal((await s.api('/v1/me', { token })).role, 'clinician')

  // Their role changes.
  await page.getByLabel('Role').selectOption('therapist')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByRole('status').getByText('Saved.').waitFor()
  const listed = async () => (await s.api('/v1/staff?limit=500', { token: boss.token })).items.find((m) => m.id === member.id)
  assert.equal((await listed()).role, 'therapist')

  // Switched off, through the confirmation page: cancelled once.
  await page.getByRole('link', { name: /^Switch off this account/ }).click()
  await page.waitForURL(`${BASE}/clinic/staff/${member.id}/deactivate`)
  await page.getByRole('heading', { name: `Switch off ${member.name}'s account?` }).waitFor()
  await page.getByRole('link', { name: 'Cancel' }).click()
  await page.waitForURL(`${BASE}/clinic/staff/${member.id}`)
  assert.equal((await listed()).active, true, 'cancel changed nothing')
  await page.getByRole('link', { name: /^Switch off this account/ }).click()
  await page.getByRole('button', { name: 'Switch off' }).click()
  await page.waitForURL(`${BASE}/clinic/staff/${member.id}?changed=1`)
  await page.locator('#member-state').getByText(/switched off/).waitFor()
  assert.equal((await listed()).active, false)
  await assert.rejects(s.login(member.email, member.password), /401/, 'a switched-off account cannot sign in')
  await s.checkPage(page, 'staff-member-switched-off')

  // A webhook: the secret once, then a delivery when an alert is raised.
  const url = `https://hooks.example.com/dorsal/${suffix}`
  await nav.getByRole('link', { name: 'Webhooks' }).click()
  await page.waitForURL(`${BASE}/clinic/webhooks`)
  await page.getByLabel(/^URL/).fill('http://127.0.0.1/hook')
  await page.getByRole('button', { name: 'Add endpoint' }).click()
  await page.getByRole('alert').getByText(/URL must not point at a loopback/).waitFor()
  await s.checkPage(page, 'webhook-add-refused')
  await page.getByLabel(/^URL/).fill(url)
  await page.getByLabel('Send alerts of at least').selectOption('emergency')
  await page.getByRole('button', { name: 'Add endpoint' }).click()
  const secret = await page.locator('#new-secret').getByLabel('Signing secret').inputValue()
  assert.ok(secret.length >= 24, 'the signing secret is shown')
  await s.checkPage(page, 'webhook-added')
  const hooks = async () => {
    const listed = await s.api('/v1/webhooks', { token: boss.token })
    return listed.items || listed
  }
  const hook = (await hooks()).find((h) => h.url === url)
  assert.ok(hook, 'the API lists the endpoint')
  assert.equal(hook.min_severity, 'emergency')
  assert.equal(hook.secret ?? null, null, 'the API does not show the secret again')
  await page.goto(`${BASE}/clinic/webhooks`)
  assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again')
  // A red flag from the patient who joined with the invite: a delivery.
  await s.raiseEmergency(patient, boss.token)
  const card = page.locator(`[data-webhook-id="${hook.id}"]`)
  for (let i = 0; i < 20 && !(await card.locator('[data-delivery-id]').count()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    await page.reload()
  }
  assert.match(await card.locator('[data-delivery-id]').first().innerText(), /alert\./)
  await s.checkPage(page, 'webhooks-with-delivery')
  // Removed, through the confirmation page.
  await card.getByRole('link', { name: /^Remove this endpoint/ }).click()
  await page.waitForURL(`${BASE}/clinic/webhooks/${hook.id}/remove`)
  await page.getByRole('button', { name: 'Remove' }).click()
  await page.waitForURL(`${BASE}/clinic/webhooks`)
  assert.equal(await page.locator(`[data-webhook-id="${hook.id}"]`).count(), 0)
  assert.ok(!(await hooks()).some((h) => h.id === hook.id))

  // The push gateway: its secret once, removed through its confirmation.
  await nav.getByRole('link', { name: 'Settings' }).click()
  await page.waitForURL(`${BASE}/clinic/settings`)
  // (Another test's gateway may be set: this one replaces it.)
  await page.locator('#gateway_url').fill(`https://push.example.com/dorsal/${suffix}`)
  await page.getByRole('button', { name: 'Set gateway' }).click()
  assert.ok((await page.getByLabel('Signing secret').inputValue()).length >= 24)
  await s.checkPage(page, 'settings-gateway-set')
  await page.getByRole('link', { name: /^Remove the push gateway/ }).click()
  await page.waitForURL(`${BASE}/clinic/settings/push-gateway/remove`)
  await page.getByRole('button', { name: 'Remove' }).click()
  await page.waitForURL(`${BASE}/clinic/settings`)
  await page.getByText('No push gateway is set.').waitFor()
  await assert.rejects(s.api('/v1/push-gateway', { token: boss.token }), /404/)

  // The audit log, by member of staff and by patient.
  await nav.getByRole('link', { name: 'Audit log' }).click()
  await page.waitForURL(`${BASE}/clinic/audit`)
  await page.getByLabel(/^Member of staff/).selectOption(member.id)
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.waitForURL((u) => u.pathname === '/clinic/audit' && u.searchParams.get('staff_id') === member.id)
  const actions = await page.locator('#audit tbody tr td:nth-child(3)').allInnerTexts()
  assert.ok(actions.length >= 2, `entries about ${member.id}: ${actions}`)
  assert.ok(actions.every((a) => a.startsWith('staff.')), `only staff actions: ${actions}`)
  await s.checkPage(page, 'audit-filtered-by-staff')
  await page.getByRole('link', { name: 'Clear' }).click()
  await page.getByLabel('Patient id').fill(patient.id)
  await page.getByRole('button', { name: 'Filter' }).click()
  await page.waitForURL((u) => u.searchParams.get('patient_id') === patient.id)
  const patients = await page.locator('#audit tbody tr td:nth-child(4)').allInnerTexts()
  assert.ok(patients.length >= 1 && patients.every((p) => p.trim() === patient.id), `only ${patient.id}: ${patients}`)
  await s.checkPage(page, 'audit-filtered-by-patient')

  done()
})
