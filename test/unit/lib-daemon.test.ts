import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  createPidfile, dbdir, logdir, parseDaemonArgs, pkgdatadir, PidfileError, readPidfile, rundir, sysconfdir,
} from '../../src/lib/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const libIndex = new URL('../../src/lib/index.ts', import.meta.url).href;

// A minimal daemon built from the shared pieces, the way tsw-dbserver uses them.
const CHILD = `
import { parseDaemonArgs, startDaemon, vlogModule } from ${JSON.stringify(libIndex)};
const { options, rest } = parseDaemonArgs(process.argv.slice(2), 'tsw-test');
try {
  const d = await startDaemon(options, { program: 'tsw-test', version: '9.9.9' });
  d.unixctl.register('exit', '', 0, 0, () => { setImmediate(() => process.exit(0)); });
  d.unixctl.register('cwd', '', 0, 0, () => process.cwd());
  vlogModule('tsw_test').info('started ' + rest.join(' '));
  if (rest.includes('--slow-start')) await new Promise((r) => setTimeout(r, 300));
  if (rest.includes('--fail-start')) { process.stderr.write('cannot open database\\n'); process.exit(1); }
  d.complete();
} catch (e) {
  process.stderr.write('tsw-test: ' + e.message + '\\n');
  process.exit(1);
}
`;

interface Run { code: number; stdout: string; stderr: string }

function appctl(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile('ovs-appctl', args, { env: { ...process.env, ...env }, timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('daemon: pidfile + unixctl seen by the real ovs-appctl', () => {
  let dir: string;
  let child: string;
  const pids: number[] = [];
  let env: NodeJS.ProcessEnv;

  before(() => {
    dir = fs.mkdtempSync(os.tmpdir() + '/tsw-');
    child = `${dir}/child.mts`;
    fs.writeFileSync(child, CHILD);
    env = { OVS_RUNDIR: dir, OVS_LOGDIR: dir };
  });

  after(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(args: string[]): ChildProcess {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
      cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    pids.push(p.pid!);
    return p;
  }

  it('ovs-appctl -t tsw-test finds the daemon through OVS_RUNDIR/tsw-test.pid and tsw-test.<pid>.ctl', async () => {
    const p = start(['--pidfile']);
    await waitFor(() => fs.existsSync(`${dir}/tsw-test.${p.pid}.ctl`));
    assert.equal(fs.readFileSync(`${dir}/tsw-test.pid`, 'utf8'), `${p.pid}\n`);
    assert.equal(readPidfile(`${dir}/tsw-test.pid`), p.pid);
    const r = await appctl(['-t', 'tsw-test', 'version'], env);
    assert.deepEqual(r, { code: 0, stdout: 'tsw-test (tsw) 9.9.9\n', stderr: '' });

    // A second instance must refuse to start while the first one holds the lock.
    const second = spawnSync(process.execPath, ['--import', 'tsx', child, '--pidfile'], {
      cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
    });
    assert.equal(second.status, 1);
    assert.equal(second.stderr, `tsw-test: ${dir}/tsw-test.pid: already running as pid ${p.pid}, aborting\n`);

    // SIGTERM removes the pidfile and the control socket.
    const exited = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, 'SIGTERM');
    assert.equal(await exited, null);
    assert.equal(fs.existsSync(`${dir}/tsw-test.pid`), false);
    assert.equal(fs.existsSync(`${dir}/tsw-test.${p.pid}.ctl`), false);
  });

  it('a stale (unlocked) pidfile is not trusted, and a new daemon replaces it', async () => {
    fs.writeFileSync(`${dir}/tsw-test.pid`, `${process.pid}\n`);
    assert.throws(() => readPidfile(`${dir}/tsw-test.pid`),
      (e: unknown) => e instanceof PidfileError && e.code === 'ESRCH'
        && e.message === `cannot read pidfile "${dir}/tsw-test.pid" (No such process)`);
    const r = await appctl(['-t', 'tsw-test', 'version'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read pidfile ".*tsw-test\.pid" \(No such process\)/);

    const p = start(['--pidfile']);
    await waitFor(() => fs.existsSync(`${dir}/tsw-test.${p.pid}.ctl`));
    assert.equal(readPidfile(`${dir}/tsw-test.pid`), p.pid);
    const exited = new Promise((res) => p.once('exit', res));
    assert.equal((await appctl(['-t', 'tsw-test', 'exit'], env)).code, 0);
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(`${dir}/tsw-test.pid`), false);
  });

  it('createPidfile in this process: readPidfile still works on our own file without dropping the lock', () => {
    const pf = createPidfile(`${dir}/self.pid`);
    assert.equal(readPidfile(`${dir}/self.pid`), process.pid);
    assert.equal(readPidfile(`${dir}/self.pid`), process.pid);
    // Another process (ovs-appctl's logic, via a child running readPidfile) sees our lock.
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e',
      `import(${JSON.stringify(libIndex)}).then((m) => console.log(m.readPidfile(${JSON.stringify(`${dir}/self.pid`)})))`],
    { cwd: root, encoding: 'utf8' });
    assert.equal(r.stdout.trim(), String(process.pid), r.stderr);
    pf.remove();
    assert.equal(fs.existsSync(`${dir}/self.pid`), false);
  });

  it('--detach returns once the daemon is ready, leaving it running with its pidfile, log file and chdir("/")', async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, '--detach', '--pidfile', '--log-file', '--slow-start'], {
      cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(fs.readFileSync(`${dir}/tsw-test.pid`, 'utf8'));
    pids.push(pid);
    assert.ok(alive(pid));
    assert.equal((await appctl(['-t', 'tsw-test', 'cwd'], env)).stdout, '/\n');
    const logText = fs.readFileSync(`${dir}/tsw-test.log`, 'utf8');
    assert.match(logText, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|00001\|vlog\|INFO\|opened log file .*tsw-test\.log\n/);
    assert.match(logText, /\|00002\|tsw_test\|INFO\|started --slow-start\n/);
    assert.equal((await appctl(['-t', 'tsw-test', 'exit'], env)).code, 0);
    await waitFor(() => !alive(pid));
    assert.equal(fs.existsSync(`${dir}/tsw-test.pid`), false);
  });

  it('--detach reports a daemon that dies during start-up, with its stderr', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, '--detach', '--fail-start'], {
      cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot open database\n/);
    assert.match(r.stderr, /fork child died before signaling startup \(exit status 1\)/);
  });
});

describe('daemon options and directories', () => {
  it('parses the shared flags and leaves the rest in order', () => {
    const saved = process.env.OVS_RUNDIR;
    process.env.OVS_RUNDIR = '/tmp/rd';
    try {
      const { options, rest } = parseDaemonArgs(['conf.db', '--pidfile', '--detach', '--remote=punix:/x', '-vjsonrpc:dbg',
        '--verbose', '--log-file=/tmp/l.log', '--unixctl', 'ctl', '--no-chdir', '--overwrite-pidfile', '--monitor'], 'tsw-dbserver');
      assert.deepEqual(rest, ['conf.db', '--remote=punix:/x']);
      assert.equal(options.pidfile, '/tmp/rd/tsw-dbserver.pid');
      assert.equal(options.detach, true);
      assert.equal(options.noChdir, true);
      assert.equal(options.overwritePidfile, true);
      assert.equal(options.logFile, '/tmp/l.log');
      assert.equal(options.unixctl, 'ctl');
      assert.deepEqual(options.verbose, ['jsonrpc:dbg', '']);
      assert.equal(parseDaemonArgs(['--pidfile=x.pid']).options.pidfile, '/tmp/rd/x.pid');
      assert.equal(parseDaemonArgs(['--help']).options.help, true);
      assert.equal(parseDaemonArgs(['-V']).options.version, true);
      assert.throws(() => parseDaemonArgs(['--unixctl']), /requires an argument/);
    } finally {
      if (saved === undefined) delete process.env.OVS_RUNDIR;
      else process.env.OVS_RUNDIR = saved;
    }
  });

  it('honors OVS_* variables, treating empty ones as unset', () => {
    const names = ['OVS_RUNDIR', 'OVS_LOGDIR', 'OVS_DBDIR', 'OVS_SYSCONFDIR', 'OVS_PKGDATADIR'];
    const saved = names.map((n) => process.env[n]);
    try {
      for (const n of names) process.env[n] = '';
      assert.deepEqual([rundir(), logdir(), dbdir(), sysconfdir(), pkgdatadir()],
        ['/var/run/openvswitch', '/var/log/openvswitch', '/etc/openvswitch', '/etc', '/usr/share/openvswitch']);
      process.env.OVS_SYSCONFDIR = '/s';
      assert.equal(dbdir(), '/s/openvswitch');
      process.env.OVS_DBDIR = '/d';
      process.env.OVS_RUNDIR = '/r';
      assert.deepEqual([dbdir(), rundir()], ['/d', '/r']);
    } finally {
      names.forEach((n, i) => { if (saved[i] === undefined) delete process.env[n]; else process.env[n] = saved[i]; });
    }
  });
});
