// tsw-appctl side by side with the real ovs-appctl 3.1: the same commands,
// against real ovs-vswitchd and ovsdb-server and against tsw-dbserver, must
// print the same and exit the same (the program name aside). Covers target
// lookup through RUNDIR/TARGET.pid → TARGET.<pid>.ctl, absolute socket paths,
// server errors (exit 2) and client-side errors. Needs `npm run build`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realOvsMissing, runTool, startRealOvs, type RealOvs, type RunResult } from './real-ovs.js';
import { startServer, tswDbserverMissing, type Server } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSW_APPCTL = join(ROOT, 'bin', 'tsw-appctl');
const missing = realOvsMissing() ?? (existsSync(join(ROOT, 'dist', 'cli', 'appctl', 'main.js')) ? null : 'tsw-appctl is not built (npm run build)');

function norm(r: RunResult): RunResult {
  const fix = (s: string) => s.replace(/^(ovs|tsw)-appctl: /gm, 'APPCTL: ').replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|');
  return { code: r.code, stdout: fix(r.stdout), stderr: fix(r.stderr) };
}

/** Runs `args` with both programs in `env` and asserts the same output and status; returns the real one's. */
async function same(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<RunResult> {
  const real = norm(await runTool('ovs-appctl', args, env));
  const ours = norm(await runTool(TSW_APPCTL, args, env));
  assert.deepEqual(ours, real, `tsw-appctl ${args.join(' ')}`);
  return real;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('tsw-appctl and ovs-appctl print the same', { skip: missing ?? false }, () => {
  let ovs: RealOvs;
  let dir: string;
  let dbserver: ChildProcess | undefined;

  before(async () => {
    ovs = await startRealOvs({ bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
    // An ovsdb-server with the default control socket name, RUNDIR/ovsdb-server.<pid>.ctl, and RUNDIR/ovsdb-server.pid.
    dir = mkdtempSync(join(os.tmpdir(), 'tsw-appctl-'));
    const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
    const db = join(dir, 'conf.db');
    assert.equal((await runTool('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema'], env)).code, 0);
    dbserver = spawn('ovsdb-server', [db, '--pidfile', `--remote=punix:${join(dir, 'db.sock')}`], { env, stdio: 'ignore' });
    const ctl = join(dir, `ovsdb-server.${dbserver.pid}.ctl`);
    for (let i = 0; i < 250 && !existsSync(ctl); i++) await sleep(20);
  });

  after(async () => {
    if (dbserver?.pid && dbserver.exitCode === null) {
      const gone = new Promise((r) => dbserver?.once('exit', r));
      dbserver.kill('SIGTERM');
      await gone;
    }
    await ovs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('commands on ovs-vswitchd through its socket path: results, server errors (exit 2) and bad arguments', async () => {
    const t = ['-t', ovs.ctl.vswitchd];
    assert.match((await same(ovs.env, [...t, 'version'])).stdout, /^ovs-vswitchd \(Open vSwitch\) 3\.1/);
    assert.match((await same(ovs.env, [...t, 'list-commands'])).stdout, /^The available commands are:\n/);
    await same(ovs.env, [...t, 'vlog/list']);
    await same(ovs.env, [...t, 'ofproto/list']);
    await same(ovs.env, [...t, 'fdb/show', 'br0']);
    await same(ovs.env, [...t, 'fdb/flush']);
    await same(ovs.env, [...t, 'vlog/set', 'bridge:file:dbg']);
    assert.equal((await same(ovs.env, [...t, 'nosuchcommand', 'x'])).code, 2);
    assert.equal((await same(ovs.env, [...t, 'fdb/show', 'nosuchbridge'])).code, 2);
    assert.equal((await same(ovs.env, [...t, 'fdb/show'])).code, 2);
    assert.equal((await same(ovs.env, [...t, 'stp/show', 'br0'])).code, 2);
    await same(ovs.env, [`--target=${ovs.ctl.vswitchd}`, 'bond/list']);
  });

  test('target lookup through the pidfile, and the client-side errors', async () => {
    const env = { ...process.env, OVS_RUNDIR: dir };
    assert.match((await same(env, ['-t', 'ovsdb-server', 'version'])).stdout, /^ovsdb-server \(Open vSwitch\) 3\.1/);
    await same(env, ['-t', 'ovsdb-server', 'ovsdb-server/list-dbs']);
    await same(env, ['-t', 'ovsdb-server', 'ovsdb-server/list-remotes']);
    assert.equal((await same(env, ['-t', 'ovsdb-server', 'ovsdb-server/add-db'])).code, 2);
    // No pidfile, a stale path, no command, bad options.
    assert.equal((await same(env, ['-t', 'nosuchdaemon', 'version'])).code, 1);
    assert.equal((await same(env, ['version'])).code, 1);
    assert.equal((await same(env, ['-t', join(dir, 'nosuch.ctl'), 'version'])).code, 1);
    assert.equal((await same(env, ['-t', 'ovsdb-server'])).code, 1);
    assert.equal((await same(env, ['--timeout=0', 'version'])).code, 1);
    assert.equal((await same(env, ['--nosuchoption', 'version'])).code, 1);
    assert.equal((await same(env, ['-t', 'a', '-t', 'b', 'version'])).code, 1);
  });

  test('commands on tsw-dbserver: the same replies through either client', { skip: tswDbserverMissing() ?? false }, async () => {
    const tdir = mkdtempSync(join(os.tmpdir(), 'tsw-appctl-db-'));
    let server: Server | undefined;
    try {
      server = await startServer('tsw', tdir);
      const env = { ...process.env, OVS_RUNDIR: tdir };
      const t = ['-t', server.ctl];
      await same(env, [...t, 'version']);
      await same(env, [...t, 'list-commands']);
      await same(env, [...t, 'ovsdb-server/list-dbs']);
      await same(env, [...t, 'vlog/list']);
      assert.equal((await same(env, [...t, 'nosuchcommand'])).code, 2);
      assert.equal((await same(env, [...t, 'ovsdb-server/add-db'])).code, 2);
    } finally {
      await server?.stop();
      rmSync(tdir, { recursive: true, force: true });
    }
  });
});
