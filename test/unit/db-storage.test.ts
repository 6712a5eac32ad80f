// Standalone database files: what we write the real ovsdb-tool accepts, what
// the real ovsdb-server writes we read, and a torn tail costs only the tail.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DbFile, changeToJson, lockFileName, scanLog } from '../../src/db/storage.js';
import { parseSchema, type DatabaseSchema } from '../../src/db/schema.js';
import { datumDefault, datumFromJson, datumToJson, newUuid, type Datum } from '../../src/db/datum.js';
import type { Change, Database, Row, RowChange } from '../../src/db/database.js';
import { OvsdbError } from '../../src/db/errors.js';

const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const haveTool = spawnSync('ovsdb-tool', ['--version']).status === 0;
const haveServer = haveTool && spawnSync('ovsdb-server', ['--version']).status === 0
  && spawnSync('ovs-vsctl', ['--version']).status === 0;

const TEST_SCHEMA = {
  name: 'T',
  version: '1.2.3',
  tables: {
    A: {
      isRoot: true,
      columns: {
        name: { type: 'string' },
        n: { type: 'integer' },
        opt: { type: { key: 'string', min: 0, max: 1 } },
        tags: { type: { key: 'string', min: 0, max: 'unlimited' } },
        kv: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        refs: { type: { key: { type: 'uuid', refTable: 'B' }, min: 0, max: 'unlimited' } },
        small: { type: { key: 'integer', min: 0, max: 2 } },
        status: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' }, ephemeral: true },
      },
    },
    B: { isRoot: true, columns: { x: { type: 'real' } } },
  },
};

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsw-'));
}

function tool(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ovsdb-tool', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rows of one table as `ovsdb-tool query` sees them, keyed by uuid, _uuid/_version dropped. */
function toolSelect(file: string, db: string, table: string): Map<string, Record<string, unknown>> {
  const r = tool('query', file, JSON.stringify([db, { op: 'select', table, where: [] }]));
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { rows: Record<string, unknown>[] }[];
  const out = new Map<string, Record<string, unknown>>();
  for (const row of res[0]!.rows) {
    const uuid = (row._uuid as [string, string])[1];
    const rest = { ...row };
    delete rest._uuid;
    delete rest._version;
    out.set(uuid, rest);
  }
  return out;
}

/** Our rows of one table in the same wire form; ephemeral columns show as defaults, as a file holds none. */
function ourSelect(db: Database, table: string): Map<string, Record<string, unknown>> {
  const ts = db.schema.tables.get(table)!;
  const out = new Map<string, Record<string, unknown>>();
  for (const [uuid, row] of db.tables.get(table) ?? new Map<string, Row>()) {
    const r: Record<string, unknown> = {};
    for (const c of ts.columns.values()) {
      r[c.name] = datumToJson(c.type, c.ephemeral ? datumDefault(c.type) : row.data.get(c.name)!);
    }
    out.set(uuid, r);
  }
  return out;
}

function assertSameAsTool(file: string, db: Database): void {
  for (const t of db.schema.tables.keys()) {
    assert.deepEqual(ourSelect(db, t), toolSelect(file, db.schema.name, t), `table ${t}`);
  }
}

/** A row with every column at its default, then the given columns (wire JSON) set. */
function makeRow(schema: DatabaseSchema, table: string, values: Record<string, unknown>, uuid = newUuid()): Row {
  const ts = schema.tables.get(table)!;
  const data = new Map<string, Datum>();
  for (const c of ts.columns.values()) data.set(c.name, datumDefault(c.type));
  for (const [k, v] of Object.entries(values)) data.set(k, datumFromJson(ts.columns.get(k)!.type, v));
  return { uuid, version: newUuid(), data };
}

function modified(schema: DatabaseSchema, table: string, old: Row, values: Record<string, unknown>): Row {
  const ts = schema.tables.get(table)!;
  const data = new Map(old.data);
  for (const [k, v] of Object.entries(values)) data.set(k, datumFromJson(ts.columns.get(k)!.type, v));
  return { uuid: old.uuid, version: newUuid(), data };
}

/** Applies row changes to `db` (standing in for the transaction engine) and returns the Change. */
function commit(db: Database, table: string, changes: RowChange[], comment?: string): Change {
  const rows = db.tables.get(table)!;
  const m = new Map<string, RowChange>();
  for (const rc of changes) {
    const uuid = (rc.new ?? rc.old)!.uuid;
    m.set(uuid, rc);
    if (rc.new) rows.set(uuid, rc.new);
    else rows.delete(uuid);
  }
  return { tables: new Map([[table, m]]), comment, durable: false };
}

function records(file: string): Record<string, unknown>[] {
  const scan = scanLog(fs.readFileSync(file), file);
  assert.equal(scan.error, undefined);
  return scan.records.map((r) => r.json);
}

function silent(): { log: (m: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (m) => lines.push(m), lines };
}

/** A file with three transactions on table A; returns the expected contents after each record. */
function buildFile(dir: string): { file: string; sizes: number[]; snapshots: Map<string, Record<string, unknown>>[] } {
  const file = path.join(dir, 'x.db');
  DbFile.create(file, TEST_SCHEMA);
  const { file: f, db } = DbFile.open(file, silent().log);
  const s = db.schema;
  const sizes = [f.size];
  const snapshots = [ourSelect(db, 'A')];
  const a = makeRow(s, 'A', { name: 'a', n: 1, tags: ['set', ['t1', 't2']], kv: ['map', [['k', 'v']]] });
  f.append(commit(db, 'A', [{ old: null, new: a }]), { durable: true });
  sizes.push(f.size);
  snapshots.push(ourSelect(db, 'A'));
  const a2 = modified(s, 'A', a, { n: 2, tags: ['set', ['t2', 't3']] });
  f.append(commit(db, 'A', [{ old: a, new: a2 }]), { durable: false });
  sizes.push(f.size);
  snapshots.push(ourSelect(db, 'A'));
  const b = makeRow(s, 'A', { name: 'b' });
  f.append(commit(db, 'A', [{ old: null, new: b }]), { durable: false });
  sizes.push(f.size);
  snapshots.push(ourSelect(db, 'A'));
  f.close();
  return { file, sizes, snapshots };
}

describe('creating and reading files', () => {
  test('create writes the schema as record 0 with a SHA-1 over the body', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    const buf = fs.readFileSync(file);
    const nl = buf.indexOf(0x0a);
    const m = /^OVSDB JSON (\d+) ([0-9a-f]{40})$/.exec(buf.subarray(0, nl).toString());
    assert.ok(m);
    const body = buf.subarray(nl + 1);
    assert.equal(body.length, Number(m[1]));
    assert.equal(createHash('sha1').update(body).digest('hex'), m[2]);
    assert.equal(body.at(-1), 0x0a);
    assert.deepEqual(JSON.parse(body.toString()), TEST_SCHEMA);
    assert.throws(() => DbFile.create(file, TEST_SCHEMA), (e: unknown) => e instanceof OvsdbError && e.tag === 'I/O error');
    const { file: f, db } = DbFile.open(file, silent().log);
    assert.equal(db.schema.name, 'T');
    assert.equal(db.tables.get('A')?.size ?? 0, 0);
    f.close();
  });

  test('inserts, diffs and deletes survive a reopen', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    let { file: f, db } = DbFile.open(file, silent().log);
    const s = db.schema;
    const b = makeRow(s, 'B', { x: 1.5 });
    f.append(commit(db, 'B', [{ old: null, new: b }]), { durable: true });
    const a = makeRow(s, 'A', {
      name: 'a', n: 7, opt: 'o', tags: ['set', ['x', 'y']], kv: ['map', [['k1', 'v1'], ['k2', 'v2']]],
      refs: ['uuid', b.uuid], small: ['set', [1, 2]], status: ['map', [['e', 'f']]],
    });
    f.append(commit(db, 'A', [{ old: null, new: a }], 'first'), { durable: true });
    const a2 = modified(s, 'A', a, {
      opt: ['set', []], tags: ['set', ['y', 'z']], kv: ['map', [['k1', 'v1'], ['k2', 'changed'], ['k3', 'new']]],
    });
    f.append(commit(db, 'A', [{ old: a, new: a2 }]), { durable: false });
    const a3 = modified(s, 'A', a2, { small: ['set', [3, 4]], n: 8 });
    f.append(commit(db, 'A', [{ old: a2, new: a3 }]), { durable: false });
    const c = makeRow(s, 'A', { name: 'c' });
    f.append(commit(db, 'A', [{ old: null, new: c }]), { durable: false });
    f.append(commit(db, 'A', [{ old: c, new: null }]), { durable: false });
    const expected = { A: ourSelect(db, 'A'), B: ourSelect(db, 'B') };
    f.close();

    const recs = records(file);
    assert.equal(recs.length, 7);
    // Insert: only non-default, non-ephemeral columns.
    const ins = (recs[2]!.A as Record<string, Record<string, unknown>>)[a.uuid]!;
    assert.deepEqual(Object.keys(ins).sort(), ['kv', 'n', 'name', 'opt', 'refs', 'small', 'tags']);
    assert.equal(recs[2]!._comment, 'first');
    assert.equal(recs[2]!._is_diff, true);
    assert.equal(typeof recs[2]!._date, 'number');
    // Modify: sets and maps as diffs, an optional column as its new value.
    assert.deepEqual((recs[3]!.A as Record<string, unknown>)[a.uuid], {
      opt: ['set', []], tags: ['set', ['x', 'z']], kv: ['map', [['k2', 'changed'], ['k3', 'new']]],
    });
    assert.equal(recs[3]!._comment, undefined);
    // A diff larger than the column allows makes OVS's reader fail, so that record holds full values.
    assert.deepEqual((recs[4]!.A as Record<string, unknown>)[a.uuid], { n: 8, small: ['set', [3, 4]] });
    assert.equal(recs[4]!._is_diff, undefined);
    assert.deepEqual((recs[6]!.A as Record<string, unknown>)[c.uuid], null);

    ({ file: f, db } = DbFile.open(file, silent().log));
    assert.deepEqual({ A: ourSelect(db, 'A'), B: ourSelect(db, 'B') }, expected);
    assert.deepEqual(db.tables.get('A')!.get(a.uuid)!.data.get('status'), { keys: [], values: [] });
    const versions = new Set([...db.tables.get('A')!.values()].map((r) => r.version));
    assert.equal(versions.size, db.tables.get('A')!.size);
    f.close();
    if (haveTool) assertSameAsTool(file, db);
  });

  test('a change to ephemeral columns only writes nothing', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    const { file: f, db } = DbFile.open(file, silent().log);
    const a = makeRow(db.schema, 'A', { name: 'a' });
    f.append(commit(db, 'A', [{ old: null, new: a }]), { durable: false });
    const size = f.size;
    const a2 = modified(db.schema, 'A', a, { status: ['map', [['link', 'up']]] });
    const ch = commit(db, 'A', [{ old: a, new: a2 }], 'comment alone is not a change');
    assert.equal(changeToJson(db.schema, ch), null);
    f.append(ch, { durable: true });
    assert.equal(f.size, size);
    assert.equal(fs.statSync(file).size, size);
    f.close();
  });

  test('a file holds an exclusive lock next to it', { skip: !haveTool }, () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    const { file: f } = DbFile.open(file, silent().log);
    assert.equal(lockFileName(file), path.join(fs.realpathSync(dir), '.x.db.~lock~'));
    assert.ok(fs.existsSync(lockFileName(file)));
    assert.throws(() => DbFile.open(file, silent().log), /failed to lock lockfile/);
    // Writers among the real tools see our fcntl lock; readers do not need it.
    const r = tool('compact', file);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /failed to lock lockfile/);
    assert.equal(tool('db-version', file).stdout.trim(), '1.2.3');
    f.close();
    assert.equal(tool('compact', file).status, 0);
    DbFile.open(file, silent().log).file.close();
  });

  test('a corrupt schema record is fatal', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    const buf = fs.readFileSync(file);
    buf[buf.length - 5] ^= 0x20;
    fs.writeFileSync(file, buf);
    assert.throws(() => DbFile.open(file, silent().log), /SHA-1/);
    fs.writeFileSync(file, '');
    assert.throws(() => DbFile.open(file, silent().log), OvsdbError);
    // The lock is released after a failed open.
    fs.writeFileSync(path.join(dir, 'y.db'), '');
    DbFile.create(path.join(dir, 'z.db'), TEST_SCHEMA);
    DbFile.open(path.join(dir, 'z.db'), silent().log).file.close();
    assert.equal(fs.readFileSync(file).length, 0);
  });
});

describe('another process', () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  test('holds the lock while it lives, and its acknowledged appends survive SIGKILL', async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    const src = (m: string) => fileURLToPath(new URL(`../../src/db/${m}.ts`, import.meta.url));
    const script = path.join(dir, 'writer.ts');
    fs.writeFileSync(
      script,
      `import { DbFile } from ${JSON.stringify(src('storage'))};
import { newUuid } from ${JSON.stringify(src('datum'))};
const { file, db } = DbFile.open(process.argv[2], () => {});
const rows = db.tables.get('B');
for (let i = 0; i < 50; i++) {
  const row = { uuid: newUuid(), version: newUuid(), data: new Map([['x', { keys: [i + 0.5], values: null }]]) };
  rows.set(row.uuid, row);
  file.append({ tables: new Map([['B', new Map([[row.uuid, { old: null, new: row }]])]]), durable: false }, { durable: false });
}
process.stdout.write('done\\n');
setInterval(() => {}, 1000);
`,
    );
    child = spawn(process.execPath, ['--import', 'tsx', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('done')) resolve();
      });
      child!.once('exit', () => reject(new Error('writer exited early')));
    });
    assert.throws(() => DbFile.open(file, silent().log), new RegExp(`failed to lock lockfile .*pid ${child.pid}`));
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const { file: f, db } = DbFile.open(file, silent().log);
    const xs = [...db.tables.get('B')!.values()].map((r) => r.data.get('x')!.keys[0]).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(xs, Array.from({ length: 50 }, (_, i) => i + 0.5));
    f.close();
  });
});

describe('torn and corrupt tails', () => {
  const cases: { name: string; damage: (buf: Buffer, sizes: number[]) => Buffer; keep: number }[] = [
    { name: 'truncated in the middle of the last body', damage: (b, s) => b.subarray(0, s[3]! - 10), keep: 2 },
    { name: 'truncated in the middle of a header', damage: (b, s) => b.subarray(0, s[2]! + 12), keep: 2 },
    {
      name: 'a flipped byte in the second transaction',
      damage: (b, s) => {
        const c = Buffer.from(b);
        c[s[2]! - 5] ^= 0x01;
        return c;
      },
      keep: 1,
    },
    {
      name: 'a garbage header after the last record',
      damage: (b) => Buffer.concat([b, Buffer.from('OVSDB JSON 12 nothex\n{"x":1}\n')]),
      keep: 3,
    },
    { name: 'binary garbage after the last record', damage: (b) => Buffer.concat([b, Buffer.alloc(300, 0xff)]), keep: 3 },
  ];
  for (const c of cases) {
    test(`${c.name}: the good records stay, the rest is cut off, the file stays usable`, () => {
      const dir = tmpdir();
      const { file, sizes, snapshots } = buildFile(dir);
      fs.writeFileSync(file, c.damage(fs.readFileSync(file), sizes));
      const logged = silent();
      const { file: f, db } = DbFile.open(file, logged.log);
      assert.equal(logged.lines.length, 1);
      assert.match(logged.lines[0]!, new RegExp(`offset ${sizes[c.keep]}`));
      assert.deepEqual(ourSelect(db, 'A'), snapshots[c.keep]);
      assert.equal(fs.statSync(file).size, sizes[c.keep]);
      assert.equal(f.size, sizes[c.keep]);
      const z = makeRow(db.schema, 'A', { name: 'after' });
      f.append(commit(db, 'A', [{ old: null, new: z }]), { durable: true });
      f.close();
      const again = silent();
      const { file: f2, db: db2 } = DbFile.open(file, again.log);
      assert.deepEqual(again.lines, []);
      assert.deepEqual(ourSelect(db2, 'A'), ourSelect(db, 'A'));
      f2.close();
      if (haveTool) {
        assert.equal(tool('show-log', file).status, 0);
        assertSameAsTool(file, db2);
      }
    });
  }
});

describe('compaction', () => {
  test('compact leaves schema + snapshot, atomically, and appending continues', () => {
    const dir = tmpdir();
    const { file } = buildFile(dir);
    const before = fs.readFileSync(file);
    const { file: f, db } = DbFile.open(file, silent().log);
    f.compact(db);
    assert.equal(fs.existsSync(`${file}.tmp`), false);
    const recs = records(file);
    assert.equal(recs.length, 2);
    // The schema record is carried over byte for byte.
    const schemaLen = before.indexOf(0x0a) + 1 + Number(before.subarray(0, before.indexOf(0x0a)).toString().split(' ')[2]);
    assert.deepEqual(fs.readFileSync(file).subarray(0, schemaLen), before.subarray(0, schemaLen));
    assert.equal(recs[1]!._comment, 'compacting database online');
    assert.equal(f.size, fs.statSync(file).size);
    const x = makeRow(db.schema, 'A', { name: 'x', kv: ['map', [['a', 'b']]] });
    f.append(commit(db, 'A', [{ old: null, new: x }]), { durable: true });
    const rows = [...db.tables.get('A')!.values()];
    const first = rows.find((r) => r.uuid !== x.uuid)!;
    f.append(commit(db, 'A', [{ old: first, new: modified(db.schema, 'A', first, { tags: ['set', ['q']] }) }]), {
      durable: true,
    });
    f.close();
    assert.equal(records(file).length, 4);
    const { file: f2, db: db2 } = DbFile.open(file, silent().log);
    assert.deepEqual(ourSelect(db2, 'A'), ourSelect(db, 'A'));
    f2.close();
    if (haveTool) {
      assertSameAsTool(file, db2);
      const show = tool('-mm', 'show-log', file);
      assert.equal(show.status, 0, show.stderr);
      assert.match(show.stdout, /compacting database online/);
    }
  });

  test('shouldCompact follows ovsdb-server: time window, record count, growth', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'x.db');
    DbFile.create(file, TEST_SCHEMA);
    let now = 1_000_000;
    const { file: f, db } = DbFile.open(file, silent().log, { now: () => now, random: () => 0.5 });
    const min = 10 * 60_000 + 5 * 60_000;
    assert.equal(f.shouldCompact(), false);
    now += min;
    assert.equal(f.shouldCompact(), false, 'nothing logged yet');
    // Grow past 10 MB with >100 records.
    const big = 'x'.repeat(110_000);
    let prev: Row | null = null;
    for (let i = 0; i < 100; i++) {
      const r = makeRow(db.schema, 'A', { name: `${i}`, tags: ['set', [big + i]] });
      f.append(commit(db, 'A', [{ old: prev, new: r }]), { durable: false });
      prev = r;
    }
    assert.ok(f.size > 10 * 1024 * 1024);
    now -= 1;
    assert.equal(f.shouldCompact(), false, 'too early');
    now += 1;
    assert.equal(f.shouldCompact(), true);
    f.compact(db);
    assert.equal(f.shouldCompact(), false, 'just compacted');
    now += 24 * 3600_000;
    assert.equal(f.shouldCompact(), false, 'a day later but nothing new');
    f.append(commit(db, 'A', [{ old: prev, new: null }]), { durable: false });
    assert.equal(f.shouldCompact(), true, 'a day later and something new');
    f.close();
  });
});

describe('interoperability with the real ovsdb-tool', { skip: !haveTool }, () => {
  test('show-log, db-version, db-cksum and query accept what we write', () => {
    const dir = tmpdir();
    const file = path.join(dir, 'conf.db');
    const schemaJson = JSON.parse(fs.readFileSync(VSWITCH_SCHEMA, 'utf8')) as Record<string, unknown>;
    DbFile.create(file, schemaJson);
    assert.equal(tool('db-version', file).stdout.trim(), '8.3.1');
    assert.equal(tool('db-cksum', file).stdout.trim(), schemaJson.cksum);
    const { file: f, db } = DbFile.open(file, silent().log);
    const s = db.schema;
    const ovs = makeRow(s, 'Open_vSwitch', {});
    f.append(commit(db, 'Open_vSwitch', [{ old: null, new: ovs }], 'ovs-vsctl: init'), { durable: true });
    const iface = makeRow(s, 'Interface', { name: 'br0', type: 'internal' });
    const port = makeRow(s, 'Port', { name: 'br0', interfaces: ['uuid', iface.uuid], trunks: ['set', [1, 2, 3]] });
    const br = makeRow(s, 'Bridge', { name: 'br0', ports: ['uuid', port.uuid], external_ids: ['map', [['a', '1']]] });
    const ch: Change = { tables: new Map(), durable: true, comment: 'add-br' };
    for (const [t, r] of [['Interface', iface], ['Port', port], ['Bridge', br]] as const) {
      db.tables.get(t)!.set(r.uuid, r);
      ch.tables.set(t, new Map([[r.uuid, { old: null, new: r }]]));
    }
    const ovs2 = modified(s, 'Open_vSwitch', ovs, { bridges: ['uuid', br.uuid], next_cfg: 1 });
    db.tables.get('Open_vSwitch')!.set(ovs.uuid, ovs2);
    ch.tables.set('Open_vSwitch', new Map([[ovs.uuid, { old: ovs, new: ovs2 }]]));
    f.append(ch, { durable: true });
    // Map and set diffs: add/remove/change keys; ephemeral-free.
    const br2 = modified(s, 'Bridge', br, { external_ids: ['map', [['a', '2'], ['b', '3']]], flood_vlans: ['set', [5]] });
    f.append(commit(db, 'Bridge', [{ old: br, new: br2 }]), { durable: false });
    const port2 = modified(s, 'Port', port, { trunks: ['set', [2, 3, 4]], tag: 10 });
    f.append(commit(db, 'Port', [{ old: port, new: port2 }]), { durable: false });
    // Only ephemeral? Open_vSwitch has none in 8.3.1; Interface.ofport is persistent.
    const iface2 = modified(s, 'Interface', iface, { ofport: 65534, link_state: 'up' });
    f.append(commit(db, 'Interface', [{ old: iface, new: iface2 }]), { durable: false });
    f.close();

    const show = tool('-mm', 'show-log', file);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /record 2:.*"add-br"/);
    assert.match(show.stdout, /table Bridge insert row "br0"/);
    assert.match(show.stdout, /external_ids=\{a="2", b="3"\}|external_ids/);
    assertSameAsTool(file, db);
    const q = toolSelect(file, 'Open_vSwitch', 'Bridge').get(br.uuid)!;
    assert.deepEqual(q.external_ids, ['map', [['a', '2'], ['b', '3']]]);
    assert.deepEqual(toolSelect(file, 'Open_vSwitch', 'Port').get(port.uuid)!.trunks, ['set', [2, 3, 4]]);

    // ovsdb-tool's own compaction reads our log and we read its output.
    assert.equal(tool('compact', file).status, 0);
    const { file: f2, db: db2 } = DbFile.open(file, silent().log);
    for (const t of s.tables.keys()) assert.deepEqual(ourSelect(db2, t), ourSelect(db, t), t);
    f2.compact(db2);
    f2.close();
    assertSameAsTool(file, db2);
    assert.equal(tool('db-cksum', file).stdout.trim(), schemaJson.cksum);
  });
});

describe('reading what the real ovsdb-server wrote', { skip: !haveServer }, () => {
  const servers: ChildProcess[] = [];

  after(() => {
    for (const p of servers) {
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
  });

  /** Runs a real ovsdb-server on a fresh vswitch database; `stop` ends it with SIGTERM. */
  async function startServer(): Promise<{
    file: string;
    vsctl: (...args: string[]) => string;
    selectAll: () => Map<string, Map<string, Record<string, unknown>>>;
    stop: () => Promise<void>;
  }> {
    const dir = tmpdir();
    const file = path.join(dir, 'conf.db');
    const sock = path.join(dir, 'db.sock');
    assert.equal(tool('create', file, VSWITCH_SCHEMA).status, 0);
    const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
    const server = spawn(
      'ovsdb-server',
      [file, `--remote=punix:${sock}`, `--unixctl=${path.join(dir, 'ovsdb.ctl')}`, '--no-chdir'],
      { env, stdio: 'ignore' },
    );
    servers.push(server);
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const vsctl = (...args: string[]): string => {
      const r = spawnSync('ovs-vsctl', [`--db=unix:${sock}`, '--no-wait', ...args], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const schema = parseSchema(JSON.parse(fs.readFileSync(VSWITCH_SCHEMA, 'utf8')));
    const selectAll = () => {
      const tables = [...schema.tables.keys()];
      const ops = tables.map((table) => ({ op: 'select', table, where: [] }));
      const r = spawnSync('ovsdb-client', ['transact', `unix:${sock}`, JSON.stringify(['Open_vSwitch', ...ops])], {
        encoding: 'utf8',
        env,
      });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout) as { rows: Record<string, unknown>[] }[];
      return new Map(tables.map((t, i) => [t, new Map(res[i]!.rows.map((row) => {
        const { _uuid: u, _version: _v, ...rest } = row;
        return [(u as [string, string])[1], rest];
      }))]));
    };
    const stop = async () => {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    };
    return { file, vsctl, selectAll, stop };
  }

  test('ovs-vsctl changes through ovsdb-server replay to the same contents', async () => {
    const { file, vsctl, selectAll, stop } = await startServer();
    vsctl('init');
    vsctl('add-br', 'br0', '--', 'set', 'Bridge', 'br0', 'datapath_type=netdev');
    vsctl('add-port', 'br0', 'p1', '--', 'set', 'Port', 'p1', 'trunks=1,2,3');
    vsctl('add-port', 'br0', 'p2');
    vsctl('set', 'Bridge', 'br0', 'external_ids:k1=v1', 'external_ids:k2=v2', 'other_config:x=y');
    vsctl('set', 'Port', 'p1', 'trunks=2,3,4', 'tag=7');
    vsctl('remove', 'Bridge', 'br0', 'external_ids', 'k1');
    vsctl('set', 'Bridge', 'br0', 'external_ids:k2=changed');
    vsctl('del-port', 'br0', 'p2');
    vsctl('clear', 'Port', 'p1', 'tag');
    const live = selectAll();
    await stop();

    const { file: f, db } = DbFile.open(file, silent().log);
    for (const t of db.schema.tables.keys()) assert.deepEqual(ourSelect(db, t), live.get(t), t);
    assertSameAsTool(file, db);
    assert.equal(db.tables.get('Port')!.size, 2);
    // Our appends on top of the server's records are still readable by the tool.
    const ovs = [...db.tables.get('Open_vSwitch')!.values()][0]!;
    const ovs2 = modified(db.schema, 'Open_vSwitch', ovs, { external_ids: ['map', [['system-id', 'tsw']]] });
    f.append(commit(db, 'Open_vSwitch', [{ old: ovs, new: ovs2 }]), { durable: true });
    f.close();
    assertSameAsTool(file, db);
  });

  test('a diff with more members than its column allows (written by ovsdb-server 3.1) is read', async () => {
    const { file, vsctl, selectAll, stop } = await startServer();
    vsctl('init');
    vsctl('add-br', 'br0');
    const ft = vsctl('--', '--id=@ft', 'create', 'Flow_Table', 'prefixes=ip_src,ip_dst', '--', 'set', 'Bridge', 'br0', 'flow_tables:0=@ft');
    // Flow_Table.prefixes holds at most 3; the logged diff has 4 members, which
    // OVS's own reader (ovsdb-tool, a restarted ovsdb-server) rejects.
    vsctl('set', 'Flow_Table', ft, 'prefixes=ipv6_src,ipv6_dst');
    const live = selectAll();
    await stop();
    const { file: f, db } = DbFile.open(file, silent().log);
    for (const t of db.schema.tables.keys()) assert.deepEqual(ourSelect(db, t), live.get(t), t);
    // Compaction rewrites the file in a form the real tools read again.
    f.compact(db);
    f.close();
    assertSameAsTool(file, db);
  });
});
