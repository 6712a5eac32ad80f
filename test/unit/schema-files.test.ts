// The schema files in schemas/ must describe exactly the databases that real Open vSwitch 3.1
// serves, or ovs-vsctl, ovsdb-client and the Python IDL will disagree with us about columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const SCHEMAS = join(import.meta.dirname, '..', '..', 'schemas');
const VSWITCH = join(SCHEMAS, 'vswitch.ovsschema');
const SERVER = join(SCHEMAS, '_server.ovsschema');
const DEBIAN_VSWITCH = '/usr/share/openvswitch/vswitch.ovsschema';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function readJson(path: string): JsonObject {
  const v = JSON.parse(readFileSync(path, 'utf8')) as Json;
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${path}: top level is not an object`);
  return v;
}

function asObject(v: Json | undefined, what: string): JsonObject {
  assert.ok(v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v), `${what}: expected an object`);
  return v;
}

function sortedKeys(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k] as Json]));
}

// Spell a base type out in full: {"type": T, ...constraints}, with enum sets sorted.
function normBase(b: Json | undefined, what: string): JsonObject {
  if (typeof b === 'string') return { type: b };
  const o = { ...asObject(b, what) };
  const e = o.enum;
  if (Array.isArray(e) && e[0] === 'set' && Array.isArray(e[1])) {
    o.enum = ['set', [...e[1]].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))];
  } else if (e !== undefined) {
    o.enum = ['set', [e]];   // a single atom is a one-element set
  }
  return sortedKeys(o);
}

// Spell a column type out in full: key, optional value, min (default 1), max (default 1).
function normType(t: Json | undefined, what: string): JsonObject {
  if (typeof t === 'string') return { key: { type: t }, max: 1, min: 1 };
  const o = asObject(t, what);
  const out: JsonObject = { key: normBase(o.key, `${what}.key`), max: o.max ?? 1, min: o.min ?? 1 };
  if (o.value !== undefined) out.value = normBase(o.value, `${what}.value`);
  return sortedKeys(out);
}

// The schema's meaning, with every default made explicit; cksum is compared separately.
function normalize(schema: JsonObject): JsonObject {
  const tables: JsonObject = {};
  const rawTables = asObject(schema.tables, 'tables');
  for (const [tn, tj] of Object.entries(rawTables)) {
    const t = asObject(tj, tn);
    const columns: JsonObject = {};
    for (const [cn, cj] of Object.entries(asObject(t.columns, `${tn}.columns`))) {
      const c = asObject(cj, `${tn}.${cn}`);
      columns[cn] = {
        ephemeral: c.ephemeral ?? false,
        mutable: c.mutable ?? true,
        type: normType(c.type, `${tn}.${cn}.type`),
      };
    }
    tables[tn] = {
      columns: sortedKeys(columns),
      indexes: t.indexes ?? [],
      isRoot: t.isRoot ?? false,
      maxRows: t.maxRows ?? 'unlimited',
    };
  }
  return { name: schema.name ?? null, tables: sortedKeys(tables), version: schema.version ?? null };
}

function ovsdbTool(...args: string[]): { status: number | null; stdout: string; stderr: string } | null {
  const r = spawnSync('ovsdb-tool', args, { encoding: 'utf8' });
  if (r.error) return null;   // not installed
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const haveOvsdbTool = ovsdbTool('--version') !== null;

test('vswitch schema: Open_vSwitch 8.3.1 with 19 tables, 184 columns, 31 ephemeral', () => {
  const s = readJson(VSWITCH);
  assert.equal(s.name, 'Open_vSwitch');
  assert.equal(s.version, '8.3.1');
  assert.equal(s.cksum, '3012963480 26720');
  const n = normalize(s);
  const tables = Object.values(asObject(n.tables, 'tables')).map((t) => asObject(t, 'table'));
  assert.equal(tables.length, 19);
  const cols = tables.flatMap((t) => Object.values(asObject(t.columns, 'columns')).map((c) => asObject(c, 'col')));
  assert.equal(cols.length, 184);
  assert.equal(cols.filter((c) => c.ephemeral === true).length, 31);
  const roots = Object.entries(asObject(n.tables, 'tables')).filter(([, t]) => asObject(t, 't').isRoot === true).map(([k]) => k);
  assert.deepEqual(roots.sort(), ['Flow_Sample_Collector_Set', 'Open_vSwitch', 'QoS', 'Queue']);
});

test('vswitch schema matches the Debian openvswitch 3.1 schema column for column', (t) => {
  if (!existsSync(DEBIAN_VSWITCH)) {
    t.skip(`${DEBIAN_VSWITCH} is absent (install openvswitch-common to compare)`);
    return;
  }
  const ours = readJson(VSWITCH);
  const theirs = readJson(DEBIAN_VSWITCH);
  assert.deepEqual(normalize(ours), normalize(theirs));
  // The cksum is part of the schema identity: ovsdb_schema_equal() compares it, so
  // `needs-conversion` would ask for a conversion if it differed.
  assert.equal(ours.cksum, theirs.cksum);
});

test('_Server schema: version 1.2.0, one Database table', () => {
  const s = readJson(SERVER);
  assert.equal(s.name, '_Server');
  assert.equal(s.version, '1.2.0');
  assert.equal(s.cksum, '3009684573 744');
  const opt = (type: string): JsonObject => ({ ephemeral: false, mutable: true, type: { key: { type }, max: 1, min: 0 } });
  const one = (type: string): JsonObject => ({ ephemeral: false, mutable: true, type: { key: { type }, max: 1, min: 1 } });
  assert.deepEqual(normalize(s), {
    name: '_Server',
    version: '1.2.0',
    tables: {
      Database: {
        columns: {
          cid: opt('uuid'),
          connected: one('boolean'),
          index: opt('integer'),
          leader: one('boolean'),
          model: {
            ephemeral: false, mutable: true,
            type: { key: { enum: ['set', ['clustered', 'relay', 'standalone']], type: 'string' }, max: 1, min: 1 },
          },
          name: one('string'),
          schema: opt('string'),
          sid: opt('uuid'),
        },
        indexes: [],
        isRoot: true,
        maxRows: 'unlimited',
      },
    },
  });
});

test('ovsdb-tool accepts both schema files', (t) => {
  if (!haveOvsdbTool) {
    t.skip('ovsdb-tool is not installed (install openvswitch-common)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsw-'));
  try {
    for (const [file, name] of [[VSWITCH, 'vswitch'], [SERVER, '_server']] as const) {
      const cksum = ovsdbTool('schema-cksum', file);
      assert.equal(cksum?.status, 0, cksum?.stderr);
      assert.equal(cksum?.stdout.trim(), readJson(file).cksum);
      const db = join(dir, `${name}.db`);
      const created = ovsdbTool('create', db, file);
      assert.equal(created?.status, 0, created?.stderr);
      assert.equal(ovsdbTool('db-name', db)?.stdout.trim(), readJson(file).name);
    }
    if (existsSync(DEBIAN_VSWITCH)) {
      // ovsdb_schema_equal() in both directions: the strictest equality OVS itself applies.
      const debDb = join(dir, 'debian.db');
      assert.equal(ovsdbTool('create', debDb, DEBIAN_VSWITCH)?.status, 0);
      assert.equal(ovsdbTool('needs-conversion', debDb, VSWITCH)?.stdout.trim(), 'no');
      assert.equal(ovsdbTool('needs-conversion', join(dir, 'vswitch.db'), DEBIAN_VSWITCH)?.stdout.trim(), 'no');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
