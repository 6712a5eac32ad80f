// Random transactions against the Open_vSwitch schema: whatever a client
// sends, executeTransaction answers with results (never throws), and after
// every commit the database keeps its invariants: strong references point at
// rows that exist, no unreferenced non-root row survives, weak references are
// never dangling, indexes are unique, maxRows holds, every datum is sorted,
// duplicate-free and within its constraints. A failed transaction changes
// nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseSchema, type DatabaseSchema } from '../../src/db/schema.js';
import { atomCompare, checkConstraints, datumToJson } from '../../src/db/datum.js';
import { Database } from '../../src/db/database.js';
import { executeTransaction } from '../../src/db/transaction.js';

const schema: DatabaseSchema = parseSchema(JSON.parse(readFileSync('schemas/vswitch.ovsschema', 'utf8')));
const NAMES = ['br0', 'br1', 'p0', 'p1', 'p2', 'eth0', ''];
const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface', 'Mirror', 'Controller', 'Nope'];

type Json = unknown;

/** An op skeleton drawn by fast-check; resolved against the current database when run. */
interface Draw { kind: number; table: number; name: number; pick: number; n: number; garbage: Json }

function rowUuid(db: Database, table: string, pick: number): Json {
  const rows = [...(db.tables.get(table)?.keys() ?? [])];
  if (rows.length === 0 || pick % 5 === 0) return ['uuid', '00000000-0000-0000-0000-00000000000' + (pick % 10)];
  return ['uuid', rows[pick % rows.length]!];
}

/** The ops of one draw: often a coherent recipe (add a bridge, add a port), otherwise one random op. */
function buildOps(db: Database, d: Draw, i: number): Json[] {
  const name = NAMES[d.name % NAMES.length]!;
  const k = d.kind % 20;
  if (k < 4) {
    return [
      { op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': `ci${i}` },
      { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', `ci${i}`] }, 'uuid-name': `cp${i}` },
      { op: 'insert', table: 'Bridge', row: { name, ports: ['named-uuid', `cp${i}`] }, 'uuid-name': `b${i}` },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', `b${i}`]]]]] },
    ];
  }
  if (k < 8) {
    return [
      { op: 'insert', table: 'Interface', row: { name: `${name}x${d.n}` }, 'uuid-name': `ci${i}` },
      { op: 'insert', table: 'Port', row: { name: `${name}x${d.n}`, interfaces: ['named-uuid', `ci${i}`] }, 'uuid-name': `p${i}` },
      { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', rowUuid(db, 'Bridge', d.pick)]], mutations: [['ports', 'insert', ['set', [['named-uuid', `p${i}`]]]]] },
    ];
  }
  if (k < 10) {
    return [{ op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'delete', ['set', [rowUuid(db, 'Port', d.pick)]]]] }];
  }
  return [buildOp(db, d, i)];
}

function buildOp(db: Database, d: Draw, i: number): Json {
  const table = TABLES[d.table % TABLES.length]!;
  const name = NAMES[d.name % NAMES.length]!;
  switch (d.kind % 12) {
    case 0:
      return { op: 'insert', table: 'Interface', row: { name, type: d.n % 2 ? 'internal' : '' }, 'uuid-name': `i${i}` };
    case 1:
      return { op: 'insert', table: 'Port', row: { name, interfaces: ['set', [['named-uuid', `i${i - 1}`]]] }, 'uuid-name': `p${i}` };
    case 2:
      return { op: 'insert', table: 'Bridge', row: { name, ports: ['set', d.n % 2 ? [['named-uuid', `p${i - 1}`]] : [rowUuid(db, 'Port', d.pick)]] }, 'uuid-name': `b${i}` };
    case 3:
      return { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', d.n % 3 ? 'insert' : 'delete', ['set', [d.n % 2 ? ['named-uuid', `b${i - 1}`] : rowUuid(db, 'Bridge', d.pick)]]]] };
    case 4:
      return { op: 'insert', table: 'Open_vSwitch', row: { next_cfg: d.n } };
    case 5:
      return { op: 'delete', table, where: [['name', '==', name]] };
    case 6:
      return { op: 'update', table: 'Bridge', where: [['_uuid', '==', rowUuid(db, 'Bridge', d.pick)]], row: { external_ids: ['map', [['k', String(d.n)]]], fail_mode: d.n % 3 ? 'secure' : 'bogus' } };
    case 7:
      return { op: 'mutate', table: 'Bridge', where: [], mutations: [['flood_vlans', d.n % 2 ? 'insert' : 'delete', ['set', [d.n % 5000, (d.n * 7) % 4096]]]] };
    case 8:
      return { op: 'insert', table: 'Mirror', row: { name, select_src_port: ['set', [rowUuid(db, 'Port', d.pick)]], output_port: rowUuid(db, 'Port', d.pick + 1) }, 'uuid-name': `m${i}` };
    case 9:
      return { op: 'mutate', table: 'Bridge', where: [], mutations: [['mirrors', 'insert', ['set', [['named-uuid', `m${i - 1}`]]]]] };
    case 10:
      return { op: 'wait', table, where: [['name', '==', name]], columns: ['name'], until: d.n % 2 ? '==' : '!=', rows: [], timeout: 0 };
    default:
      // Anything at all: the engine must answer with an error, not throw.
      return d.garbage;
  }
}

function checkInvariants(db: Database): void {
  for (const [tname, rows] of db.tables) {
    const t = schema.tables.get(tname)!;
    if (t.maxRows !== undefined) assert.ok(rows.size <= t.maxRows, `${tname} has ${rows.size} rows`);
    for (const idx of t.indexes) {
      const seen = new Set<string>();
      for (const row of rows.values()) {
        const key = JSON.stringify(idx.map((c) => datumToJson(t.columns.get(c)!.type, row.data.get(c)!)));
        assert.ok(!seen.has(key), `duplicate ${tname} index ${key}`);
        seen.add(key);
      }
    }
    for (const row of rows.values()) {
      for (const [cname, col] of t.columns) {
        const d = row.data.get(cname);
        assert.ok(d, `${tname}.${cname} missing`);
        for (let i = 1; i < d.keys.length; i++) assert.ok(atomCompare(d.keys[i - 1]!, d.keys[i]!) < 0, `${tname}.${cname} unsorted`);
        checkConstraints(col.type, d);
        for (const [base, atoms] of [[col.type.key, d.keys], [col.type.value, d.values ?? []]] as const) {
          if (!base?.refTable) continue;
          for (const u of atoms) {
            assert.ok(db.tables.get(base.refTable)!.has(u as string), `${tname}.${cname} refers to missing ${base.refTable} ${String(u)} (${base.refType})`);
          }
        }
      }
    }
  }
  // Garbage collection: every non-root row is strongly referenced by someone.
  const referenced = new Set<string>();
  for (const [tname, rows] of db.tables) {
    const t = schema.tables.get(tname)!;
    for (const row of rows.values()) {
      for (const [cname, col] of t.columns) {
        const d = row.data.get(cname)!;
        for (const [base, atoms] of [[col.type.key, d.keys], [col.type.value, d.values ?? []]] as const) {
          if (base?.refTable && base.refType !== 'weak') for (const u of atoms) if (u !== row.uuid) referenced.add(u as string);
        }
      }
    }
  }
  for (const [tname, rows] of db.tables) {
    if (schema.tables.get(tname)!.isRoot) continue;
    for (const uuid of rows.keys()) assert.ok(referenced.has(uuid), `unreferenced ${tname} row ${uuid} survived`);
  }
}

function snapshot(db: Database): string {
  const out: Record<string, unknown> = {};
  for (const [tname, rows] of db.tables) {
    const t = schema.tables.get(tname)!;
    out[tname] = [...rows.values()].map((r) => [r.uuid, r.version, [...t.columns.keys()].map((c) => datumToJson(t.columns.get(c)!.type, r.data.get(c)!))]);
  }
  return JSON.stringify(out);
}

const draw: fc.Arbitrary<Draw> = fc.record({
  kind: fc.nat(), table: fc.nat(), name: fc.nat(), pick: fc.nat(), n: fc.integer({ min: -5, max: 10000 }),
  garbage: fc.oneof(fc.jsonValue(), fc.record({ op: fc.constantFrom('insert', 'update', 'mutate', 'select', 'wait', 'delete', 'commit', 'comment', 'assert', 'abort', 'x'), table: fc.constantFrom(...TABLES), where: fc.jsonValue(), row: fc.jsonValue(), mutations: fc.jsonValue() }, { requiredKeys: ['op'] })),
});

test('random transactions never throw, never leave the database inconsistent, and failures change nothing', () => {
  let commits = 0;
  let gcs = 0;
  fc.assert(
    fc.property(fc.array(fc.array(draw, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }), (txns) => {
      const db = new Database(schema);
      executeTransaction(db, [{ op: 'insert', table: 'Open_vSwitch', row: {} }], { hasLock: () => false, now: () => 0 });
      let i = 0;
      for (const draws of txns) {
        const ops = draws.flatMap((d) => buildOps(db, d, i++));
        const before = snapshot(db);
        const out = executeTransaction(db, ops, { hasLock: () => false, now: () => 0 });
        assert.ok(Array.isArray(out.results));
        const failed = out.results.some((r) => r !== null && typeof r === 'object' && 'error' in (r as object));
        if (out.kind === 'blocked' || failed) assert.equal(snapshot(db), before, 'a failed transaction changed the database');
        else if (out.change) {
          commits++;
          for (const rows of out.change.tables.values()) for (const c of rows.values()) if (!c.new && c.old) gcs++;
        }
        checkInvariants(db);
      }
    }),
    { numRuns: 400 },
  );
  // The generator must reach real commits and deletions, or the test proves little.
  assert.ok(commits > 300, `only ${commits} commits`);
  assert.ok(gcs > 30, `only ${gcs} deletions`);
});
