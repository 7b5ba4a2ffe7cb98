// /docs in Debian's headless Chromium against a running dorsal at
// DORSAL_URL: the API reader renders the OpenAPI document with every request
// to another origin refused, and the browser reports no CSP violation or
// other error. A screenshot goes to SCREENSHOT_DIR.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { chromium } = require('playwright-core')

const BASE = (process.env.DORSAL_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '')
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.join(__dirname, 'screenshots')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'

test('/docs renders the API document from dorsal alone', async () => {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic',
    ],
  })
  const problems = []
  const elsewhere = []
  try {
    // 390 px: the narrowest screen the pages must fit.
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } })
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(String(error)))
    // As if offline: anything for another origin fails (and is noted).
    await page.route('**/*', (route) => {
      const url = route.request().url()
      if (new URL(url).origin === BASE) return route.continue()
      elsewhere.push(url)
      return route.abort('internetdisconnected')
    })

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
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'docs.png') })

    assert.deepEqual(elsewhere, [])
    assert.deepEqual(problems, [])
  } finally {
    await browser.close()
  }
})
