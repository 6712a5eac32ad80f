// OVSDB server benchmark: tsw-dbserver against Debian's ovsdb-server, same
// clients, same machine, one run. See bench/README.md.
//
//   node --import tsx bench/ovsdb.ts [--txns=N] [--clients=K] [--ports=P] [--spawns=S] [--repeat=R] [--warmup=W] [--only=ovs|tsw] [--json]
//   npm run bench:ovsdb

import { performance } from 'node:perf_hooks';
import {
  cleanup, makeTmpDir, RawClient, run, startServer, toolEnv, tswDbserverMissing, type Json, type Server,
  type ServerKind,
} from '../test/interop/harness.js';

interface Options { txns: number; clients: number; ports: number; spawns: number; repeat: number; warmup: number; only: ServerKind | null; json: boolean }

function parseOptions(argv: string[]): Options {
  const o: Options = { txns: 5000, clients: 8, ports: 1000, spawns: 100, repeat: 3, warmup: 20000, only: null, json: false };
  for (const a of argv) {
    const m = /^--(\w+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a}`);
    const [, k, v] = m;
    if (k === 'json') o.json = true;
    else if (k === 'only' && (v === 'ovs' || v === 'tsw')) o.only = v;
    else if ((k === 'txns' || k === 'clients' || k === 'ports' || k === 'spawns' || k === 'repeat' || k === 'warmup') && v && /^\d+$/.test(v)) o[k] = Number(v);
    else throw new Error(`bad option ${a}`);
  }
  return o;
}

/** One measured quantity; `unit` says which direction is better. */
interface Metric { key: string; label: string; unit: 'txn/s' | 'ms'; values: Partial<Record<ServerKind, number>> }

async function fresh(kind: ServerKind): Promise<Server> {
  const srv = await startServer(kind, makeTmpDir(`bench-${kind}`));
  const c = await RawClient.connect(srv.sock);
  await c.transact('Open_vSwitch', { op: 'insert', table: 'Open_vSwitch', row: {} });
  c.close();
  return srv;
}

function check(reply: Json[], what: string): void {
  for (const r of reply) {
    if (r && typeof r === 'object' && !Array.isArray(r) && 'error' in r) throw new Error(`${what}: ${JSON.stringify(r)}`);
  }
}

/** A small transaction, like a controller bumping a counter: one mutate. */
function smallTxn(i: number): Json[] {
  return [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1], ['external_ids', 'insert', ['map', [[`k${i % 64}`, String(i)]]]]] }];
}

async function sequentialTps(srv: Server, n: number): Promise<number> {
  const c = await RawClient.connect(srv.sock);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) check(await c.transact('Open_vSwitch', ...smallTxn(i)), 'transact');
  const dt = performance.now() - t0;
  c.close();
  return n / (dt / 1000);
}

async function concurrentTps(srv: Server, n: number, k: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: k }, () => RawClient.connect(srv.sock)));
  const each = Math.ceil(n / k);
  const t0 = performance.now();
  await Promise.all(clients.map(async (c, j) => {
    for (let i = 0; i < each; i++) check(await c.transact('Open_vSwitch', ...smallTxn(j * each + i)), 'transact');
  }));
  const dt = performance.now() - t0;
  clients.forEach((c) => c.close());
  return (each * k) / (dt / 1000);
}

type Uuid = ['uuid', string];

/**
 * `add-port br0 pN` the way ovs-vsctl's IDL does it, from one long-lived
 * client that keeps a monitor open: verify (wait) the columns it read, insert
 * Interface and Port, rewrite Bridge.ports with the whole new set, comment.
 */
async function idlAddPorts(srv: Server, ports: number): Promise<number> {
  const c = await RawClient.connect(srv.sock);
  const setup = await c.transact('Open_vSwitch',
    { op: 'insert', table: 'Interface', row: { name: 'br0', type: 'internal' }, 'uuid-name': 'i' },
    { op: 'insert', table: 'Port', row: { name: 'br0', interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
    { op: 'insert', table: 'Bridge', row: { name: 'br0', ports: ['named-uuid', 'p'] }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
    { op: 'select', table: 'Open_vSwitch', where: [], columns: ['_uuid', 'bridges'] });
  check(setup, 'setup');
  const bridge = (setup[2] as { uuid: Uuid }).uuid;
  const root = (setup[4] as { rows: { _uuid: Uuid; bridges: Json }[] }).rows[0];
  if (!root) throw new Error('no Open_vSwitch row');
  const ports0: Uuid[] = [(setup[1] as { uuid: Uuid }).uuid];
  // Like the IDL, keep a replica of what add-port reads.
  await c.request('monitor_cond', ['Open_vSwitch', 'bench', {
    Open_vSwitch: [{ columns: ['bridges', 'cur_cfg'] }],
    Bridge: [{ columns: ['name', 'ports', 'controller', 'fail_mode', 'datapath_type'] }],
    Port: [{ columns: ['name', 'interfaces', 'tag', 'fake_bridge'] }],
    Interface: [{ columns: ['name', 'ofport', 'error'] }],
  }]);
  const portSet = ports0.slice();
  const t0 = performance.now();
  for (let i = 0; i < ports; i++) {
    const name = `p${i}`;
    const reply = await c.transact('Open_vSwitch',
      { op: 'wait', table: 'Open_vSwitch', where: [['_uuid', '==', root._uuid]], columns: ['bridges'], until: '==', rows: [{ bridges: root.bridges }], timeout: 0 },
      { op: 'wait', table: 'Bridge', where: [['_uuid', '==', bridge]], columns: ['ports'], until: '==', rows: [{ ports: ['set', portSet] }], timeout: 0 },
      { op: 'insert', table: 'Interface', row: { name }, 'uuid-name': 'ni' },
      { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', 'ni'] }, 'uuid-name': 'np' },
      { op: 'update', table: 'Bridge', where: [['_uuid', '==', bridge]], row: { ports: ['set', [...portSet, ['named-uuid', 'np']]] } },
      { op: 'comment', comment: `bench: add-port br0 ${name}` });
    check(reply, `add-port ${name}`);
    portSet.push((reply[3] as { uuid: Uuid }).uuid);
  }
  const dt = performance.now() - t0;
  c.close();
  return dt;
}

async function vsctlChainedAddPorts(srv: Server, ports: number): Promise<number> {
  const env = toolEnv(srv.dir);
  const db = `--db=${srv.remote}`;
  await run('ovs-vsctl', ['--no-wait', db, 'add-br', 'br0'], { env });
  const args = ['--no-wait', db];
  for (let i = 0; i < ports; i++) args.push(...(i ? ['--'] : []), 'add-port', 'br0', `p${i}`);
  const t0 = performance.now();
  const r = await run('ovs-vsctl', args, { env, timeoutMs: 300_000 });
  const dt = performance.now() - t0;
  if (r.code !== 0) throw new Error(`ovs-vsctl chained add-port: ${r.stderr}`);
  return dt;
}

async function vsctlSpawnedAddPorts(srv: Server, ports: number): Promise<number> {
  const env = toolEnv(srv.dir);
  const db = `--db=${srv.remote}`;
  await run('ovs-vsctl', ['--no-wait', db, 'add-br', 'br0'], { env });
  const t0 = performance.now();
  for (let i = 0; i < ports; i++) {
    const r = await run('ovs-vsctl', ['--no-wait', db, 'add-port', 'br0', `p${i}`], { env });
    if (r.code !== 0) throw new Error(`ovs-vsctl add-port p${i}: ${r.stderr}`);
  }
  return performance.now() - t0;
}

async function measure(kind: ServerKind, o: Options, metrics: Metric[]): Promise<void> {
  // Every scenario but the cold one first runs `warmup` unmeasured small
  // transactions on its fresh server, the same for both servers: a switch's
  // database server is a long-running process, and tsw's JIT needs a few
  // thousand transactions to reach steady state (ovsdb-server needs none).
  const warm = (fn: (s: Server) => Promise<number>) => async (s: Server) => {
    if (o.warmup > 0) await sequentialTps(s, o.warmup);
    return fn(s);
  };
  const scenarios: [string, (s: Server) => Promise<number>][] = [
    ['cold', (s) => sequentialTps(s, o.txns)],
    ['seq', warm((s) => sequentialTps(s, o.txns))],
    ['conc', warm((s) => concurrentTps(s, o.txns, o.clients))],
    ['idl', warm((s) => idlAddPorts(s, o.ports))],
    ['chain', warm((s) => vsctlChainedAddPorts(s, o.ports))],
    ['spawn', warm((s) => vsctlSpawnedAddPorts(s, o.spawns))],
  ];
  for (const [key, fn] of scenarios) {
    const m = metrics.find((x) => x.key === key);
    if (!m) continue;
    const samples: number[] = [];
    for (let r = 0; r < o.repeat; r++) {
      const srv = await fresh(kind);
      try {
        samples.push(await fn(srv));
      } finally {
        await srv.stop();
      }
    }
    m.values[kind] = median(samples);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
}

function fmt(v: number | undefined, unit: Metric['unit']): string {
  if (v === undefined) return '-';
  return unit === 'ms' ? `${v.toFixed(0)} ms` : `${v.toFixed(0)}`;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const metrics: Metric[] = [
    { key: 'cold', label: `sequential transact, cold start (txn/s)`, unit: 'txn/s', values: {} },
    { key: 'seq', label: `sequential transact, 1 client (txn/s)`, unit: 'txn/s', values: {} },
    { key: 'conc', label: `transact, ${o.clients} concurrent clients (txn/s)`, unit: 'txn/s', values: {} },
    { key: 'idl', label: `${o.ports} add-port, IDL-shaped raw client`, unit: 'ms', values: {} },
    { key: 'chain', label: `${o.ports} add-port, one ovs-vsctl with --`, unit: 'ms', values: {} },
    { key: 'spawn', label: `${o.spawns} add-port, one ovs-vsctl each`, unit: 'ms', values: {} },
  ];
  const kinds: ServerKind[] = [];
  if (o.only !== 'tsw') kinds.push('ovs');
  const missing = tswDbserverMissing();
  if (o.only !== 'ovs') {
    if (missing) console.error(`skipping tsw-dbserver: ${missing}`);
    else kinds.push('tsw');
  }
  try {
    for (const k of kinds) await measure(k, o, metrics);
  } finally {
    await cleanup();
  }
  if (o.json) {
    console.log(JSON.stringify({ options: o, metrics }, null, 2));
    return;
  }
  const rows = metrics.map((m) => {
    const ovs = m.values.ovs;
    const tsw = m.values.tsw;
    const ratio = ovs && tsw ? tsw / ovs : undefined;
    // >1 means tsw is faster, whichever way the unit points.
    const speed = ratio === undefined ? undefined : m.unit === 'ms' ? 1 / ratio : ratio;
    return [m.label, fmt(ovs, m.unit), fmt(tsw, m.unit), ratio === undefined ? '-' : ratio.toFixed(2),
      speed === undefined ? '-' : `${speed.toFixed(2)}x ${speed >= 1 ? 'faster' : 'slower'}`];
  });
  const head = ['measurement', 'ovsdb-server', 'tsw-dbserver', 'tsw/ovs', 'tsw speed'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`OVSDB benchmark, median of ${o.repeat} run(s), fresh database per run`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exitCode = 1;
});
