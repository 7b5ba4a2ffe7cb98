// /docs in Debian's headless Chromium against a running dorsal at
// DORSAL_URL: the API reader renders the OpenAPI document with every request
// to another origin refused, and the browser reports no CSP violation or
// other error (support.js's guard). A screenshot goes to SCREENSHOT_DIR.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const s = require('./support')

const { BASE, SCREENSHOT_DIR } = s

test('/docs renders the API document from dorsal alone', async (t) => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
  // 390 px: the narrowest screen the pages must fit.
  const { page, done } = await s.openPage(t, { viewport: { width: 390, height: 844 } })

  const response = await page.goto(`${BASE}/docs`)
  const csp = response.headers()['content-security-policy'] || ''
  assert.match(csp, /default-src 'none'/)
  assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|https?:|\*/)

  // The document is rendered: the sign-in operation, then its details.
  const login = page.locator('#operations-auth-login')
  await login.waitFor()
  assert.match(await login.innerText(), /\/v1\/auth\/login/)
  await login.locator('button.opblock-summary-control').click()
  await page.getByText('Email and password for a token pair').first().waitFor()
  await page.getByRole('button', { name: 'Try it out' }).first().waitFor()
  assert.ok(await page.locator('.opblock').count() > 20, 'every operation is listed')
  // The stylesheet applied (Swagger UI colours a POST's block green).
  const background = await login.evaluate((el) => getComputedStyle(el).backgroundColor)
  assert.notEqual(background, 'rgba(0, 0, 0, 0)')
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `no sideways scrolling at 390 px (${overflow} px too wide)`)
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'docs-390.png') })

  done()
})
