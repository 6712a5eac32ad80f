// tsw-dbserver speaking raw JSON-RPC: every method, every monitor format, the
// ordering promises, blocked waits, locks, _Server, and bad input.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { RawClient, ZERO, sleep, startServer, type Msg, type RunningServer } from './db-server-helpers.js';

let srv: RunningServer;
const clients: RawClient[] = [];

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(srv.sock);
  clients.push(c);
  return c;
}

function uuidOf(r: unknown): string {
  return ((r as Array<{ uuid: [string, string] }>)[0]!.uuid)[1];
}

async function insertA(c: RawClient, row: Record<string, unknown>): Promise<string> {
  return uuidOf(await c.result('transact', ['T', { op: 'insert', table: 'A', row }]));
}

async function clearAll(c: RawClient): Promise<void> {
  await c.result('transact', ['T', { op: 'delete', table: 'A', where: [] }, { op: 'delete', table: 'B', where: [] }]);
}

before(async () => {
  srv = await startServer();
});

after(async () => {
  for (const c of clients) c.close();
  await srv.stop();
  fs.rmSync(srv.dir, { recursive: true, force: true });
});

describe('tsw-dbserver basic methods', () => {
  it('answers list_dbs, get_schema, echo, get_server_id, and unknown methods', async () => {
    const c = await client();
    assert.deepEqual(await c.result('list_dbs', []), ['T', '_Server']);
    const schema = (await c.result('get_schema', ['T'])) as Msg;
    assert.equal(schema.name, 'T');
    const server = (await c.result('get_schema', ['_Server', 'ignored-extra'])) as Msg;
    assert.equal(server.name, '_Server');
    assert.equal(server.version, '1.2.0');
    assert.equal(server.cksum, '3009684573 744');
    const bad = await c.call('get_schema', ['nosuchdb'], 5);
    assert.deepEqual(bad, {
      id: 5,
      error: {
        error: 'unknown database',
        details: 'get_schema request specifies unknown database nosuchdb',
        syntax: '["nosuchdb"]',
      },
    });
    assert.deepEqual(await c.call('echo', ['hello', 1], 'e1'), { id: 'e1', result: ['hello', 1], error: null });
    const id1 = await c.result('get_server_id', []);
    assert.match(id1 as string, /^[0-9a-f-]{36}$/);
    assert.equal(await c.result('get_server_id', []), id1);
    assert.deepEqual(await c.call('nosuch', [], 2), { id: 2, error: 'unknown method' });
    assert.deepEqual(await c.result('transact', ['T']), []);
    const abort = await c.result('transact', ['T', { op: 'abort' }]);
    assert.deepEqual(abort, [{ error: 'aborted', details: 'aborted by request' }]);
    const sdca = await c.call('set_db_change_aware', ['yes']);
    assert.equal((sdca.error as Msg).error, 'syntax error');
    assert.deepEqual(await c.result('set_db_change_aware', [true]), {});
  });

  it('sends replies in OVS shapes (no jsonrpc member, error replies without result)', async () => {
    const c = await client();
    c.send('{"id":1,"method":"echo","params":[]}{"id":2,"method":"nosuch","params":[]}');
    await c.reply(2);
    assert.deepEqual(Object.keys(c.received[0]!).sort(), ['error', 'id', 'result']);
    assert.deepEqual(Object.keys(c.received[1]!).sort(), ['error', 'id']);
  });
});

describe('monitors', () => {
  it('v1 monitor: initial, insert, modify (old has only changed columns), delete; _version when columns are absent', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    const pre = await insertA(w, { n: 7, name: 'pre' });
    const init = (await c.result('monitor', ['T', null, { A: { columns: ['n', 's'] } }])) as Msg;
    assert.deepEqual(init, { A: { [pre]: { new: { n: 7, s: ['set', []] } } } });
    const whole = await allColumnsNew(c, pre);
    assert.deepEqual(await c.result('monitor', ['T', 'all', { A: {} }]), { A: { [pre]: { new: whole } } });
    const u = await insertA(w, { n: 1, s: ['set', ['x', 'y']] });
    await c.waitIndex((m) => m.method === 'update' && JSON.stringify(m.params).includes(u));
    let ups = c.notifications('update');
    const forNull = ups.find((m) => (m.params as unknown[])[0] === null)!;
    assert.deepEqual(forNull.params, [null, { A: { [u]: { new: { n: 1, s: ['set', ['x', 'y']] } } } }]);
    const forAll = ups.find((m) => (m.params as unknown[])[0] === 'all')!;
    const row = ((forAll.params as unknown[])[1] as Msg).A as Record<string, { new: Msg }>;
    assert.deepEqual(Object.keys(row[u]!.new).sort(), ['_version', 'm', 'n', 'name', 'o', 's']);

    c.received.length = 0;
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [['_uuid', '==', ['uuid', u]]], row: { s: 'x' } }]);
    await c.waitIndex((m) => m.method === 'update' && (m.params as unknown[])[0] === null);
    ups = c.notifications('update');
    assert.deepEqual(ups.find((m) => (m.params as unknown[])[0] === null)!.params, [
      null,
      { A: { [u]: { new: { n: 1, s: 'x' }, old: { s: ['set', ['x', 'y']] } } } },
    ]);
    c.received.length = 0;
    // Changing a column nobody in monitor "null" watches sends it nothing.
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [['_uuid', '==', ['uuid', u]]], row: { name: 'zz' } }]);
    await c.waitIndex((m) => m.method === 'update' && (m.params as unknown[])[0] === 'all');
    await sleep(50);
    assert.equal(c.notifications('update').filter((m) => (m.params as unknown[])[0] === null).length, 0);
    c.received.length = 0;
    await w.result('transact', ['T', { op: 'delete', table: 'A', where: [['_uuid', '==', ['uuid', u]]] }]);
    await c.waitIndex((m) => m.method === 'update' && (m.params as unknown[])[0] === null);
    assert.deepEqual(c.notifications('update').find((m) => (m.params as unknown[])[0] === null)!.params, [
      null,
      { A: { [u]: { old: { n: 1, s: 'x' } } } },
    ]);
  });

  it('v2 monitor_cond: defaults omitted, diffs for sets/maps/optional values, existence-only columns', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    assert.deepEqual(await c.result('monitor_cond', ['T', 'm2', { A: [{ columns: ['n', 's', 'm', 'o'] }], B: [{ columns: [] }] }]), {});
    const u = await insertA(w, { n: 0, name: 'a', m: ['map', [['k', 'v'], ['pyidl', 'yes']]] });
    const b = uuidOf(await w.result('transact', ['T', { op: 'insert', table: 'B', row: { x: 5 } }]));
    await c.waitIndex((m) => JSON.stringify(m.params ?? null).includes(b));
    const ups = c.notifications('update2').map((m) => m.params);
    assert.deepEqual(ups, [
      ['m2', { A: { [u]: { insert: { m: ['map', [['k', 'v'], ['pyidl', 'yes']]] } } } }],
      ['m2', { B: { [b]: { insert: {} } } }],
    ]);
    c.received.length = 0;
    await w.result('transact', [
      'T',
      {
        op: 'update',
        table: 'A',
        where: [],
        row: { s: ['set', ['p', 'q']], o: 'one', m: ['map', [['k', 'v2'], ['k1', 'v1']]], n: 3 },
      },
    ]);
    await c.waitIndex((m) => m.method === 'update2');
    assert.deepEqual(c.notifications('update2')[0]!.params, [
      'm2',
      {
        A: {
          [u]: {
            modify: {
              n: 3,
              s: ['set', ['p', 'q']],
              o: 'one',
              m: ['map', [['k', 'v2'], ['k1', 'v1'], ['pyidl', 'yes']]],
            },
          },
        },
      },
    ]);
    c.received.length = 0;
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { s: ['set', ['q', 'r']], o: 'two' } }]);
    await c.waitIndex((m) => m.method === 'update2');
    // Sets carry the symmetric difference; a column holding at most one value carries the new value.
    assert.deepEqual(c.notifications('update2')[0]!.params, ['m2', { A: { [u]: { modify: { s: ['set', ['p', 'r']], o: 'two' } } } }]);
    c.received.length = 0;
    await w.result('transact', ['T', { op: 'update', table: 'B', where: [], row: { x: 6 } }]);
    await w.result('transact', ['T', { op: 'delete', table: 'A', where: [] }]);
    await c.waitIndex((m) => m.method === 'update2');
    assert.deepEqual(c.notifications('update2').map((m) => m.params), [['m2', { A: { [u]: { delete: null } } }]]);
  });

  it('v3 monitor_cond_since: [false, zero uuid, initial] and update3 carrying the zero uuid', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    const u = await insertA(w, { n: 4 });
    const r = await c.result('monitor_cond_since', ['T', ['monid', 'T'], { A: [{ columns: ['n', 'name'] }] }, ZERO]);
    assert.deepEqual(r, [false, ZERO, { A: { [u]: { initial: { n: 4 } } } }]);
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { name: 'hey' } }]);
    await c.waitIndex((m) => m.method === 'update3');
    assert.deepEqual(c.notifications('update3')[0], {
      id: null,
      method: 'update3',
      params: [['monid', 'T'], ZERO, { A: { [u]: { modify: { name: 'hey' } } } }],
    });
    const bad = await c.call('monitor_cond_since', ['T', 'x', {}, 'nope']);
    assert.equal((bad.error as Msg).details, 'last-txn-id must be UUID format.');
  });

  it('select flags and where conditions (rows moving in are inserts, moving out deletes)', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    const u = await insertA(w, { n: 1, name: 'in' });
    const r = await c.result('monitor_cond', [
      'T',
      'c',
      { A: [{ columns: ['name'], where: [['n', '>', 0]], select: { initial: true, modify: false } }] },
    ]);
    assert.deepEqual(r, { A: { [u]: { initial: { name: 'in' } } } });
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { n: 0 } }]);
    await c.waitIndex((m) => m.method === 'update2');
    assert.deepEqual(c.notifications('update2')[0]!.params, ['c', { A: { [u]: { delete: null } } }]);
    c.received.length = 0;
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { n: 2 } }]);
    await c.waitIndex((m) => m.method === 'update2');
    assert.deepEqual(c.notifications('update2')[0]!.params, ['c', { A: { [u]: { insert: { name: 'in' } } } }]);
    c.received.length = 0;
    // modify is not selected: a name change inside the condition is not reported.
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { name: 'renamed' } }]);
    await sleep(100);
    assert.equal(c.notifications('update2').length, 0);
  });

  it('update notifications reach the committing session before its transact reply', async () => {
    const c = await client();
    await clearAll(c);
    await c.result('monitor_cond', ['T', 'own', { A: [{ columns: ['n'] }] }]);
    c.received.length = 0;
    c.send({ id: 'tx', method: 'transact', params: ['T', { op: 'insert', table: 'A', row: { n: 9 } }] });
    await c.reply('tx');
    assert.equal(c.received[0]!.method, 'update2');
    assert.equal(c.received[1]!.id, 'tx');
  });

  it('monitor_cond_change sends rows entering/leaving under the new monid before the reply', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    const u1 = await insertA(w, { n: 1, name: 'br0' });
    const u2 = await insertA(w, { n: 2, name: 'br1' });
    const r = await c.result('monitor_cond', ['T', 'm1', { A: [{ columns: ['name'], where: [['name', '==', 'br0']] }] }]);
    assert.deepEqual(r, { A: { [u1]: { initial: { name: 'br0' } } } });
    c.received.length = 0;
    c.send({ id: 8, method: 'monitor_cond_change', params: ['m1', 'm2', { A: [{ where: [['name', '==', 'br1']] }] }] });
    await c.reply(8);
    assert.deepEqual(c.received, [
      { id: null, method: 'update2', params: ['m2', { A: { [u1]: { delete: null }, [u2]: { insert: { name: 'br1' } } } }] },
      { id: 8, result: {}, error: null },
    ]);
    // The old id is gone, the new one works.
    assert.deepEqual(await c.call('monitor_cancel', ['m1'], 9), { id: 9, error: 'unknown monitor' });
    assert.deepEqual(await c.result('monitor_cancel', ['m2']), {});
    const e = await c.call('monitor_cond_change', ['zz', 'zz', {}]);
    assert.equal((e.error as Msg).details, 'unknown monitor session');
  });

  it('several requests per table, and monitor_cancel stops updates', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    const r = await c.call('monitor', ['T', 'twice', { A: [{ columns: ['n'] }, { columns: ['n'] }] }]);
    assert.equal((r.error as Msg).details, 'column n mentioned more than once');
    await c.result('monitor', ['T', 'split', { A: [{ columns: ['n'], select: { modify: false } }, { columns: ['name'] }] }]);
    const u = await insertA(w, { n: 1, name: 'a' });
    await c.waitIndex((m) => m.method === 'update');
    assert.deepEqual(c.notifications('update')[0]!.params, ['split', { A: { [u]: { new: { n: 1, name: 'a' } } } }]);
    c.received.length = 0;
    // Only "name" asked for modifications.
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { n: 2, name: 'b' } }]);
    await c.waitIndex((m) => m.method === 'update');
    assert.deepEqual(c.notifications('update')[0]!.params, ['split', { A: { [u]: { new: { name: 'b' }, old: { name: 'a' } } } }]);
    assert.deepEqual(await c.result('monitor_cancel', ['split']), {});
    c.received.length = 0;
    await w.result('transact', ['T', { op: 'update', table: 'A', where: [], row: { name: 'c' } }]);
    await sleep(100);
    assert.equal(c.received.length, 0);
  });

  it('rejects a duplicate monitor id and bad monitor requests in OVS shapes', async () => {
    const c = await client();
    await c.result('monitor', ['T', 'dup', { B: {} }]);
    const d = await c.call('monitor_cond', ['T', 'dup', { B: [{}] }]);
    assert.deepEqual(d.error, { error: 'syntax error', details: 'duplicate monitor ID', syntax: '"dup"' });
    const t = await c.call('monitor', ['T', 'x', { Nope: {} }]);
    assert.deepEqual(t.error, { error: 'syntax error', details: 'no table named Nope' });
    const col = await c.call('monitor', ['T', 'y', { A: { columns: ['zzz'] } }]);
    assert.equal((col.error as Msg).details, 'zzz is not a valid column name');
    const mem = await c.call('monitor', ['T', 'z', { A: { colums: [] } }]);
    assert.equal((mem.error as Msg).details, "Parsing table A failed: Member 'colums' is present but not allowed here.");
    const inv = await c.call('monitor_cond', ['T', 'q']);
    assert.equal((inv.error as Msg).details, 'invalid parameters');
  });
});

async function allColumnsNew(c: RawClient, uuid: string): Promise<unknown> {
  const rows = (await c.result('transact', ['T', { op: 'select', table: 'A', where: [['_uuid', '==', ['uuid', uuid]]] }])) as Array<{
    rows: Array<Record<string, unknown>>;
  }>;
  const row = { ...rows[0]!.rows[0]! };
  delete row._uuid;
  return row;
}

describe('blocked transactions', () => {
  const waitOp = (timeout?: number): Msg => ({
    op: 'wait',
    table: 'B',
    where: [],
    columns: ['x'],
    until: '==',
    rows: [{ x: 42 }],
    ...(timeout === undefined ? {} : { timeout }),
  });

  it('a wait blocks until another session commits what it waits for', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    await w.result('transact', ['T', { op: 'insert', table: 'B', row: { x: 1 } }]);
    c.send({ id: 'w1', method: 'transact', params: ['T', waitOp(5000), { op: 'insert', table: 'A', row: { n: 100 } }] });
    await sleep(150);
    assert.equal(c.received.length, 0);
    // An unrelated commit re-runs the wait, which still fails and stays blocked.
    await w.result('transact', ['T', { op: 'insert', table: 'A', row: { n: 1 } }]);
    await sleep(50);
    assert.equal(c.received.length, 0);
    await w.result('transact', ['T', { op: 'update', table: 'B', where: [], row: { x: 42 } }]);
    const r = await c.reply('w1');
    assert.equal((r.result as unknown[]).length, 2);
    assert.deepEqual((r.result as unknown[])[0], {});
    const sel = (await w.result('transact', ['T', { op: 'select', table: 'A', where: [['n', '==', 100]] }])) as Array<{ rows: unknown[] }>;
    assert.equal(sel[0]!.rows.length, 1);
  });

  it('a wait times out with OVS\'s error and commits nothing', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    const t0 = Date.now();
    const r = await c.call('transact', ['T', waitOp(300), { op: 'insert', table: 'A', row: { n: 55 } }]);
    const dt = Date.now() - t0;
    assert.ok(dt >= 280, `replied after ${dt} ms`);
    const res = r.result as Msg[];
    assert.equal(res[0]!.error, 'timed out');
    assert.match(res[0]!.details as string, /^"wait" timed out after \d+ ms$/);
    const sel = (await w.result('transact', ['T', { op: 'select', table: 'A', where: [['n', '==', 55]] }])) as Array<{ rows: unknown[] }>;
    assert.equal(sel[0]!.rows.length, 0);
    const immediate = (await c.result('transact', ['T', waitOp(0)])) as Msg[];
    assert.deepEqual(immediate[0], { error: 'timed out', details: '"where" clause test failed' });
  });

  it('cancel drops a blocked transaction; only change-aware sessions get "canceled"', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    c.send({ id: 'k1', method: 'transact', params: ['T', waitOp(), { op: 'insert', table: 'A', row: { n: 77 } }] });
    await sleep(50);
    c.send({ id: null, method: 'cancel', params: ['k1'] });
    await sleep(50);
    await w.result('transact', ['T', { op: 'insert', table: 'B', row: { x: 42 } }]);
    await sleep(100);
    assert.equal(c.received.length, 0);
    await c.result('set_db_change_aware', [true]);
    await w.result('transact', ['T', { op: 'delete', table: 'B', where: [] }]);
    c.send({ id: 'k2', method: 'transact', params: ['T', waitOp()] });
    await sleep(50);
    c.send({ id: null, method: 'cancel', params: ['k2'] });
    assert.deepEqual(await c.reply('k2'), { id: 'k2', error: 'canceled' });
    const sel = (await w.result('transact', ['T', { op: 'select', table: 'A', where: [['n', '==', 77]] }])) as Array<{ rows: unknown[] }>;
    assert.equal(sel[0]!.rows.length, 0);
  });

  it('a client that disconnects while blocked leaves nothing behind', async () => {
    const c = await RawClient.connect(srv.sock);
    const w = await client();
    await clearAll(w);
    c.send({ id: 1, method: 'transact', params: ['T', waitOp(), { op: 'insert', table: 'A', row: { n: 66 } }] });
    c.send({ id: 2, method: 'transact', params: ['T', waitOp(200)] });
    await sleep(50);
    c.close();
    await sleep(50);
    await w.result('transact', ['T', { op: 'insert', table: 'B', row: { x: 42 } }]);
    await sleep(250);
    const sel = (await w.result('transact', ['T', { op: 'select', table: 'A', where: [['n', '==', 66]] }])) as Array<{ rows: unknown[] }>;
    assert.equal(sel[0]!.rows.length, 0);
  });

  it('rejects a second pending transact with the same id', async () => {
    const c = await client();
    const w = await client();
    await clearAll(w);
    c.send({ id: 'same', method: 'transact', params: ['T', waitOp(1000)] });
    await sleep(30);
    const r = await c.call('transact', ['T'], 'same');
    assert.equal((r.error as Msg).details, 'transact: duplicate request ID');
    await w.result('transact', ['T', { op: 'insert', table: 'B', row: { x: 42 } }]);
    await c.waitIndex((m) => m.id === 'same' && Array.isArray(m.result));
  });
});

describe('locks', () => {
  it('lock, wait, unlock hand-over, steal, assert, and release on disconnect', async () => {
    const a = await client();
    const b = await client();
    assert.deepEqual(await a.result('lock', ['L1']), { locked: true });
    assert.deepEqual(await b.result('lock', ['L1']), { locked: false });
    const again = await a.call('lock', ['L1']);
    assert.deepEqual(again.error, { error: 'syntax error', details: 'must issue "unlock" before new "lock"', syntax: '["L1"]' });
    const assertB = (await b.result('transact', ['T', { op: 'assert', lock: 'L1' }])) as Msg[];
    assert.deepEqual(assertB[0], { error: 'not owner', details: 'Asserted lock L1 not held.' });
    assert.deepEqual(await a.result('transact', ['T', { op: 'assert', lock: 'L1' }]), [{}]);
    assert.deepEqual(await a.result('unlock', ['L1']), {});
    await b.waitIndex((m) => m.method === 'locked');
    assert.deepEqual(b.notifications('locked')[0], { id: null, method: 'locked', params: ['L1'] });
    assert.deepEqual(await a.result('steal', ['L1']), { locked: true });
    await b.waitIndex((m) => m.method === 'stolen');
    assert.deepEqual(b.notifications('stolen')[0]!.params, ['L1']);
    const u = await a.call('unlock', ['nolock']);
    assert.equal((u.error as Msg).details, 'unlock: "unlock" without "lock" or "steal"');
    const bad = await a.call('lock', ['not a name']);
    assert.equal((bad.error as Msg).details, 'lock request params must be <id>');

    const c = await client();
    assert.deepEqual(await c.result('lock', ['L2']), { locked: true });
    const d = await client();
    assert.deepEqual(await d.result('lock', ['L2']), { locked: false });
    c.close();
    await d.waitIndex((m) => m.method === 'locked');
  });
});

describe('_Server', () => {
  it('has a standalone, connected, leader row for each database with its schema string', async () => {
    const c = await client();
    const r = (await c.result('monitor_cond', [
      '_Server',
      ['monid', '_Server'],
      { Database: [{ columns: ['name', 'model', 'connected', 'leader', 'schema', 'cid', 'index'] }] },
    ])) as { Database: Record<string, { initial: Msg }> };
    const rows = Object.values(r.Database).map((x) => x.initial);
    assert.deepEqual(rows.map((x) => x.name).sort(), ['T', '_Server']);
    for (const row of rows) {
      assert.equal(row.model, 'standalone');
      assert.equal(row.connected, true);
      assert.equal(row.leader, true);
      assert.equal(row.cid, undefined);
      assert.equal(row.index, undefined);
      const schema = JSON.parse(row.schema as string) as Msg;
      assert.equal(schema.name, row.name);
    }
    const t = rows.find((x) => x.name === 'T')!;
    assert.deepEqual(JSON.parse(t.schema as string), await c.result('get_schema', ['T']));
  });

  it('is read-only: select and wait work, changes are "not allowed"', async () => {
    const c = await client();
    const sel = (await c.result('transact', [
      '_Server',
      { op: 'select', table: 'Database', where: [['name', '==', 'T']], columns: ['connected'] },
    ])) as unknown[];
    assert.deepEqual(sel, [{ rows: [{ connected: true }] }]);
    const wait = await c.result('transact', [
      '_Server',
      { op: 'wait', table: 'Database', where: [['name', '==', 'T']], columns: ['connected'], until: '==', rows: [{ connected: true }] },
    ]);
    assert.deepEqual(wait, [{}]);
    const ins = await c.result('transact', [
      '_Server',
      { op: 'select', table: 'Database', where: [], columns: ['name'] },
      { op: 'delete', table: 'Database', where: [] },
      { op: 'comment', comment: 'x' },
    ]);
    assert.deepEqual((ins as unknown[])[1], {
      error: 'not allowed',
      details: 'delete operation not allowed on table in reserved database _Server',
    });
    assert.equal((ins as unknown[]).length, 3);
    const rows = (await c.result('transact', ['_Server', { op: 'select', table: 'Database', where: [] }])) as Array<{ rows: unknown[] }>;
    assert.equal(rows[0]!.rows.length, 2);
  });
});

describe('robustness', () => {
  it('drops a connection that sends malformed JSON, a non-object, or an invalid message, and keeps serving', async () => {
    for (const junk of ['{"id":1,"method":"echo","params":[]]', '[1,2,3]', '{"id":1,"method":"echo","params":[],"jsonrpc":"2.0"}', 'hello']) {
      const c = await RawClient.connect(srv.sock);
      c.send(junk);
      await c.waitClosed();
    }
    const ok = await client();
    assert.deepEqual(await ok.result('echo', [1]), [1]);
  });

  it('drops a connection whose message exceeds the size limit', async () => {
    const s2 = await startServer({ extraArgs: ['--max-message-size=4096'] });
    try {
      const c = await RawClient.connect(s2.sock);
      c.send({ id: 1, method: 'echo', params: ['x'.repeat(10000)] });
      await c.waitClosed();
      const ok = await RawClient.connect(s2.sock);
      assert.deepEqual(await ok.result('echo', ['small']), ['small']);
      ok.close();
    } finally {
      await s2.stop();
      fs.rmSync(s2.dir, { recursive: true, force: true });
    }
  });

  it('handles pipelined requests in one write, in order', async () => {
    const c = await client();
    c.send(Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, method: 'echo', params: [i] })).join(''));
    await c.reply(49);
    assert.deepEqual(
      c.received.map((m) => m.id),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });
});
