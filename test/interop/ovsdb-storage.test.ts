// tsw-dbserver's database file against the real ovsdb-tool and ovsdb-server,
// and its durability: SIGKILL in the middle of a stream of commits must not
// lose any acknowledged transaction, and a corrupt tail must be cut off.
// Each test runs on Debian's ovsdb-server too, as the control.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup, createDb, makeTmpDir, maskUuids, RawClient, readLog, run, runOk, schemaPath, sleep, startServer,
  toolEnv, tswDbserverMissing, type Json, type Server, type ServerKind,
} from './harness.js';

const NAMES: Record<ServerKind, string> = { ovs: 'ovsdb-server', tsw: 'tsw-dbserver' };
const KINDS: { kind: ServerKind; skip: string | null }[] = [
  { kind: 'ovs', skip: null },
  { kind: 'tsw', skip: tswDbserverMissing() },
];

const VSCTL_CHANGES = [
  ['init'],
  ['add-br', 'br0'],
  ['add-port', 'br0', 'p1', 'tag=10'],
  ['add-bond', 'br0', 'bond0', 'e1', 'e2', 'lacp=active'],
  ['add-br', 'br1', '--', 'set', 'Bridge', 'br1', 'fail_mode=secure'],
  ['br-set-external-id', 'br0', 'k', 'v'],
  ['set-controller', 'br1', 'tcp:127.0.0.1:6653'],
  ['set', 'Interface', 'p1', 'mtu_request=9000', 'options:x=y'],
  ['del-port', 'br0', 'bond0'],
  ['set-manager', 'ptcp:6640'],
  ['add-port', 'br1', 'p2', '--', 'set', 'Port', 'p2', 'trunks=1,2,3'],
  ['del-br', 'br1'],
];

const QUERY = JSON.stringify(['Open_vSwitch',
  { op: 'select', table: 'Bridge', where: [], columns: ['name', 'fail_mode', 'external_ids'] },
  { op: 'select', table: 'Port', where: [], columns: ['name', 'tag', 'trunks'] },
  { op: 'select', table: 'Interface', where: [], columns: ['name', 'type', 'mtu_request', 'options'] },
  { op: 'select', table: 'Controller', where: [], columns: ['target'] },
  { op: 'select', table: 'Manager', where: [], columns: ['target'] },
  { op: 'select', table: 'Open_vSwitch', where: [], columns: ['bridges'] },
]);

/** `ovsdb-tool query` output with rows sorted and UUIDs hidden. */
function canonicalQuery(out: string): string {
  const results = JSON.parse(out) as { rows: Json[] }[];
  return JSON.stringify(results.map((r) => r.rows.map((row) => maskUuids(JSON.stringify(row))).sort()));
}

async function vsctl(srv: Server, ...args: string[]): Promise<string> {
  return runOk('ovs-vsctl', ['--no-wait', `--db=${srv.remote}`, ...args], { env: toolEnv(srv.dir) });
}

/** Writes a database through the given server with ovs-vsctl; returns the file. */
async function writeDb(kind: ServerKind): Promise<{ dir: string; db: string }> {
  const dir = makeTmpDir(`storage-${kind}`);
  const srv = await startServer(kind, dir);
  for (const c of VSCTL_CHANGES) await vsctl(srv, ...c);
  await srv.stop();
  return { dir, db: srv.db };
}

function recordCount(showLog: string): number {
  return showLog.split('\n').filter((l) => /^record \d+:/.test(l)).length;
}

describe('OVSDB storage interop', () => {
  after(cleanup);

  let reference: Promise<{ dir: string; db: string }> | null = null;
  const ovsFile = (): Promise<{ dir: string; db: string }> => (reference ??= writeDb('ovs'));

  test('ovsdb-tool reads a file tsw-dbserver wrote', { skip: tswDbserverMissing() ?? false }, async () => {
    const ref = await ovsFile();
    const got = await writeDb('tsw');
    const schema = schemaPath();
    const tool = (...a: string[]): Promise<string> => runOk('ovsdb-tool', a);

    const showLog = await run('ovsdb-tool', ['show-log', got.db]);
    assert.equal(showLog.code, 0, `show-log failed: ${showLog.stderr}`);
    assert.match(showLog.stdout, /^record 0: "Open_vSwitch" schema, version="8\.3\.\d+", cksum="\d+ \d+"/);
    const refLog = await tool('show-log', ref.db);
    assert.equal(recordCount(showLog.stdout), recordCount(refLog), `records:\n${showLog.stdout}\nreference:\n${refLog}`);
    const mm = await run('ovsdb-tool', ['-mm', 'show-log', got.db]);
    assert.equal(mm.code, 0, mm.stderr);

    assert.equal(await tool('db-cksum', got.db), await tool('schema-cksum', schema));
    assert.equal(await tool('db-version', got.db), await tool('schema-version', schema));
    assert.equal(await tool('db-name', got.db), 'Open_vSwitch\n');
    assert.equal(canonicalQuery(await tool('query', got.db, QUERY)), canonicalQuery(await tool('query', ref.db, QUERY)));

    // The real ovsdb-server serves the file and can append to it; compact works.
    const copy = join(makeTmpDir('storage-serve'), 'conf.db');
    copyFileSync(got.db, copy);
    const srv = await startServer('ovs', join(copy, '..'), { db: copy });
    assert.equal(await vsctl(srv, 'list-br'), 'br0\n');
    assert.equal(await vsctl(srv, 'list-ports', 'br0'), 'p1\n');
    await vsctl(srv, 'add-br', 'br9');
    await srv.stop();
    await tool('compact', copy);
    assert.match(await tool('query', copy, QUERY), /"br9"/);
  });

  test('tsw-dbserver reads a file ovsdb-server wrote', { skip: tswDbserverMissing() ?? false }, async () => {
    const ref = await ovsFile();
    const dir = makeTmpDir('storage-read');
    const db = join(dir, 'conf.db');
    copyFileSync(ref.db, db);
    const srv = await startServer('tsw', dir, { db });
    const shown = await run('ovsdb-client', ['query', srv.remote, QUERY]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(canonicalQuery(shown.stdout), canonicalQuery(await runOk('ovsdb-tool', ['query', ref.db, QUERY])));
    await vsctl(srv, 'add-br', 'br7');
    await srv.stop();
    assert.match(await runOk('ovsdb-tool', ['query', db, QUERY]), /"br7"/);
  });

  for (const { kind, skip } of KINDS) {
    test(`SIGKILL mid-stream loses no acknowledged commit: ${NAMES[kind]}`, { skip: skip ?? false }, async (t) => {
      const dir = makeTmpDir(`crash-${kind}`);
      const db = join(dir, 'conf.db');
      await createDb(kind, db);
      const acked: string[] = [];
      const rounds = kind === 'tsw' ? 5 : 3;
      for (let round = 0; round < rounds; round++) {
        const srv = await startServer(kind, dir, { db });
        await verifyAcked(srv, acked, `before round ${round}`);
        if (round === 0) await insertRoot(srv);
        const killAfter = 100 + Math.floor(Math.random() * 400);
        const sent = await streamUntilKilled(srv, round, killAfter, acked);
        assert.ok(sent.acked > 0, `round ${round}: nothing acknowledged in ${killAfter} ms`);
        t.diagnostic(`round ${round}: killed after ${killAfter} ms, ${sent.acked} commits acknowledged`);
      }
      // After the last crash: the server comes up, everything is there, and
      // after one more write the file is a valid log again for ovsdb-tool.
      const srv = await startServer(kind, dir, { db });
      await verifyAcked(srv, acked, 'after the last crash');
      await vsctl(srv, 'br-set-external-id', 'b0_0', 'final', 'yes');
      await srv.stop();
      const log = await run('ovsdb-tool', ['show-log', db]);
      assert.equal(log.code, 0, `show-log after crashes: ${log.stderr}`);
    });
  }

  for (const { kind, skip } of KINDS) {
    test(`a garbage tail is cut off and the data kept: ${NAMES[kind]}`, { skip: skip ?? false }, async () => {
      const dir = makeTmpDir(`garbage-${kind}`);
      let srv = await startServer(kind, dir);
      await vsctl(srv, 'init');
      await vsctl(srv, 'add-br', 'br0');
      await vsctl(srv, 'add-port', 'br0', 'p1');
      await srv.stop();
      const before = readLog(srv.log).length;
      appendFileSync(srv.db, 'OVSDB JSON 99 0000000000000000000000000000000000000000\n{"Bridge":{"torn');
      srv = await startServer(kind, dir);
      assert.equal(await vsctl(srv, 'list-br'), 'br0\n');
      assert.equal(await vsctl(srv, 'list-ports', 'br0'), 'p1\n');
      await vsctl(srv, 'add-br', 'br1');
      await srv.stop();
      const logged = readLog(srv.log).slice(before);
      assert.match(logged, /error|truncat|corrupt|torn/i, `nothing about the bad tail in the log:\n${logged}`);
      const show = await run('ovsdb-tool', ['show-log', srv.db]);
      assert.equal(show.code, 0, `file still has the garbage: ${show.stderr}`);
      srv = await startServer(kind, dir);
      assert.equal(await vsctl(srv, 'list-br'), 'br0\nbr1\n');
      await srv.stop();
    });
  }
});

async function insertRoot(srv: Server): Promise<void> {
  const c = await RawClient.connect(srv.sock);
  const r = await c.transact('Open_vSwitch', { op: 'insert', table: 'Open_vSwitch', row: {} });
  c.close();
  assert.ok(!JSON.stringify(r).includes('"error"'), JSON.stringify(r));
}

/**
 * Streams small commits, a few in flight at a time, and SIGKILLs the server
 * after `killAfter` ms. Each commit adds Bridge b<round>_<i> to
 * Open_vSwitch.bridges and an external_ids key for it; every third is durable.
 */
async function streamUntilKilled(srv: Server, round: number, killAfter: number, acked: string[]): Promise<{ acked: number }> {
  const c = await RawClient.connect(srv.sock);
  const window = 4;
  let i = 0;
  let n = 0;
  let stopped = false;
  const killer = setTimeout(() => { stopped = true; srv.kill('SIGKILL'); }, killAfter);
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const name = `b${round}_${i++}`;
      const ops: Json[] = [
        { op: 'insert', table: 'Bridge', row: { name }, 'uuid-name': 'nb' },
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'nb']], ['external_ids', 'insert', ['map', [[name, 'x']]]]] },
      ];
      if (i % 3 === 0) ops.push({ op: 'commit', durable: true });
      let reply: Json[];
      try { reply = await c.transact('Open_vSwitch', ...ops); } catch { return; }
      assert.ok(!JSON.stringify(reply).includes('"error"'), `commit ${name} failed: ${JSON.stringify(reply)}`);
      acked.push(name);
      n++;
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  clearTimeout(killer);
  await srv.exited;
  c.close();
  await srv.stop();
  return { acked: n };
}

async function verifyAcked(srv: Server, acked: string[], when: string): Promise<void> {
  if (acked.length === 0) return;
  const c = await RawClient.connect(srv.sock);
  const [bridges, root] = await c.transact('Open_vSwitch',
    { op: 'select', table: 'Bridge', where: [], columns: ['name'] },
    { op: 'select', table: 'Open_vSwitch', where: [], columns: ['external_ids', 'bridges'] }) as [{ rows: { name: string }[] }, { rows: { external_ids: ['map', [string, string][]]; bridges: Json }[] }];
  c.close();
  const names = new Set(bridges.rows.map((r) => r.name));
  const keys = new Set((root.rows[0]?.external_ids[1] ?? []).map(([k]) => k));
  const missing = acked.filter((a) => !names.has(a) || !keys.has(a));
  assert.deepEqual(missing.slice(0, 20), [], `${when}: ${missing.length} of ${acked.length} acknowledged commits lost`);
  // Atomicity: each commit is all there or not at all.
  const half = [...names].filter((n) => !keys.has(n)).concat([...keys].filter((k) => !names.has(k)));
  assert.deepEqual(half, [], `${when}: partially applied commits`);
  await sleep(0);
}
