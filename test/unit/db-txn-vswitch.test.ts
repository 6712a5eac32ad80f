// Transactions on the real vswitch schema, shaped like what ovs-vsctl and
// ovs-vswitchd send: add-br with forward named-uuid references, the cur_cfg
// handshake, garbage collection of bridges and ports, mirrors' weak references.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseSchema } from '../../src/db/schema.js';
import { Database } from '../../src/db/database.js';
import { executeTransaction, type TxnOutcome } from '../../src/db/transaction.js';

const VSWITCH = parseSchema(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'schemas', 'vswitch.ovsschema'), 'utf8')));
const ctx = { hasLock: (n: string) => n === 'ovs_vswitchd', now: () => 0 };

function run(db: Database, ops: unknown[]): TxnOutcome {
  return executeTransaction(db, ops, ctx);
}

function ok(db: Database, ops: unknown[]): unknown[] {
  const out = run(db, ops);
  assert.equal(out.kind, 'done');
  assert.ok(!out.results.some((r) => r === null || (typeof r === 'object' && 'error' in r)), JSON.stringify(out.results));
  return out.results;
}

function uuidOf(r: unknown): string {
  return (r as { uuid: [string, string] }).uuid[1];
}

function fresh(): { db: Database; ovs: string } {
  const db = new Database(VSWITCH);
  const ovs = uuidOf(ok(db, [{ op: 'insert', table: 'Open_vSwitch', row: {} }])[0]);
  return { db, ovs };
}

/** The transaction `ovs-vsctl add-br NAME` sends (see OVS-INTERFACES.md §1.7), bridges = the existing ones. */
function addBr(ovs: string, name: string, bridges: string[]): unknown[] {
  const id = name.replace(/\W/g, '_');
  return [
    { op: 'wait', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs]]], columns: ['bridges'], until: '==', timeout: 0,
      rows: [{ bridges: ['set', bridges.map((b) => ['uuid', b])] }] },
    { op: 'update', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs]]],
      row: { bridges: ['set', [...bridges.map((b) => ['uuid', b]), ['named-uuid', `rowbr_${id}`]]] } },
    { op: 'insert', table: 'Bridge', 'uuid-name': `rowbr_${id}`, row: { name, ports: ['named-uuid', `rowport_${id}`] } },
    { op: 'insert', table: 'Interface', 'uuid-name': `rowif_${id}`, row: { name, type: 'internal' } },
    { op: 'insert', table: 'Port', 'uuid-name': `rowport_${id}`, row: { name, interfaces: ['named-uuid', `rowif_${id}`] } },
    { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs]]], mutations: [['next_cfg', '+=', 1]] },
    { op: 'select', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs]]], columns: ['next_cfg'] },
    { op: 'comment', comment: `ovs-vsctl: ovs-vsctl add-br ${name}` },
  ];
}

test('add-br as ovs-vsctl sends it: forward references resolve and the rows survive GC', () => {
  const { db, ovs } = fresh();
  const out = run(db, addBr(ovs, 'br0', []));
  assert.ok(out.kind === 'done' && out.change, JSON.stringify(out.results));
  assert.equal(out.results.length, 8);
  assert.deepEqual(out.results[0], {});
  assert.deepEqual(out.results[1], { count: 1 });
  assert.deepEqual(out.results[6], { rows: [{ next_cfg: 1 }] });
  const br = uuidOf(out.results[2]);
  assert.equal(db.tables.get('Bridge')!.size, 1);
  assert.equal(db.tables.get('Port')!.size, 1);
  assert.equal(db.tables.get('Interface')!.size, 1);
  assert.deepEqual(db.tables.get('Open_vSwitch')!.get(ovs)!.data.get('bridges')!.keys, [br]);
  assert.equal(out.change.comment, 'ovs-vsctl: ovs-vsctl add-br br0');
  assert.deepEqual([...out.change.tables.keys()].sort(), ['Bridge', 'Interface', 'Open_vSwitch', 'Port']);

  // The vswitchd write-back, under its lock.
  const wb = ok(db, [
    { op: 'update', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs]]], row: { cur_cfg: 1 } },
    { op: 'update', table: 'Interface', where: [['name', '==', 'br0']], row: { ofport: 65534, link_speed: 10000000000 } },
    { op: 'assert', lock: 'ovs_vswitchd' },
  ]);
  assert.deepEqual(wb, [{ count: 1 }, { count: 1 }, {}]);

  // A second add-br computed from a stale view fails its wait and changes nothing.
  const stale = run(db, addBr(ovs, 'br1', []));
  assert.deepEqual(stale.results[0], { error: 'timed out', details: '"where" clause test failed' });
  assert.equal(db.tables.get('Bridge')!.size, 1);
  ok(db, addBr(ovs, 'br1', [br]));
  assert.equal(db.tables.get('Bridge')!.size, 2);
});

test('maxRows: a second Open_vSwitch row is refused', () => {
  const { db } = fresh();
  const out = run(db, [{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
  assert.deepEqual(out.results[1], {
    error: 'constraint violation',
    details: 'transaction causes "Open_vSwitch" table to contain 2 rows, greater than the schema-defined limit of 1 row(s)',
  });
  assert.equal(db.tables.get('Open_vSwitch')!.size, 1);
});

test('an unreferenced Bridge is accepted and then garbage-collected', () => {
  const { db } = fresh();
  const out = run(db, [{ op: 'insert', table: 'Bridge', row: { name: 'loose' } }]);
  assert.equal(out.results.length, 1);
  assert.match(uuidOf(out.results[0]), /^[0-9a-f-]{36}$/);
  assert.ok(out.kind === 'done' && out.change === null);
  assert.equal(db.tables.get('Bridge')!.size, 0);
});

test('two Bridges named br0 break the name index; Bridge.name is immutable', () => {
  const { db, ovs } = fresh();
  ok(db, addBr(ovs, 'br0', []));
  const br0 = [...db.tables.get('Bridge')!.keys()][0]!;
  const out = run(db, [
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0' } },
  ]);
  const err = out.results[2] as { error: string; details: string };
  assert.equal(err.error, 'constraint violation');
  assert.match(err.details, /^Transaction causes multiple rows in "Bridge" table to have identical values \(br0\) for index on column "name"\. {2}/);
  assert.ok(err.details.includes(`with UUID ${br0}, existed in the database before this transaction and was not modified by the transaction.`));
  assert.ok(err.details.includes(`with UUID ${uuidOf(out.results[1])}, was inserted by this transaction.`));

  const imm = run(db, [{ op: 'update', table: 'Bridge', where: [], row: { name: 'br9' } }]);
  assert.equal((imm.results[0] as { details: string }).details, 'Cannot update immutable column name in table Bridge.');
});

test('del-br: removing the bridge from Open_vSwitch collects its ports and interfaces, and mirrors drop weak refs', () => {
  const { db, ovs } = fresh();
  ok(db, addBr(ovs, 'br0', []));
  const br0 = [...db.tables.get('Bridge')!.keys()][0]!;
  // Add port p1 and a mirror selecting both ports.
  const r = ok(db, [
    { op: 'insert', table: 'Interface', 'uuid-name': 'i1', row: { name: 'p1' } },
    { op: 'insert', table: 'Port', 'uuid-name': 'p1', row: { name: 'p1', interfaces: ['named-uuid', 'i1'] } },
    { op: 'insert', table: 'Mirror', 'uuid-name': 'm', row: { name: 'm0', select_src_port: ['named-uuid', 'p1'], output_port: ['named-uuid', 'p1'] } },
    { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', br0]]],
      mutations: [['ports', 'insert', ['named-uuid', 'p1']], ['mirrors', 'insert', ['named-uuid', 'm']]] },
  ]);
  const p1 = uuidOf(r[1]);
  const mirror = uuidOf(r[2]);
  assert.deepEqual(db.tables.get('Mirror')!.get(mirror)!.data.get('select_src_port')!.keys, [p1]);

  // del-port p1: the Port goes (GC), and the Mirror's weak references to it vanish.
  const del = run(db, [{ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', br0]]], mutations: [['ports', 'delete', ['uuid', p1]]] }]);
  assert.ok(del.kind === 'done' && del.change, JSON.stringify(del.results));
  assert.equal(db.tables.get('Port')!.has(p1), false);
  assert.equal(db.tables.get('Interface')!.size, 1);
  const m = db.tables.get('Mirror')!.get(mirror)!;
  assert.deepEqual(m.data.get('select_src_port')!.keys, []);
  assert.deepEqual(m.data.get('output_port')!.keys, []);
  const mc = del.change.tables.get('Mirror')!.get(mirror)!;
  assert.deepEqual(mc.old!.data.get('select_src_port')!.keys, [p1]);
  assert.notEqual(mc.new!.version, mc.old!.version);

  // del-br: everything under the bridge is collected.
  const delBr = run(db, [{ op: 'update', table: 'Open_vSwitch', where: [], row: { bridges: ['set', []] } }]);
  assert.ok(delBr.kind === 'done' && delBr.change);
  for (const t of ['Bridge', 'Port', 'Interface', 'Mirror']) assert.equal(db.tables.get(t)!.size, 0, t);
  assert.equal(delBr.change.tables.get('Bridge')!.get(br0)!.new, null);
});

test('a Port must keep at least one interface; deleting a referenced Interface is refused', () => {
  const { db, ovs } = fresh();
  ok(db, addBr(ovs, 'br0', []));
  const iface = [...db.tables.get('Interface')!.keys()][0]!;
  const port = [...db.tables.get('Port')!.keys()][0]!;
  const out = run(db, [{ op: 'mutate', table: 'Port', where: [], mutations: [['interfaces', 'delete', ['uuid', iface]]] }]);
  assert.deepEqual(out.results[0], {
    error: 'constraint violation',
    details: 'Attempted to store 0 elements in set of 1 or more uuids.',
  });
  const del = run(db, [{ op: 'delete', table: 'Interface', where: [] }]);
  assert.deepEqual(del.results[1], {
    error: 'referential integrity violation',
    details: `cannot delete Interface row ${iface} because of 1 remaining reference(s)`,
  });
  assert.ok(db.tables.get('Port')!.has(port));
});

test('property: random set mutations keep sets sorted, unique, in range, and equal to a model', () => {
  const { db } = fresh();
  // Bridge.flood_vlans: set of 0..4096 integers, each 0..4095.
  const r = ok(db, [
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'brp' } },
  ]);
  const br = uuidOf(r[1]);
  const vlan = fc.integer({ min: -5, max: 4100 });
  const mutation = fc.oneof(
    fc.tuple(fc.constant('insert'), fc.uniqueArray(vlan, { maxLength: 5 })),
    fc.tuple(fc.constant('delete'), fc.uniqueArray(vlan, { maxLength: 5 })),
    fc.tuple(fc.constantFrom('+=', '-=', '*=', '/=', '%='), fc.integer({ min: -3, max: 3 })),
  );
  fc.assert(
    fc.property(fc.array(mutation, { maxLength: 12 }), (muts) => {
      ok(db, [{ op: 'update', table: 'Bridge', where: [['_uuid', '==', ['uuid', br]]], row: { flood_vlans: ['set', []] } }]);
      let model: number[] = [];
      for (const [m, arg] of muts) {
        const json = Array.isArray(arg) ? ['set', arg] : arg;
        const out = run(db, [{ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', br]]], mutations: [['flood_vlans', m, json]] }]);
        const failed = out.results.some((x) => x !== null && typeof x === 'object' && 'error' in x);
        // Model of the same mutation; undefined means it must fail.
        let next: number[] | undefined;
        if (m === 'insert') {
          const a = arg as number[];
          next = a.some((v) => v < 0 || v > 4095) ? undefined : [...new Set([...model, ...a])];
        } else if (m === 'delete') {
          const a = arg as number[];
          next = a.some((v) => v < 0 || v > 4095) ? undefined : model.filter((v) => !a.includes(v));
        } else {
          const y = arg as number;
          if ((m === '/=' || m === '%=') && y === 0) next = model.length ? undefined : [];
          else {
            const f = (x: number) =>
              m === '+=' ? x + y : m === '-=' ? x - y : m === '*=' ? x * y : m === '/=' ? Math.trunc(x / y) : x % y;
            const vals = model.map(f).map((v) => (Object.is(v, -0) ? 0 : v));
            next = vals.some((v) => v < 0 || v > 4095) || new Set(vals).size !== vals.length ? undefined : vals;
          }
        }
        assert.equal(failed, next === undefined, `${m} ${JSON.stringify(arg)} on ${JSON.stringify(model)}: ${JSON.stringify(out.results)}`);
        if (next) model = next.sort((a, b) => a - b);
        const keys = db.tables.get('Bridge')!.get(br)!.data.get('flood_vlans')!.keys as number[];
        assert.deepEqual(keys, model);
        for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1]! < keys[i]!);
      }
    }),
    { numRuns: 150 },
  );
});
