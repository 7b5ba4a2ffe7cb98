// A member of staff turns two-factor sign-in on and off from their account
// page, in Debian's headless Chromium against a running dorsal at
// DORSAL_URL: the QR code page, the recovery codes shown once, signing in
// again with a recovery code, and turning it off through its confirmation
// page. The pages only this task reaches go through checkPage.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const s = require('./support')

const { BASE } = s

/// RFC 4648 base32, as the page shows the key.
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const char of text.replace(/[\s=]/g, '').toUpperCase()) {
    const value = alphabet.indexOf(char)
    assert.ok(value >= 0, `${char} is not base32`)
    bits += value.toString(2).padStart(5, '0')
  }
  const bytes = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

/// The code an authenticator app shows now (RFC 6238: SHA-1, 30 s, 6 digits).
function totp(key) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)))
  const mac = crypto.createHmac('sha1', base32(key)).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(value).padStart(6, '0')
}

test('a clinician turns two-factor sign-in on with the QR page and off with a recovery code', async (t) => {
  const boss = await s.admin()
  const clinician = await s.addStaff(boss.token, 'clinician', 'Dr Lena Ortiz', s.unique())
  const { page, done } = await s.staffPage(t, clinician)
  const nav = page.getByRole('navigation', { name: 'Clinic' })

  await nav.getByRole('link', { name: 'Account' }).click()
  await page.waitForURL(`${BASE}/clinic/account`)
  assert.equal(await page.locator('#two-factor').innerText(), 'Off')
  await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click()
  await page.locator('#totp-qr').waitFor()
  await s.checkPage(page, 'two-factor-qr')
  const key = (await page.locator('#totp-secret').innerText()).trim()

  // A wrong code keeps it off and says so.
  const right = totp(key)
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0')
  await page.getByLabel('Code from your authenticator app').fill(wrong)
  await page.getByRole('button', { name: 'Turn on' }).click()
  await page.getByRole('alert').waitFor()
  await s.checkPage(page, 'two-factor-wrong-code')
  const off = await s.api('/v1/auth/login', {
    method: 'POST', body: { email: clinician.email, password: clinician.password },
  })
  assert.ok(off.access_token, 'still a password-only sign-in')

  await page.getByLabel('Code from your authenticator app').fill(totp(key))
  await page.getByRole('button', { name: 'Turn on', exact: true }).click()
  const codes = page.locator('#recovery-codes code')
  await codes.first().waitFor()
  assert.equal(await codes.count(), 10)
  const recovery = await codes.allInnerTexts()
  await s.checkPage(page, 'two-factor-recovery-codes')

  // Signing in now takes a code: a recovery code stands in for the app.
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL(`${BASE}/clinic`)
  await page.getByLabel('Email').fill(clinician.email)
  await page.getByLabel('Password', { exact: true }).fill(clinician.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByText(/Two-factor sign-in is on for this account/).waitFor()
  await page.getByLabel('Email').fill(clinician.email)
  await page.getByLabel('Password', { exact: true }).fill(clinician.password)
  await page.getByLabel(/^Authenticator code/).fill(recovery[0])
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${BASE}/clinic/alerts`)

  // Turning it off asks first, on its own page, for a code.
  await page.goto(`${BASE}/clinic/account`)
  assert.equal(await page.locator('#two-factor').innerText(), 'On')
  await page.getByRole('link', { name: /Turn off two-factor sign-in/ }).click()
  await page.waitForURL(`${BASE}/clinic/account/two-factor/off`)
  await s.checkPage(page, 'two-factor-off-confirm')
  await page.getByLabel(/^Code from your authenticator app/).fill(recovery[1])
  await page.getByRole('button', { name: 'Turn off two-factor sign-in' }).click()
  await page.waitForURL(`${BASE}/clinic/account`)
  assert.equal(await page.locator('#two-factor').innerText(), 'Off')
  const again = await s.api('/v1/auth/login', {
    method: 'POST', body: { email: clinician.email, password: clinician.password },
  })
  assert.ok(again.access_token, 'a password alone signs in again')
  done()
})
