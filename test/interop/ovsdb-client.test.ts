// The real ovsdb-client against Debian's ovsdb-server and tsw-dbserver:
// schema queries, dump, transact (successes and every error kind), monitor
// in its three flavours, and wait. Outputs must agree after normalization.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  canonicalOrder, cleanup, diffResults, diffText, makeTmpDir, maskUuids, normalizeTimestamps, normalizeUuids, run, runOk,
  sleep, startServer, toolEnv, tswDbserverMissing, type Json, type OrderMode, type RunResult, type Server,
  type ServerKind,
} from './harness.js';

const skipTsw = tswDbserverMissing();

/** Puts server-specific paths, UUIDs and times into a comparable form. */
function canonical(r: RunResult, server: Server, mode?: OrderMode | 'json'): RunResult {
  const fix = (s: string, isStdout: boolean): string => {
    let t = s.split(server.dir).join('<dir>');
    if (isStdout && mode === 'json') t = canonicalJson(t);
    else if (mode !== 'json') t = canonicalOrder(t, mode);
    return normalizeTimestamps(normalizeUuids(t));
  };
  return { stdout: fix(r.stdout, true), stderr: fix(r.stderr, false), code: r.code };
}

/** Sorts object keys and the `rows` of select results (server hash order). */
function canonicalJson(text: string): string {
  if (!text.trim()) return text;
  let v: unknown;
  try { v = JSON.parse(text); } catch { return text; }
  const walk = (x: unknown, key?: string): unknown => {
    if (Array.isArray(x)) {
      const items = x.map((e) => walk(e));
      if (key === 'rows') items.sort((a, b) => cmp(maskUuids(JSON.stringify(a)), maskUuids(JSON.stringify(b))));
      return items;
    }
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, walk(o[k], k)]));
    }
    return x;
  };
  return JSON.stringify(walk(v)) + '\n';
}

function cmp(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }

interface ClientStep { args: (server: Server) => string[]; order?: OrderMode | 'json'; label: string }

const T = (label: string, ...ops: Json[]): ClientStep => ({
  label: `transact ${label}`,
  args: (srv) => ['transact', srv.remote, JSON.stringify(['Open_vSwitch', ...ops])],
  order: 'json',
});
const C = (label: string, order: OrderMode | 'json' | undefined, ...rest: string[]): ClientStep => ({
  label,
  args: (srv) => [rest[0] ?? '', srv.remote, ...rest.slice(1)],
  order,
});

const ovsRow = ['_uuid', '!=', ['uuid', '00000000-0000-0000-0000-000000000000']];
const byName = (name: string): Json[] => [['name', '==', name]];

// Setup through ovs-vsctl before the client steps run.
const VSCTL_SETUP = [
  ['init'],
  ['add-br', 'br0'],
  ['add-port', 'br0', 'p1', 'tag=5'],
  ['add-bond', 'br0', 'bond0', 'e1', 'e2'],
  ['add-br', 'br1', '--', 'set', 'Bridge', 'br1', 'fail_mode=secure', 'external_ids:owner=test'],
  ['set-controller', 'br1', 'tcp:127.0.0.1:6653'],
  ['set-manager', 'ptcp:6640'],
];

const CLIENT_STEPS: ClientStep[] = [
  C('list-dbs', undefined, 'list-dbs'),
  C('get-schema', 'json', 'get-schema', 'Open_vSwitch'),
  C('get-schema _Server', 'json', 'get-schema', '_Server'),
  C('get-schema-version', undefined, 'get-schema-version', 'Open_vSwitch'),
  C('get-schema-cksum', undefined, 'get-schema-cksum', 'Open_vSwitch'),
  C('get-schema unknown db', undefined, 'get-schema', 'Nope'),
  // ovsdb-client lists tables and columns in its own hash order, which also
  // depends on the order of the members in the server's schema JSON; sorted.
  C('list-tables', 'rows', 'list-tables', 'Open_vSwitch'),
  C('list-columns Bridge', 'rows', 'list-columns', 'Open_vSwitch', 'Bridge'),
  C('list-columns all', 'rows', 'list-columns', 'Open_vSwitch'),
  C('dump', 'dump', 'dump', 'Open_vSwitch'),
  C('dump some columns', 'dump', 'dump', 'Open_vSwitch', 'Port', 'name', 'tag', 'interfaces'),
  C('dump json', 'json', 'dump', '--format=json', 'Open_vSwitch', 'Bridge', 'name', 'fail_mode'),
  C('dump _Server', 'dump', 'dump', '_Server', 'Database', 'name', 'model', 'connected', 'leader', 'cid', 'sid', 'index'),
  // transact: successes.
  T('empty'),
  T('select one', { op: 'select', table: 'Bridge', where: byName('br1'), columns: ['name', 'fail_mode', 'external_ids', 'controller'] }),
  T('select all rows', { op: 'select', table: 'Interface', where: [], columns: ['name', 'type'] }),
  T('select _uuid _version', { op: 'select', table: 'Bridge', where: byName('br0'), columns: ['_uuid', '_version', 'name'] }),
  T('select includes', { op: 'select', table: 'Port', where: [['tag', 'includes', 5]], columns: ['name'] }),
  T('select excludes and < on optional int', { op: 'select', table: 'Port', where: [['tag', 'excludes', 7], ['tag', '<', 10]], columns: ['name', 'tag'] }),
  T('< on a string', { op: 'select', table: 'Port', where: [['name', '<', 'c']], columns: ['name'] }),
  T('insert + mutate ref',
    { op: 'insert', table: 'Interface', row: { name: 'tx1', type: 'internal' }, 'uuid-name': 'i' },
    { op: 'insert', table: 'Port', row: { name: 'tx1', interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
    { op: 'mutate', table: 'Bridge', where: byName('br0'), mutations: [['ports', 'insert', ['set', [['named-uuid', 'p']]]]] },
    { op: 'select', table: 'Port', where: byName('tx1'), columns: ['name', 'interfaces'] }),
  T('update + comment + durable commit',
    { op: 'update', table: 'Bridge', where: byName('br0'), row: { fail_mode: 'standalone', other_config: ['map', [['a', '1'], ['b', '2']]] } },
    { op: 'comment', comment: 'interop test' },
    { op: 'commit', durable: true },
    { op: 'select', table: 'Bridge', where: byName('br0'), columns: ['fail_mode', 'other_config'] }),
  T('mutate map/set/int',
    { op: 'mutate', table: 'Open_vSwitch', where: [ovsRow], mutations: [['external_ids', 'insert', ['map', [['k', 'v'], ['k2', 'v2']]]], ['next_cfg', '+=', 5]] },
    { op: 'mutate', table: 'Open_vSwitch', where: [ovsRow], mutations: [['external_ids', 'delete', ['set', ['k2']]], ['next_cfg', '*=', 3]] },
    { op: 'mutate', table: 'Bridge', where: byName('br0'), mutations: [['flood_vlans', 'insert', ['set', [1, 2, 3]]], ['flood_vlans', 'delete', 2]] },
    { op: 'select', table: 'Open_vSwitch', where: [], columns: ['external_ids', 'next_cfg'] },
    { op: 'select', table: 'Bridge', where: byName('br0'), columns: ['flood_vlans'] }),
  T('wait satisfied', { op: 'wait', table: 'Bridge', where: byName('br1'), columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'secure' }], timeout: 0 }),
  T('garbage collected insert',
    { op: 'insert', table: 'Bridge', row: { name: 'orphan' } },
    { op: 'select', table: 'Bridge', where: byName('orphan'), columns: ['name'] }),
  T('select after gc', { op: 'select', table: 'Bridge', where: byName('orphan'), columns: ['name'] }),
  T('weak ref to a missing row',
    { op: 'insert', table: 'Mirror', row: { name: 'm', select_src_port: ['set', [['uuid', '00000000-0000-0000-0000-000000000001']]] }, 'uuid-name': 'm' },
    { op: 'mutate', table: 'Bridge', where: byName('br1'), mutations: [['mirrors', 'insert', ['named-uuid', 'm']]] },
    { op: 'select', table: 'Mirror', where: [], columns: ['name', 'select_src_port'] }),
  T('weak ref dropped at commit', { op: 'select', table: 'Mirror', where: [], columns: ['name', 'select_src_port'] }),
  T('delete port referenced by bridge', { op: 'delete', table: 'Port', where: byName('tx1') }),
  T('mutate deleting nothing',
    { op: 'mutate', table: 'Bridge', where: byName('br0'), mutations: [['ports', 'delete', ['set', []]]] },
    { op: 'select', table: 'Port', where: byName('tx1'), columns: ['name'] }),
  // transact: errors.
  T('unknown table', { op: 'select', table: 'Nope', where: [] }),
  T('unknown column', { op: 'select', table: 'Bridge', where: [['nope', '==', 1]] }),
  T('unknown column in row', { op: 'insert', table: 'Bridge', row: { nope: 1 } }),
  T('bad op', { op: 'frob', table: 'Bridge' }),
  T('type mismatch', { op: 'update', table: 'Bridge', where: byName('br0'), row: { stp_enable: 'yes' } }),
  T('enum violation', { op: 'update', table: 'Bridge', where: byName('br0'), row: { fail_mode: 'bogus' } }),
  T('range violation', { op: 'update', table: 'Interface', where: byName('p1'), row: { ofport_request: 70000 } }),
  T('set size violation', { op: 'update', table: 'Port', where: byName('p1'), row: { interfaces: ['set', []] } }),
  T('immutable column', { op: 'update', table: 'Bridge', where: byName('br0'), row: { name: 'brX' } }),
  T('maxRows', { op: 'insert', table: 'Open_vSwitch', row: {} }),
  T('index uniqueness',
    { op: 'insert', table: 'Bridge', row: { name: 'br0' }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] }),
  T('referential integrity (dangling)',
    { op: 'insert', table: 'Port', row: { name: 'dangling', interfaces: ['uuid', '00000000-0000-0000-0000-0000000000aa'] }, 'uuid-name': 'p' },
    { op: 'mutate', table: 'Bridge', where: byName('br0'), mutations: [['ports', 'insert', ['set', [['named-uuid', 'p']]]]] }),
  T('referential integrity (delete referenced root)',
    { op: 'insert', table: 'QoS', row: { type: 'x' }, 'uuid-name': 'q' },
    { op: 'update', table: 'Port', where: byName('p1'), row: { qos: ['named-uuid', 'q'] } }),
  T('delete referenced qos', { op: 'delete', table: 'QoS', where: [] }),
  T('unknown named-uuid', { op: 'update', table: 'Port', where: byName('p1'), row: { qos: ['named-uuid', 'nope'] } }),
  T('duplicate uuid-name',
    { op: 'insert', table: 'QoS', row: { type: 'a' }, 'uuid-name': 'd' },
    { op: 'insert', table: 'QoS', row: { type: 'b' }, 'uuid-name': 'd' }),
  T('bad mutator', { op: 'mutate', table: 'Bridge', where: byName('br0'), mutations: [['flood_vlans', 'frob', 1]] }),
  T('mutate immutable', { op: 'mutate', table: 'Bridge', where: byName('br0'), mutations: [['name', 'insert', 'x']] }),
  T('mutate range', { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '/=', 0]] }),
  T('wait fails', { op: 'wait', table: 'Bridge', where: byName('br1'), columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'standalone' }], timeout: 0 }),
  T('wait != fails', { op: 'wait', table: 'Bridge', where: byName('br1'), columns: ['name'], until: '!=', rows: [{ name: 'br1' }], timeout: 0 }),
  T('abort after change',
    { op: 'update', table: 'Bridge', where: byName('br0'), row: { fail_mode: 'secure' } },
    { op: 'abort' }),
  T('abort left no change', { op: 'select', table: 'Bridge', where: byName('br0'), columns: ['fail_mode'] }),
  T('assert without lock', { op: 'assert', lock: 'nolock' }),
  T('bad condition function', { op: 'select', table: 'Bridge', where: [['name', '~=', 'br0']] }),
  T('bad where', { op: 'select', table: 'Bridge', where: 'all' }),
  {
    label: 'transact unknown db',
    args: (srv) => ['transact', srv.remote, JSON.stringify(['Nope', { op: 'select', table: 'Bridge', where: [] }])],
  },
  {
    label: 'query (read-only transact)',
    args: (srv) => ['query', srv.remote, JSON.stringify(['Open_vSwitch', { op: 'select', table: 'Bridge', where: [], columns: ['name'] }])],
    order: 'json',
  },
  C('dump after transacts', 'dump', 'dump', 'Open_vSwitch', 'Bridge', 'name', 'fail_mode', 'flood_vlans', 'other_config', 'ports'),
  C('wait connected', undefined, 'wait', 'Open_vSwitch', 'connected'),
];

async function vsctl(server: Server, args: string[]): Promise<void> {
  await runOk('ovs-vsctl', ['--no-wait', `--db=${server.remote}`, ...args], { env: toolEnv(server.dir) });
}

let reference: Promise<RunResult[]> | null = null;
function referenceSteps(): Promise<RunResult[]> {
  reference ??= runClientSteps('ovs');
  return reference;
}

async function runClientSteps(kind: ServerKind): Promise<RunResult[]> {
  const srv = await startServer(kind, makeTmpDir(`client-${kind}`));
  try {
    for (const a of VSCTL_SETUP) await vsctl(srv, a);
    const out: RunResult[] = [];
    for (const step of CLIENT_STEPS) {
      const r = await run('ovsdb-client', step.args(srv), { env: toolEnv(srv.dir) });
      out.push(canonical(r, srv, step.order));
    }
    return out;
  } finally {
    await srv.stop();
  }
}

// ------------------------------------------------------------------ monitors

/** A running `ovsdb-client monitor*` whose stdout we watch grow. */
class MonitorProc {
  out = '';
  err = '';
  private readonly child;
  private readonly done: Promise<void>;
  constructor(readonly args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn('ovsdb-client', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (b: Buffer) => { this.out += b.toString(); });
    this.child.stderr.on('data', (b: Buffer) => { this.err += b.toString(); });
    this.done = new Promise((r) => this.child.on('close', () => r()));
  }
  get lines(): number { return this.out.split('\n').length - 1; }
  /** Waits until at least `n` lines arrived (or the time is up), then a short settle. */
  async waitLines(n: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (this.lines < n && Date.now() < end) await sleep(10);
  }
  async stop(): Promise<string> {
    if (this.child.pid && this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.done;
    return this.err ? `${this.out}[stderr]\n${this.err}` : this.out;
  }
}

// [command, ...arguments after the server]
const MONITORS: string[][] = [
  ['monitor', 'Open_vSwitch', 'Bridge', 'name,fail_mode,external_ids', '--format=json'],
  ['monitor', 'Open_vSwitch', 'Port', 'name,tag,interfaces', '--format=json'],
  ['monitor-cond', 'Open_vSwitch', '[["name","==","br0"]]', 'Bridge', 'name,fail_mode', '--format=json'],
  ['monitor-cond-since', 'Open_vSwitch', '[["name","==","br0"]]', 'Bridge', 'name,fail_mode,external_ids', '--format=json'],
  ['monitor', 'Open_vSwitch', 'Open_vSwitch', 'bridges,next_cfg'],
];

const MONITOR_CHANGES = [
  ['set-fail-mode', 'br0', 'secure'],
  ['add-br', 'br1'],
  ['br-set-external-id', 'br0', 'k', 'v'],
  ['add-port', 'br1', 'p1', 'tag=7'],
  ['del-port', 'br1', 'p1'],
  ['del-br', 'br1'],
  ['set', 'Open_vSwitch', '.', 'next_cfg=4'],
];

/**
 * Runs the monitors through the changes. `expect[m][c]` is the line count
 * monitor m reached after change c on the reference server; without it (the
 * reference run itself) each step just settles for a while.
 */
async function runMonitors(kind: ServerKind, expect: number[][] | null): Promise<{ outs: string[]; counts: number[][] }> {
  const srv = await startServer(kind, makeTmpDir(`mon-${kind}`));
  const env = toolEnv(srv.dir);
  await vsctl(srv, ['init']);
  await vsctl(srv, ['add-br', 'br0']);
  const mons = MONITORS.map(([cmd, ...rest]) => new MonitorProc([cmd ?? '', srv.remote, ...rest], env));
  const counts: number[][] = mons.map(() => []);
  const settle = async (c: number): Promise<void> => {
    if (expect) await Promise.all(mons.map((m, i) => m.waitLines(expect[i]?.[c] ?? 0, 3000)));
    await sleep(expect ? 50 : 400);
    mons.forEach((m, i) => counts[i]?.push(m.lines));
  };
  try {
    await settle(0);
    for (const [c, change] of MONITOR_CHANGES.entries()) {
      await vsctl(srv, change);
      await settle(c + 1);
    }
    const outs = await Promise.all(mons.map((m) => m.stop()));
    return { outs: outs.map((o) => normalizeTimestamps(normalizeUuids(o.split(srv.dir).join('<dir>')))), counts };
  } finally {
    await Promise.all(mons.map((m) => m.stop()));
    await srv.stop();
  }
}

describe('ovsdb-client interop', () => {
  after(cleanup);

  test('schema, dump, transact and wait give identical output', { skip: skipTsw ?? false }, async () => {
    const ovs = await referenceSteps();
    const tsw = await runClientSteps('tsw');
    const problems: string[] = [];
    CLIENT_STEPS.forEach((st, i) => {
      const a = ovs[i];
      const b = tsw[i];
      if (a && b) problems.push(...diffResults(`#${i} ${st.label}`, a, b, ['ovsdb-server', 'tsw-dbserver']));
    });
    assert.equal(problems.length, 0, `${problems.length} mismatches:\n${problems.join('\n')}`);
  });

  test('the reference transact steps exercise errors', async () => {
    const ovs = await referenceSteps();
    if (process.env.TSW_INTEROP_SHOW) ovs.forEach((r, i) => console.log(`### ${CLIENT_STEPS[i]?.label} -> ${r.code}\n${r.stdout}${r.stderr}`));
    const errors = ovs.filter((r) => r.stdout.includes('"error"')).length;
    assert.ok(errors >= 20, `only ${errors} transact steps returned an error`);
  });

  test('monitor, monitor-cond and monitor-cond-since see the same updates', { skip: skipTsw ?? false }, async () => {
    const ref = await runMonitors('ovs', null);
    const got = await runMonitors('tsw', ref.counts);
    const problems: string[] = [];
    MONITORS.forEach((m, i) => {
      const a = ref.outs[i] ?? '';
      const b = got.outs[i] ?? '';
      if (process.env.TSW_INTEROP_SHOW) console.log(`### ${m.join(' ')}\n${a}`);
      if (a !== b) problems.push(`${m.join(' ')}\n${diffText(a, b, ['ovsdb-server', 'tsw-dbserver'])}`);
    });
    assert.equal(problems.length, 0, `${problems.length} monitors differ:\n${problems.join('\n')}`);
  });
});
