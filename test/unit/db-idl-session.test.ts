// The IDL's session against an older or stripped-down server, and what it
// puts on the wire. A recording proxy sits between the IDL and a real OVSDB
// server; it can refuse methods (no _Server, no monitor_cond_since, no
// monitor_cond) the way the reference captures show older servers doing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { join } from 'node:path';
import { JsonRpcConnection, JsonRpcError, connectStream, listenStream, type StreamListener } from '../../src/lib/jsonrpc.js';
import { Idl, type TxnResult } from '../../src/db/idl.js';
import type { Datum } from '../../src/db/datum.js';

const SCHEMA = existsSync('schemas/vswitch.ovsschema') ? 'schemas/vswitch.ovsschema' : '/usr/share/openvswitch/vswitch.ovsschema';
const HAVE_OVS = spawnSync('which', ['ovsdb-server', 'ovsdb-tool', 'ovsdb-client']).status === 0;
const skip = HAVE_OVS ? false : 'Open vSwitch tools (ovsdb-server, ovsdb-tool, ovsdb-client) are not installed';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Starts a database server from a command line and waits until SOCK accepts connections. */
async function startDbServer(argv: string[], sock: string, env: NodeJS.ProcessEnv): Promise<{ stop(): Promise<void> }> {
  rmSync(sock, { force: true });
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  let gone = false;
  const exited = new Promise<void>((res) => child.on('exit', () => {
    gone = true;
    res();
  }));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(sock))) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${argv.join(' ')} did not start: ${stderr}`);
    }
    await sleep(20);
  }
  return {
    stop: async () => {
      if (gone) return;
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

interface Seen { method: string; params: unknown[] }

/** A JSON-RPC proxy that records client requests and answers the refused ones with an error. */
class Proxy {
  readonly seen: Seen[] = [];
  refuse: (m: Seen) => unknown = () => undefined;
  private listener: StreamListener | null = null;
  private readonly conns = new Set<JsonRpcConnection>();

  constructor(readonly path: string, private readonly upstream: string) {}

  async start(): Promise<void> {
    this.listener = await listenStream(`punix:${this.path}`, (socket) => void this.accept(socket));
  }

  private async accept(socket: net.Socket): Promise<void> {
    // The client's socket stays paused (no 'data' listener) until upstream is ready.
    const up = new JsonRpcConnection(await connectStream(this.upstream), { name: 'proxy-up', answerEcho: false });
    const down = new JsonRpcConnection(socket, { name: 'proxy-down', answerEcho: false });
    this.conns.add(down);
    up.on('notify', (m) => down.notify(m.method, m.params));
    down.on('notify', (m) => up.notify(m.method, m.params));
    down.on('close', () => up.close());
    up.on('close', () => down.close());
    down.on('request', (m) => {
      this.seen.push({ method: m.method, params: m.params });
      const err = this.refuse(m);
      if (err !== undefined) {
        down.replyError(m.id, err);
        return;
      }
      up.request(m.method, m.params).then(
        (r) => down.reply(m.id, r),
        (e: unknown) => down.replyError(m.id, e instanceof JsonRpcError ? e.remoteError : String(e)),
      );
    });
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    await this.listener?.close();
  }
}

let dir = '';
let sock = '';
let server: { stop(): Promise<void> };
let proxy: Proxy;
const idls: Idl[] = [];

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(os.tmpdir(), 'tsw-idl-session-'));
  const db = join(dir, 'conf.db');
  sock = join(dir, 'db.sock');
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
  assert.equal(spawnSync('ovsdb-tool', ['create', db, SCHEMA]).status, 0);
  server = await startDbServer(['ovsdb-server', db, `--remote=punix:${sock}`, `--pidfile=${join(dir, 'db.pid')}`,
    `--unixctl=${join(dir, 'db.ctl')}`, `--log-file=${join(dir, 'db.log')}`], sock, env);
  proxy = new Proxy(join(dir, 'proxy.sock'), `unix:${sock}`);
  await proxy.start();
});

after(async () => {
  for (const idl of idls) idl.close();
  await proxy?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(opts: Partial<ConstructorParameters<typeof Idl>[0]> = {}): Promise<Idl> {
  const idl = new Idl({ remote: `unix:${proxy.path}`, ...opts });
  idls.push(idl);
  await idl.connect();
  return idl;
}

const str = (s: string): Datum => ({ keys: [s], values: null });
function expectStatus<S extends TxnResult['status']>(r: TxnResult, s: S): Extract<TxnResult, { status: S }> {
  assert.equal(r.status, s, `expected ${s}, got ${JSON.stringify(r)}`);
  return r as Extract<TxnResult, { status: S }>;
}
const opNames = (s: Seen | undefined): string[] => (s?.params.slice(1) ?? []).map((o) => (o as { op: string }).op);

test('the session opens as OVS\'s C IDL does, and add-br goes out in OVS\'s op order', { skip }, async () => {
  proxy.seen.length = 0;
  proxy.refuse = () => undefined;
  const idl = await open({ tables: { Open_vSwitch: ['bridges', 'next_cfg', 'cur_cfg'], Bridge: ['name', 'ports'],
    Port: ['name', 'interfaces'], Interface: ['name', 'type'] } });
  assert.deepEqual(proxy.seen.map((s) => s.method), ['get_schema', 'monitor_cond', 'monitor_cond_since']);
  assert.deepEqual(proxy.seen[0]!.params, ['_Server']);
  assert.deepEqual(proxy.seen[1]!.params, ['_Server', ['monid', '_Server'],
    { Database: [{ columns: ['name', 'model', 'connected', 'leader', 'schema', 'cid', 'index'] }] }]);
  assert.deepEqual(proxy.seen[2]!.params[1], ['monid', 'Open_vSwitch']);
  assert.deepEqual(proxy.seen[2]!.params[2], { Open_vSwitch: [{ columns: ['bridges', 'next_cfg', 'cur_cfg'] }],
    Bridge: [{ columns: ['name', 'ports'] }], Port: [{ columns: ['name', 'interfaces'] }], Interface: [{ columns: ['name', 'type'] }] });
  assert.equal(proxy.seen[2]!.params[3], '00000000-0000-0000-0000-000000000000');

  const t0 = idl.txn();
  t0.insert('Open_vSwitch');
  expectStatus(await t0.commit(), 'success');
  // Inserting the only row of a maxRows=1 table is guarded by a wait for an empty table.
  assert.deepEqual(proxy.seen.at(-1)!.params.slice(1, 2), [
    { op: 'wait', table: 'Open_vSwitch', where: [], timeout: 0, until: '==', rows: [] }]);

  const ovs = [...idl.table('Open_vSwitch').values()][0]!;
  const txn = idl.txn();
  txn.verify(ovs, 'bridges');
  const br = txn.insert('Bridge');
  txn.update(ovs).set('bridges', { keys: [br.uuid], values: null });
  br.set('name', str('br0'));
  const iface = txn.insert('Interface');
  iface.set('name', str('br0'));
  iface.set('type', str('internal'));
  const port = txn.insert('Port');
  port.set('name', str('br0'));
  port.set('interfaces', { keys: [iface.uuid], values: null });
  br.set('ports', { keys: [port.uuid], values: null });
  txn.increment(ovs, 'next_cfg');
  txn.comment('first');
  txn.comment('second');
  const r = expectStatus(await txn.commit(), 'success');
  assert.equal(r.incrementedValue, 1);

  const sent = proxy.seen.at(-1)!;
  assert.equal(sent.method, 'transact');
  assert.equal(sent.params[0], 'Open_vSwitch');
  assert.deepEqual(opNames(sent), ['wait', 'update', 'insert', 'insert', 'insert', 'mutate', 'select', 'comment']);
  const ops = sent.params.slice(1) as Record<string, unknown>[];
  const name = (u: string): string => `row${u.replace(/-/g, '_')}`;
  assert.deepEqual(ops[0], { op: 'wait', table: 'Open_vSwitch', timeout: 0, where: [['_uuid', '==', ['uuid', ovs.uuid]]],
    until: '==', columns: ['bridges'], rows: [{ bridges: ['set', []] }] });
  assert.deepEqual(ops[1], { op: 'update', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs.uuid]]],
    row: { bridges: ['named-uuid', name(br.uuid)] } });
  assert.deepEqual(ops[2], { op: 'insert', table: 'Bridge', 'uuid-name': name(br.uuid),
    row: { name: 'br0', ports: ['named-uuid', name(port.uuid)] } });
  assert.deepEqual(ops[5], { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs.uuid]]],
    mutations: [['next_cfg', '+=', 1]] });
  assert.deepEqual(ops[6], { op: 'select', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ovs.uuid]]],
    columns: ['next_cfg'] });
  assert.deepEqual(ops[7], { op: 'comment', comment: 'first\nsecond' });
  idl.close();
});

test('without _Server the IDL takes the schema from get_schema and monitors with monitor_cond', { skip }, async () => {
  proxy.seen.length = 0;
  proxy.refuse = (m) => (m.method === 'get_schema' && m.params[0] === '_Server'
    ? { error: 'unknown database', details: 'get_schema request specifies unknown database _Server' } : undefined);
  const idl = await open();
  assert.deepEqual(proxy.seen.map((s) => s.method), ['get_schema', 'get_schema', 'monitor_cond']);
  assert.deepEqual(proxy.seen[1]!.params, ['Open_vSwitch']);
  assert.equal(idl.monitorVersion, 'monitor_cond');
  assert.equal(idl.table('Bridge').size, 1);
  idl.close();
});

test('a server that knows only plain monitor still gets a working replica and transactions', { skip }, async () => {
  proxy.seen.length = 0;
  proxy.refuse = (m) => (m.method === 'monitor_cond_since' || m.method === 'monitor_cond' ? 'unknown method' : undefined);
  const idl = await open();
  // _Server could not be monitored either, so the schema comes from get_schema.
  assert.deepEqual(proxy.seen.map((s) => s.method), ['get_schema', 'monitor_cond', 'get_schema', 'monitor_cond', 'monitor']);
  assert.equal(idl.monitorVersion, 'monitor');
  idl.close();

  proxy.seen.length = 0;
  proxy.refuse = (m) => (m.method === 'monitor_cond_since' || (m.method === 'monitor_cond' && m.params[0] !== '_Server')
    ? 'unknown method' : undefined);
  const idl2 = await open();
  assert.deepEqual(proxy.seen.map((s) => s.method), ['get_schema', 'monitor_cond', 'monitor_cond_since', 'monitor_cond', 'monitor']);
  assert.equal(idl2.monitorVersion, 'monitor');
  const br = [...idl2.table('Bridge').values()][0]!;
  assert.deepEqual(br.get('name'), str('br0'));
  const txn = idl2.txn();
  txn.update(br).set('external_ids', { keys: ['via'], values: ['v1'] });
  expectStatus(await txn.commit(), 'success');
  assert.deepEqual(br.get('external_ids'), { keys: ['via'], values: ['v1'] }, 'v1 update applied before the reply');
  idl2.close();
});

test('a long-lived IDL is change-aware and re-monitors after an online schema conversion', { skip }, async () => {
  proxy.seen.length = 0;
  proxy.refuse = () => undefined;
  const idl = await open({ reconnect: true });
  await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(proxy.seen.map((s) => s.method), ['get_schema', 'monitor_cond', 'monitor_cond_since', 'set_db_change_aware']);
  assert.deepEqual(proxy.seen[3]!.params, [true]);
  const reconnected = new Promise<void>((r) => idl.once('connected', () => r()));
  const conv = spawnSync('ovsdb-client', ['convert', `unix:${sock}`, SCHEMA], { encoding: 'utf8' });
  assert.equal(conv.status, 0, conv.stderr);
  await reconnected;
  assert.equal(idl.table('Bridge').size, 1);
  idl.close();
});

test('a connection that cannot be made rejects connect() for a one-shot client', { skip }, async () => {
  const idl = new Idl({ remote: `unix:${join(dir, 'nothing-here.sock')}` });
  await assert.rejects(() => idl.connect(), /database connection failed/);
  idl.close();
});
