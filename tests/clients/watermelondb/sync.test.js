// The real WatermelonDB synchronize() (LokiJS in memory) against a running
// dorsal at DORSAL_URL: two devices, create/edit/delete, paging, a lost push
// response and a conflict merged on the server.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')

const BASE = process.env.DORSAL_URL || 'http://127.0.0.1:8080'

const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'pain_logs',
      columns: [
        { name: 'recorded_at', type: 'number' },
        { name: 'intensity', type: 'number' },
        { name: 'period', type: 'string', isOptional: true },
        { name: 'note', type: 'string', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'sleep_logs',
      columns: [
        { name: 'night_of', type: 'string' },
        { name: 'quality', type: 'number', isOptional: true },
      ],
    }),
  ],
})

class PainLog extends Model { static table = 'pain_logs' }
class SleepLog extends Model { static table = 'sleep_logs' }

let dbCount = 0
function device() {
  dbCount += 1
  const adapter = new LokiJSAdapter({
    schema,
    dbName: `device-${process.pid}-${dbCount}`,
    useWebWorker: false,
    useIncrementalIndexedDB: false,
    extraLokiOptions: { autosave: false },
  })
  return new Database({ adapter, modelClasses: [PainLog, SleepLog] })
}

async function api(path, { method = 'GET', token, body } = {}) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${BASE}${path}`, { method, headers, body: body && JSON.stringify(body) })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : null
}

async function patient() {
  const email = `wm-${Date.now()}-${Math.random().toString(36).slice(2)}@home.test`
  const password = 'correct horse battery'
  await api('/v1/auth/register', { method: 'POST', body: { email, password, display_name: 'Wm' } })
  const tokens = await api('/v1/auth/login', { method: 'POST', body: { email, password } })
  return tokens.access_token
}

// One synchronize(); resolves to whether the server has more to pull.
async function syncOnce(db, token, { limit = 1000, beforePush, losePushResponse, onAnswer } = {}) {
  let hasMore = false
  await synchronize({
    database: db,
    sendCreatedAsUpdated: true,
    pullChanges: async ({ lastPulledAt, schemaVersion }) => {
      const page = await api(
        `/v1/sync/pull?last_pulled_at=${lastPulledAt ?? 'null'}&schema_version=${schemaVersion}&limit=${limit}`,
        { token },
      )
      hasMore = page.has_more
      // Tables this app version does not have are skipped by the client
      // anyway; leaving them out keeps its warnings out of the test log.
      const known = Object.fromEntries(
        Object.entries(page.changes).filter(([table]) => schema.tables[table]),
      )
      return { changes: known, timestamp: page.timestamp }
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      if (beforePush) await beforePush()
      const answer = await api(`/v1/sync/push?last_pulled_at=${lastPulledAt}`, {
        method: 'POST', token, body: { changes, lastPulledAt },
      })
      if (onAnswer) onAnswer(answer)
      if (losePushResponse) throw new Error('connection lost before the response arrived')
      return { experimentalRejectedIds: answer.experimentalRejectedIds }
    },
  })
  return hasMore
}

async function sync(db, token, options) {
  let rounds = 0
  while (await syncOnce(db, token, options)) rounds += 1
  return rounds + 1
}

async function create(db, table, values) {
  let made
  await db.write(async () => {
    made = await db.get(table).create((r) => {
      for (const [k, v] of Object.entries(values)) r._setRaw(k, v)
    })
  })
  return made.id
}

async function edit(db, table, id, values) {
  const record = await db.get(table).find(id)
  await db.write(() => record.update((r) => {
    for (const [k, v] of Object.entries(values)) r._setRaw(k, v)
  }))
}

async function remove(db, table, id) {
  const record = await db.get(table).find(id)
  await db.write(() => record.markAsDeleted())
}

async function rows(db, table) {
  const all = await db.get(table).query().fetch()
  return Object.fromEntries(all.map((r) => [r.id, r._raw]))
}

async function serverRows(token, table) {
  const page = await api('/v1/sync/pull?last_pulled_at=null&limit=5000', { token })
  return Object.fromEntries(page.changes[table].created.map((r) => [r.id, r]))
}

test('two devices see each other\'s creates, edits and deletes', async () => {
  const token = await patient()
  const phone = device()
  const tablet = device()
  const a = await create(phone, 'pain_logs', { recorded_at: 1763900000000, intensity: 4, period: 'night' })
  const b = await create(phone, 'sleep_logs', { night_of: '2026-11-20', quality: 2 })
  await sync(phone, token)
  await sync(tablet, token)
  assert.equal((await rows(tablet, 'pain_logs'))[a].intensity, 4)
  assert.equal((await rows(tablet, 'sleep_logs'))[b].quality, 2)

  await edit(tablet, 'pain_logs', a, { note: 'woke at 3' })
  await sync(tablet, token)
  await sync(phone, token)
  assert.equal((await rows(phone, 'pain_logs'))[a].note, 'woke at 3')

  await remove(phone, 'sleep_logs', b)
  await sync(phone, token)
  await sync(tablet, token)
  assert.equal((await rows(tablet, 'sleep_logs'))[b], undefined)
  assert.equal((await serverRows(token, 'sleep_logs'))[b], undefined)
  assert.equal(await phone.adapter.getLocal('__watermelon_last_pulled_at') !== null, true)
})

test('a long backlog arrives in pages', async () => {
  const token = await patient()
  const phone = device()
  for (let i = 0; i < 25; i += 1) {
    await create(phone, 'pain_logs', { recorded_at: 1763900000000 + i, intensity: i % 11 })
    if (i % 5 === 4) await sync(phone, token)
  }
  const fresh = device()
  const rounds = await sync(fresh, token, { limit: 6 })
  assert.ok(rounds >= 4, `expected several pages, got ${rounds}`)
  assert.equal(Object.keys(await rows(fresh, 'pain_logs')).length, 25)
})

test('a push whose response is lost is retried without a duplicate', async () => {
  const token = await patient()
  const phone = device()
  const id = await create(phone, 'pain_logs', { recorded_at: 1763900000000, intensity: 6 })
  await assert.rejects(sync(phone, token, { losePushResponse: true }))
  assert.equal((await rows(phone, 'pain_logs'))[id]._status, 'created', 'still dirty on the device')
  await sync(phone, token)
  assert.equal((await rows(phone, 'pain_logs'))[id]._status, 'synced')
  const server = await serverRows(token, 'pain_logs')
  assert.deepEqual(Object.keys(server), [id])
  const other = device()
  await sync(other, token)
  assert.equal(Object.keys(await rows(other, 'pain_logs')).length, 1)
})

test('edits of different columns on two devices merge on the server', async () => {
  const token = await patient()
  const phone = device()
  const tablet = device()
  const id = await create(phone, 'pain_logs', { recorded_at: 1763900000000, intensity: 4 })
  await sync(phone, token)
  await sync(tablet, token)
  await edit(phone, 'pain_logs', id, { note: 'worse after sitting' })
  await edit(tablet, 'pain_logs', id, { intensity: 8 })
  // The phone's push lands between the tablet's pull and its push.
  const answers = []
  await sync(tablet, token, { beforePush: () => sync(phone, token), onAnswer: (a) => answers.push(a) })
  assert.equal(answers[0].results.pain_logs[id], 'merged')
  await sync(phone, token)
  await sync(tablet, token)
  for (const d of [phone, tablet]) {
    const row = (await rows(d, 'pain_logs'))[id]
    assert.equal(row.note, 'worse after sitting')
    assert.equal(row.intensity, 8)
    assert.equal(row._status, 'synced')
  }
  const server = (await serverRows(token, 'pain_logs'))[id]
  assert.equal(server.note, 'worse after sitting')
  assert.equal(server.intensity, 8)
})
