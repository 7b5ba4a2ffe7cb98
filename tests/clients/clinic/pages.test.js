// Every /clinic page, as every role that can open it (and as one that
// cannot), held to SPEC §11 by checkPage: 390 px and 1280 px without
// sideways scrolling, no axe-core violation, a visible label on every
// field. The pages that only answer a form (a secret shown once, a form
// sent back with its problems) are checked by the tasks that make them
// (admin.test.js, therapist.test.js, clinic.test.js).
//
// A new page is one line in PAGES: its screenshot name, who opens it
// (null: signed out), its address (from the seeded world below) and the
// status it answers with.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const s = require('./support')

const { BASE } = s
const STAFF = ['admin', 'clinician', 'therapist']
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000'

const PAGES = [
  { name: 'sign-in', as: [null], path: '/clinic' },
  { name: 'password-reset', as: [null], path: '/clinic/password-reset' },
  { name: 'password-reset-code', as: [null], path: '/clinic/password-reset/confirm' },
  { name: 'account', as: STAFF, path: '/clinic/account' },
  { name: 'two-factor-start', as: ['clinician'], path: '/clinic/account/two-factor' },
  { name: 'inbox', as: STAFF, path: '/clinic/alerts' },
  { name: 'inbox-open-emergency', as: ['clinician'], path: '/clinic/alerts?status=open&severity=emergency' },
  { name: 'inbox-resolved', as: ['clinician'], path: '/clinic/alerts?status=resolved&severity=all' },
  { name: 'inbox-bad-filter', as: ['clinician'], path: '/clinic/alerts?status=closed', status: 400 },
  { name: 'patients', as: STAFF, path: '/clinic/patients' },
  { name: 'patients-search', as: STAFF, path: (w) => `/clinic/patients?q=${encodeURIComponent(w.patient.email.slice(0, 12))}` },
  { name: 'patients-no-match', as: ['clinician'], path: '/clinic/patients?q=nobody%25here' },
  { name: 'patient', as: STAFF, path: (w) => `/clinic/patients/${w.patient.id}` },
  { name: 'invites', as: STAFF, path: '/clinic/invites' },
  { name: 'exercises', as: ['therapist'], path: '/clinic/exercises' },
  { name: 'plan-builder', as: ['therapist'], path: (w) => `/clinic/patients/${w.patient.id}/plans/new` },
  { name: 'plan-revise', as: ['therapist'], path: (w) => `/clinic/plans/${w.plan.id}/revise` },
  { name: 'plan-archive-confirm', as: ['therapist'], path: (w) => `/clinic/plans/${w.plan.id}/archive` },
  { name: 'plan-versions', as: STAFF, path: (w) => `/clinic/plans/${w.plan.id}/versions` },
  { name: 'staff', as: ['admin'], path: '/clinic/staff' },
  { name: 'staff-member', as: ['admin'], path: (w) => `/clinic/staff/${w.clinician.id}` },
  { name: 'staff-deactivate-confirm', as: ['admin'], path: (w) => `/clinic/staff/${w.clinician.id}/deactivate` },
  { name: 'webhooks', as: ['admin'], path: '/clinic/webhooks' },
  { name: 'webhook-remove-confirm', as: ['admin'], path: (w) => `/clinic/webhooks/${w.webhook.id}/remove` },
  { name: 'audit', as: ['admin'], path: '/clinic/audit' },
  { name: 'audit-by-staff', as: ['admin'], path: (w) => `/clinic/audit?patient_id=&staff_id=${w.clinician.id}` },
  { name: 'audit-by-patient', as: ['admin'], path: (w) => `/clinic/audit?patient_id=${w.patient.id}&staff_id=` },
  { name: 'audit-bad-filter', as: ['admin'], path: '/clinic/audit?patient_id=nobody&staff_id=', status: 422 },
  { name: 'settings', as: ['admin'], path: '/clinic/settings' },
  { name: 'gateway-remove-confirm', as: ['admin'], path: '/clinic/settings/push-gateway/remove' },
  { name: 'not-found', as: ['clinician'], path: `/clinic/patients/${NO_SUCH_ID}`, status: 404 },
  { name: 'not-for-your-role', as: ['clinician'], path: '/clinic/exercises', status: 403 },
  { name: 'not-for-your-role', as: ['therapist'], path: '/clinic/audit', status: 403 },
]

/// The seeded clinic, plus what only some pages show: a second version of
/// the plan, a webhook with a delivery (the alert is raised after it), and
/// a push gateway.
async function world() {
  const w = await s.seedClinic()
  const token = w.admin.token
  const webhook = await s.api('/v1/webhooks', {
    method: 'POST', token, body: { url: `https://hooks.example.com/dorsal/${w.suffix}`, min_severity: 'urgent' },
  })
  await s.raiseEmergency(w.patient, w.clinician.token)
  await s.api('/v1/push-gateway', { method: 'PUT', token, body: { url: `https://push.example.com/dorsal/${w.suffix}` } })
  const current = await s.api(`/v1/plans/${w.plan.id}`, { token: w.therapist.token })
  await s.api(`/v1/plans/${w.plan.id}`, {
    method: 'PUT',
    token: w.therapist.token,
    body: {
      title: current.title, starts_on: current.starts_on, reminder_time: '21:30',
      notes: 'Slowly, and stop if the pain runs down a leg.',
      items: [{ exercise_slug: 'cat-cow', sets: 2, reps: 8 }],
    },
  })
  return { ...w, webhook }
}

/// What destroys (switching an account off, removing an endpoint or the
/// gateway, archiving a plan) is posted only from its own confirmation
/// page, which says what will happen and has a way back; every other page
/// only links to it.
const DESTRUCTIVE = /\/(deactivate|remove|archive)$/
async function destructiveOnlyWhenConfirmed(page, name) {
  const actions = await page.locator('form[method="post"]').evaluateAll(
    (forms) => forms.map((f) => new URL(f.action).pathname))
  const destructive = actions.filter((a) => DESTRUCTIVE.test(a))
  if (!name.endsWith('-confirm')) {
    assert.deepEqual(destructive, [], `${name} posts a destructive action without asking first`)
    return
  }
  const here = new URL(page.url()).pathname
  assert.deepEqual(destructive, [here], `${name} posts to itself, once`)
  assert.ok(await page.getByRole('link', { name: /^Cancel/ }).count(), `${name} has a way back`)
}

test('every page, as every role that opens it, at 390 px and 1280 px', async (t) => {
  const w = await world()
  const accounts = { admin: w.admin, clinician: w.clinician, therapist: w.therapist }
  const roles = [null, ...STAFF]
  for (const role of roles) {
    const pages = PAGES.filter((p) => p.as.includes(role))
    await t.test(role ? `as ${role}` : 'signed out', async (t) => {
      const { page, done } = await s.openPage(t)
      if (role) await s.signIn(page, accounts[role])
      for (const entry of pages) {
        const route = typeof entry.path === 'function' ? entry.path(w) : entry.path
        const response = await page.goto(`${BASE}${route}`)
        assert.equal(response.status(), entry.status || 200, `${route} as ${role}`)
        assert.equal(new URL(page.url()).pathname, route.split('?')[0], `${route} is not redirected`)
        await destructiveOnlyWhenConfirmed(page, entry.name)
        await s.checkPage(page, role ? `${entry.name}-${role}` : entry.name)
      }
      done()
    })
  }
})
