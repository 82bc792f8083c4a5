// node-postgres (npm `pg`) against a Sluice server, run by
// engine/clients_test.go: parameters, types, a view and an error's code.
// Prints one JSON line per check, {"check": name, "error": message-or-null}.
'use strict';
const assert = require('node:assert/strict');
const { Client } = require('pg');

const client = new Client({ connectionString: process.argv[2] });

const checks = {
  async createTableAndView() {
    await client.query(`CREATE TABLE node_events (id BIGINT PRIMARY KEY, kind VARCHAR, weight DOUBLE PRECISION,
      ok BOOLEAN, at TIMESTAMP, body JSONB)`);
    await client.query(`CREATE MATERIALIZED VIEW node_kinds AS
      SELECT kind, count(*) AS n, sum(weight) AS total FROM node_events GROUP BY kind`);
  },
  async insertWithParameters() {
    const r = await client.query('INSERT INTO node_events VALUES ($1, $2, $3, $4, $5, $6)',
      [1, 'click', 0.5, true, '2026-01-01 10:00:00', { page: 'home' }]);
    assert.equal(r.rowCount, 1);
    await client.query('INSERT INTO node_events VALUES ($1, $2, $3, $4, $5, $6)', [2, 'click', 1.25, null, null, null]);
  },
  async selectTypes() {
    const r = await client.query('SELECT id, kind, weight, ok, at, body FROM node_events WHERE id = $1', [1]);
    assert.deepEqual(r.fields.map((f) => f.dataTypeID), [20, 1043, 701, 16, 1114, 3802]);
    const row = r.rows[0];
    assert.equal(row.id, '1'); // pg returns int8 as a string
    assert.equal(row.kind, 'click');
    assert.equal(row.weight, 0.5);
    assert.equal(row.ok, true);
    assert.ok(row.at instanceof Date);
    assert.deepEqual(row.body, { page: 'home' });
  },
  async selectNulls() {
    const r = await client.query('SELECT ok, at, body FROM node_events WHERE id = $1', [2]);
    assert.deepEqual(r.rows, [{ ok: null, at: null, body: null }]);
  },
  async selectView() {
    const r = await client.query('SELECT kind, n, total FROM node_kinds');
    assert.deepEqual(r.rows, [{ kind: 'click', n: '2', total: 1.75 }]);
  },
  async parameterTypes() {
    const r = await client.query('SELECT $1::int + 1 AS i, $2::text AS t, $3::numeric AS n, $4::bytea AS b',
      [41, 'x', '2.5', Buffer.from([0, 255])]);
    assert.deepEqual(r.rows[0], { i: 42, t: 'x', n: '2.5', b: Buffer.from([0, 255]) });
  },
  async errorHasCode() {
    await assert.rejects(client.query('SELECT * FROM no_such_table'), (e) => e.code === '42P01');
    await assert.rejects(client.query('SELECT 1 / $1::int', [0]), (e) => e.code === '22012');
  },
  async usableAfterErrors() {
    const r = await client.query('SELECT 1 AS one');
    assert.deepEqual(r.rows, [{ one: 1 }]);
  },
};

(async () => {
  await client.connect();
  for (const [name, check] of Object.entries(checks)) {
    let error = null;
    try {
      await check();
    } catch (e) {
      error = String(e.message).split('\n')[0];
    }
    console.log(JSON.stringify({ check: name, error }));
  }
  await client.end();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
