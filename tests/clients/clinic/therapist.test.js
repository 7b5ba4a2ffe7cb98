// A therapist's work in /clinic, in Debian's headless Chromium against a
// running dorsal at DORSAL_URL: adds the clinic's own exercise to the
// catalog, builds a program from the catalog and assigns it with the
// keyboard alone, revises it (version 2, version 1 still readable) and
// archives it through its confirmation page; what the patient's device
// then pulls is checked at each step. The pages only these tasks reach (a
// form sent back with its problems) go through checkPage.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const s = require('./support')

const { BASE } = s

/// The patient's plans and their items, as their device pulls them.
async function devicePlans(patient) {
  const changes = await s.pullAll(patient.token)
  const items = s.rows(changes, 'plan_items')
  return s.rows(changes, 'exercise_plans').map((plan) => ({
    ...plan,
    items: items.filter((i) => i.plan_id === plan.id).sort((a, b) => a.position - b.position),
  }))
}

test('a therapist adds an exercise, assigns a program by keyboard, revises and archives it', async (t) => {
  const boss = await s.admin()
  const suffix = s.unique()
  const therapist = await s.addStaff(boss.token, 'therapist', 'Tom Reyes PT', suffix)
  const patient = await s.addPatient(therapist.token, 'Priya Natarajan', suffix)
  const { page, done } = await s.staffPage(t, therapist)
  const nav = page.getByRole('navigation', { name: 'Clinic' })

  // The clinic's own exercise; first with a short code the service refuses.
  const slug = `wall-angel-${suffix.replace(/[^a-z0-9]/g, '')}`
  await nav.getByRole('link', { name: 'Exercises' }).click()
  await page.waitForURL(`${BASE}/clinic/exercises`)
  const form = page.locator('#exercise-form')
  await form.getByLabel('Name').fill('Wall angels')
  await form.getByLabel(/^Short code/).fill('Wall Angels!')
  await form.getByLabel('Instructions').fill('Back against the wall, slide the arms up and down slowly.')
  await form.getByLabel(/^When to stop/).fill('Stop if the arms tingle.')
  await form.getByLabel('Default sets').fill('2')
  await form.getByLabel('Default reps').fill('10')
  await form.getByLabel('Default hold seconds').fill('3')
  await form.getByRole('button', { name: 'Add the exercise' }).click()
  await page.locator('#form-errors').getByText(/Short code/).waitFor()
  assert.equal(await form.getByLabel('Name').inputValue(), 'Wall angels', 'what was typed is kept')
  await s.checkPage(page, 'exercise-add-refused')
  await form.getByLabel(/^Short code/).fill(slug)
  await form.getByRole('button', { name: 'Add the exercise' }).click()
  await page.waitForURL(`${BASE}/clinic/exercises#exercise-${slug}`)
  const row = page.locator(`#catalog tr[data-slug="${slug}"]`)
  assert.match(await row.innerText(), /Wall angels[\s\S]*2 × 10, hold 3 s[\s\S]*Your clinic/)
  const catalog = await s.api('/v1/exercises', { token: therapist.token })
  const listed = (catalog.items || catalog).find((e) => e.slug === slug)
  assert.ok(listed, 'the API lists the new exercise')
  assert.equal(listed.default_reps, 10)

  // Assign a program with the keyboard alone, from the patient's page.
  await page.goto(`${BASE}/clinic/patients/${patient.id}`)
  await page.getByText('No active plan.').waitFor()
  await s.tabTo(page, page.getByRole('link', { name: 'Assign a new program' }))
  await page.keyboard.press('Enter')
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}/plans/new`)
  await s.tabTo(page, page.getByLabel('Title'))
  await page.keyboard.type('Night-time back care')
  await s.tabTo(page, page.getByLabel(/^Notes for the patient/))
  await page.keyboard.type('Before bed, on a firm surface.')
  const reminder = page.getByLabel(/^Evening reminder time/)
  await s.tabTo(page, reminder)
  await page.keyboard.type('0915P')
  assert.equal(await reminder.inputValue(), '21:15', 'the time typed as 09:15 PM')
  // The chosen exercises in the page's order; the clinic's own goes first.
  const chosen = { [slug]: { order: '1', sets: '3' }, 'cat-cow': { order: '2', reps: '6' } }
  const onPage = await page.locator('#plan-form .exercise').evaluateAll((cards) => cards.map((c) => c.dataset.slug))
  for (const pick of onPage.filter((x) => x in chosen)) {
    await s.tabTo(page, page.locator(`#include-${pick}`), { max: 200 })
    await page.keyboard.press('Space')
    for (const [field, value] of Object.entries(chosen[pick])) {
      await s.tabTo(page, page.locator(`#${field}-${pick}`))
      await s.retype(page, value)
    }
  }
  await s.tabTo(page, page.getByRole('button', { name: 'Assign the program' }), { max: 200 })
  await page.keyboard.press('Enter')
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
  await page.getByRole('heading', { name: 'Night-time back care' }).waitFor()

  // What the patient's device pulls.
  let [plan] = await devicePlans(patient)
  assert.ok(plan, 'the device pulls the plan')
  assert.equal(plan.title, 'Night-time back care')
  assert.equal(plan.status, 'active')
  assert.equal(plan.version, 1)
  assert.equal(plan.reminder_time, '21:15')
  assert.equal(plan.notes, 'Before bed, on a firm surface.')
  assert.deepEqual(plan.items.map((i) => i.exercise_slug), [slug, 'cat-cow'], 'in the order typed')
  assert.deepEqual([plan.items[0].sets, plan.items[0].reps, plan.items[0].hold_seconds], [3, 10, 3])
  assert.equal(plan.items[0].name, 'Wall angels')
  assert.equal(plan.items[1].reps, 6)
  const planId = plan.id

  // Revise it: first with an end before the start (refused, kept as typed).
  await page.getByRole('link', { name: 'Revise this program' }).click()
  await page.waitForURL(`${BASE}/clinic/plans/${planId}/revise`)
  await page.getByLabel(/^End date/).fill('2000-01-01')
  await page.locator('#reps-cat-cow').fill('12')
  await page.getByRole('button', { name: 'Save as a new version' }).click()
  await page.locator('#form-errors').getByText(/End date/).waitFor()
  assert.equal(await page.locator('#reps-cat-cow').inputValue(), '12')
  await s.checkPage(page, 'plan-revise-refused')
  await page.getByLabel(/^End date/).fill('')
  await page.getByRole('button', { name: 'Save as a new version' }).click()
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
  await page.getByText(/Version 2 by Tom Reyes PT/).waitFor()
  ;[plan] = await devicePlans(patient)
  assert.equal(plan.version, 2)
  assert.equal(plan.items.find((i) => i.exercise_slug === 'cat-cow').reps, 12)

  // Both versions, read-only; version 1 as it was.
  await page.getByRole('link', { name: 'Earlier versions' }).click()
  await page.waitForURL(`${BASE}/clinic/plans/${planId}/versions`)
  assert.match(await page.locator('#version-2').innerText(), /Cat-cow[\s\S]*× 12/i)
  assert.match(await page.locator('#version-1').innerText(), /Cat-cow[\s\S]*× 6/i)
  assert.equal(await page.locator('#plan-form input, #version-1 input').count(), 0)
  const first = await s.api(`/v1/plans/${planId}/versions/1`, { token: therapist.token })
  assert.equal(first.items.find((i) => i.exercise_slug === 'cat-cow').reps, 6)

  // Archive, through the confirmation page: cancel once, then archive.
  await page.goto(`${BASE}/clinic/patients/${patient.id}`)
  await page.getByRole('link', { name: 'Archive' }).click()
  await page.waitForURL(`${BASE}/clinic/plans/${planId}/archive`)
  await page.getByRole('link', { name: /^Cancel/ }).click()
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
  assert.equal((await devicePlans(patient))[0].status, 'active', 'cancel changed nothing')
  await page.getByRole('link', { name: 'Archive' }).click()
  await page.getByRole('button', { name: 'Archive' }).click()
  await page.waitForURL(`${BASE}/clinic/patients/${patient.id}`)
  await page.getByText('No active plan.').waitFor()
  const archived = (await devicePlans(patient)).find((p) => p.id === planId)
  assert.equal(archived && archived.status, 'archived', 'the device pulls the plan as archived')
  await page.goto(`${BASE}/clinic/plans/${planId}/versions`)
  await page.getByText(/This program is archived/).waitFor()
  await s.checkPage(page, 'plan-versions-archived')

  done()
})
