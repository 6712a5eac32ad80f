// The IDL against a real OVSDB server: replica contents, transactions with
// named-uuid references, verify conflicts, next_cfg increments, garbage
// collection, reconnecting after a server restart, and locks.
//
// The server is started from one command line (startDbServer), so the same
// scenarios can run against Debian's ovsdb-server or tsw-dbserver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { join } from 'node:path';
import { Idl, IdlError, type IdlRow, type TxnResult } from '../../src/db/idl.js';
import type { Datum } from '../../src/db/datum.js';

const SCHEMA = existsSync('schemas/vswitch.ovsschema') ? 'schemas/vswitch.ovsschema' : '/usr/share/openvswitch/vswitch.ovsschema';
const HAVE_OVS = spawnSync('which', ['ovsdb-server', 'ovsdb-tool', 'ovs-vsctl']).status === 0;
const skip = HAVE_OVS ? false : 'Open vSwitch tools (ovsdb-server, ovsdb-tool, ovs-vsctl) are not installed';

interface DbServer {
  sock: string;
  remote: string;
  stop(): Promise<void>;
}

/** The default server: Debian's ovsdb-server on DB, listening on SOCK. */
function ovsdbServerCommand(dir: string, db: string, sock: string): string[] {
  return ['ovsdb-server', db, `--remote=punix:${sock}`, `--pidfile=${join(dir, 'db.pid')}`,
    `--unixctl=${join(dir, 'db.ctl')}`, `--log-file=${join(dir, 'db.log')}`];
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
async function startDbServer(argv: string[], sock: string, env: NodeJS.ProcessEnv): Promise<DbServer> {
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
    sock,
    remote: `unix:${sock}`,
    stop: async () => {
      if (gone) return;
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(() => !gone && process.kill(child.pid!, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let dir = '';
let db = '';
let server: DbServer;
let env: NodeJS.ProcessEnv;
const idls: Idl[] = [];

/** TSW_IDL_SERVER=tsw runs every scenario against tsw-dbserver (db-idl-tsw.test.ts does). */
const SERVER = process.env.TSW_IDL_SERVER === 'tsw' ? 'tsw' : 'ovs';

function serverCommand(): string[] {
  const argv = ovsdbServerCommand(dir, db, join(dir, 'db.sock'));
  return SERVER === 'tsw' ? [process.execPath, 'bin/tsw-dbserver', ...argv.slice(1)] : argv;
}

function vsctl(...args: string[]): string {
  const r = spawnSync('ovs-vsctl', [`--db=${server.remote}`, '--no-wait', '--timeout=10', ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ovs-vsctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function open(opts: Partial<ConstructorParameters<typeof Idl>[0]> = {}): Promise<Idl> {
  const idl = new Idl({ remote: server.remote, ...opts });
  idls.push(idl);
  await idl.connect();
  return idl;
}

const str = (s: string): Datum => ({ keys: [s], values: null });
const uuids = (...u: string[]): Datum => ({ keys: [...u].sort(), values: null });
const only = (idl: Idl, table: string): IdlRow => {
  const rows = [...idl.table(table).values()];
  assert.equal(rows.length, 1, `expected one ${table} row, found ${rows.length}`);
  return rows[0]!;
};
function expectStatus<S extends TxnResult['status']>(r: TxnResult, s: S): Extract<TxnResult, { status: S }> {
  assert.equal(r.status, s, `expected ${s}, got ${JSON.stringify(r)}`);
  return r as Extract<TxnResult, { status: S }>;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(os.tmpdir(), 'tsw-idl-'));
  db = join(dir, 'conf.db');
  env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
  const r = spawnSync('ovsdb-tool', ['create', db, SCHEMA], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  server = await startDbServer(serverCommand(), join(dir, 'db.sock'), env);
});

after(async () => {
  for (const idl of idls) idl.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('connects through _Server and monitor_cond_since, replicating an empty database', { skip }, async () => {
  const idl = await open();
  assert.equal(idl.schema.name, 'Open_vSwitch');
  assert.equal(idl.monitorVersion, 'monitor_cond_since');
  assert.equal(idl.table('Open_vSwitch').size, 0);
  assert.equal(idl.table('Bridge').size, 0);
  assert.ok(idl.seqno > 0);
  assert.throws(() => idl.table('Nope'), IdlError);
  idl.close();
});

test('inserts rows that reference each other by named uuid, and the replica shows them at commit', { skip }, async () => {
  const idl = await open();
  const t0 = idl.txn();
  const ovsRow = t0.insert('Open_vSwitch');
  assert.ok(ovsRow.isNew);
  const r0 = expectStatus(await t0.commit(), 'success');
  const ovsUuid = r0.insertedUuids.get(ovsRow.uuid)!;
  assert.ok(idl.row('Open_vSwitch', ovsUuid), 'replica has the Open_vSwitch row as soon as commit resolves');

  const ovs = only(idl, 'Open_vSwitch');
  const seq = idl.seqno;
  const txn = idl.txn();
  txn.verify(ovs, 'bridges');
  // The parent is written before its children exist, as ovs-vsctl add-br does.
  const br = txn.insert('Bridge');
  txn.update(ovs).set('bridges', uuids(...ovs.get('bridges').keys as string[], br.uuid));
  const iface = txn.insert('Interface');
  iface.set('name', str('br0'));
  iface.set('type', str('internal'));
  const port = txn.insert('Port');
  port.set('name', str('br0'));
  port.set('interfaces', uuids(iface.uuid));
  br.set('name', str('br0'));
  br.set('ports', uuids(port.uuid));
  br.set('datapath_type', str('netdev'));
  assert.deepEqual(br.get('datapath_type'), str('netdev'));
  assert.deepEqual(br.get('fail_mode'), { keys: [], values: null }, 'unwritten column of a new row reads as default');
  txn.increment(ovs, 'next_cfg');
  txn.comment('idl test: add-br br0');
  const r = expectStatus(await txn.commit(), 'success');
  assert.equal(r.incrementedValue, 1);
  assert.ok(idl.seqno > seq);

  const realBr = r.insertedUuids.get(br.uuid)!;
  const realPort = r.insertedUuids.get(port.uuid)!;
  const realIface = r.insertedUuids.get(iface.uuid)!;
  assert.equal(r.insertedUuids.get(`row${br.uuid.replace(/-/g, '_')}`), realBr);
  const bridge = idl.row('Bridge', realBr)!;
  assert.deepEqual(bridge.get('name'), str('br0'));
  assert.deepEqual(bridge.get('ports'), uuids(realPort));
  assert.deepEqual(idl.row('Port', realPort)!.get('interfaces'), uuids(realIface));
  assert.deepEqual(idl.row('Interface', realIface)!.get('type'), str('internal'));
  assert.deepEqual(ovs.get('bridges'), uuids(realBr));
  assert.deepEqual(ovs.get('next_cfg'), { keys: [1], values: null });

  // The real ovs-vsctl reads back what we wrote.
  assert.equal(vsctl('list-br').trim(), 'br0');
  assert.equal(vsctl('list-ports', 'br0').trim(), '');
  assert.equal(vsctl('get', 'Interface', 'br0', 'type').trim(), 'internal');
  idl.close();
});

test('a write of the value already there commits nothing', { skip }, async () => {
  const idl = await open();
  const br = [...idl.table('Bridge').values()].find((b) => b.get('name').keys[0] === 'br0')!;
  const txn = idl.txn();
  txn.update(br).set('datapath_type', str('netdev'));
  txn.increment(only(idl, 'Open_vSwitch'), 'next_cfg');
  expectStatus(await txn.commit(), 'unchanged');
  idl.close();
});

test('a verified column changed by someone else gives try_again; a re-read retry succeeds', { skip }, async () => {
  const idl = await open();
  const ovs = only(idl, 'Open_vSwitch');
  const attempt = async (concurrent: () => void): Promise<TxnResult> => {
    const txn = idl.txn();
    txn.verify(ovs, 'bridges');
    const br = txn.insert('Bridge');
    br.set('name', str('br-idl'));
    txn.update(ovs).set('bridges', uuids(...ovs.get('bridges').keys as string[], br.uuid));
    concurrent();
    return txn.commit();
  };
  expectStatus(await attempt(() => vsctl('add-br', 'br-other')), 'try_again');
  assert.ok([...idl.table('Bridge').values()].some((b) => b.get('name').keys[0] === 'br-other'));
  assert.ok(![...idl.table('Bridge').values()].some((b) => b.get('name').keys[0] === 'br-idl'));
  expectStatus(await attempt(() => undefined), 'success');
  assert.deepEqual(vsctl('list-br').trim().split('\n'), ['br-idl', 'br-other', 'br0']);
  idl.close();
});

test('server errors come back with their tag, details and the result array', { skip }, async () => {
  const idl = await open();
  const txn = idl.txn();
  const br = txn.insert('Bridge');
  br.set('name', str('br0'));   // duplicate of an existing bridge name
  txn.update(only(idl, 'Open_vSwitch')).set('bridges', uuids(...only(idl, 'Open_vSwitch').get('bridges').keys as string[], br.uuid));
  const r = expectStatus(await txn.commit(), 'error');
  assert.equal(r.error, 'constraint violation');
  assert.match(r.details ?? '', /br0/);
  assert.ok(r.results.length >= 2);
  await assert.rejects(() => txn.commit(), IdlError);
  idl.close();
});

test('deleting a bridge needs no deletes of its ports and interfaces (garbage collection)', { skip }, async () => {
  const idl = await open();
  const ovs = only(idl, 'Open_vSwitch');
  const byName = (table: string, name: string): IdlRow | undefined =>
    [...idl.table(table).values()].find((r) => r.get('name').keys[0] === name);
  vsctl('add-port', 'br-other', 'p1');
  await idl.waitFor(() => byName('Interface', 'p1') !== undefined, 5000);
  const br = byName('Bridge', 'br-other')!;
  assert.ok(byName('Port', 'p1'));
  const txn = idl.txn();
  txn.verify(ovs, 'bridges');
  txn.update(ovs).set('bridges', uuids(...(ovs.get('bridges').keys as string[]).filter((u) => u !== br.uuid)));
  txn.delete(br);
  expectStatus(await txn.commit(), 'success');
  assert.equal(byName('Bridge', 'br-other'), undefined);
  assert.equal(byName('Port', 'p1'), undefined);
  assert.equal(byName('Interface', 'p1'), undefined);
  assert.equal(byName('Port', 'br-other'), undefined);
  idl.close();
});

test('a column subset is replicated and other columns refuse to be read', { skip }, async () => {
  const idl = await open({ tables: { Open_vSwitch: ['cur_cfg', 'next_cfg'], Bridge: ['name'] } });
  const ovs = only(idl, 'Open_vSwitch');
  assert.equal(ovs.get('next_cfg').keys.length, 1);
  assert.throws(() => ovs.get('bridges'), IdlError);
  assert.equal(idl.table('Port').size, 0, 'a table of the schema that is not replicated is empty');
  assert.ok([...idl.table('Bridge').values()].every((b) => typeof b.get('name').keys[0] === 'string'));
  idl.close();
});

test('waitFor resolves on a change made elsewhere and times out otherwise', { skip }, async () => {
  const idl = await open({ tables: { Open_vSwitch: ['cur_cfg', 'external_ids'] } });
  const ovs = only(idl, 'Open_vSwitch');
  const seen = idl.waitFor(() => ovs.get('external_ids').keys.includes('idl-test'), 5000);
  vsctl('set', 'Open_vSwitch', '.', 'external_ids:idl-test=1');
  await seen;
  await assert.rejects(() => idl.waitFor(() => false, 50), IdlError);
  idl.close();
});

test('a long-lived IDL reconnects after the server restarts and rebuilds its replica', { skip }, async () => {
  const idl = await open({ reconnect: true, maxBackoffMs: 2000 });
  const events: string[] = [];
  idl.on('disconnected', () => events.push('disconnected'));
  idl.on('connected', () => events.push('connected'));
  const bridgesBefore = idl.table('Bridge').size;
  await server.stop();
  await new Promise<void>((r) => (idl.isConnected ? idl.once('disconnected', () => r()) : r()));
  expectStatus(await idl.txn().commit(), 'try_again');   // as OVS: no session, no commit, even an empty one
  const t = idl.txn();
  t.update(only(idl, 'Open_vSwitch')).set('external_ids', { keys: ['down'], values: ['yes'] });
  expectStatus(await t.commit(), 'try_again');

  // Meanwhile someone else changes the database on disk.
  spawnSync('ovsdb-tool', ['transact', db, JSON.stringify(['Open_vSwitch',
    { op: 'insert', table: 'Bridge', row: { name: 'br-offline' }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] }])]);
  server = await startDbServer(serverCommand(), join(dir, 'db.sock'), env);
  await new Promise<void>((r) => idl.once('connected', () => r()));
  assert.deepEqual(events, ['disconnected', 'connected']);
  assert.equal(idl.table('Bridge').size, bridgesBefore + 1);
  const txn = idl.txn();
  txn.update(only(idl, 'Open_vSwitch')).set('external_ids', { keys: ['back'], values: ['yes'] });
  expectStatus(await txn.commit(), 'success');
  assert.deepEqual(only(idl, 'Open_vSwitch').get('external_ids'), { keys: ['back'], values: ['yes'] });
  idl.close();
});

test('two IDLs asking for one lock: the owner commits, the other is not_locked until the owner leaves', { skip }, async () => {
  const a = await open({ lock: 'idl_test', reconnect: true });
  if (!a.hasLock) await new Promise<void>((r) => a.once('lock', () => r()));
  assert.equal(a.hasLock, true);
  const b = await open({ lock: 'idl_test', reconnect: true });
  await sleep(50);
  assert.equal(b.hasLock, false);

  const write = async (idl: Idl, v: string): Promise<TxnResult> => {
    const txn = idl.txn();
    txn.update(only(idl, 'Open_vSwitch')).set('external_ids', { keys: ['owner'], values: [v] });
    return txn.commit();
  };
  expectStatus(await write(b, 'b'), 'not_locked');
  expectStatus(await write(a, 'a'), 'success');

  const got = new Promise<boolean>((r) => b.once('lock', (v) => r(v)));
  a.close();
  assert.equal(await got, true);
  assert.equal(b.hasLock, true);
  expectStatus(await write(b, 'b'), 'success');
  b.close();
});

test('the server log shows our transaction comment', { skip }, async () => {
  const out = spawnSync('ovsdb-tool', ['show-log', db], { encoding: 'utf8' }).stdout;
  assert.match(out, /idl test: add-br br0/);
  assert.ok(readFileSync(join(dir, 'db.log'), 'utf8').length >= 0);
});
