// tsw-dbserver judged by the real Open vSwitch tools (ovs-vsctl, ovsdb-client,
// ovs-appctl, ovsdb-tool) and by its own command line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, RawClient, runMain, sleep, startServer, tool, type RunningServer } from './db-server-helpers.js';

const VSWITCH = path.join(ROOT, 'schemas/vswitch.ovsschema');
const haveTools = tool('ovs-vsctl') && tool('ovsdb-client') && tool('ovs-appctl') && tool('ovsdb-tool');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = run(cmd, args, env);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('tsw-dbserver with the real OVS tools', { skip: !haveTools && 'OVS tools not installed' }, () => {
  let srv: RunningServer;
  let db: string;

  before(async () => {
    srv = await startServer({ schemaFile: VSWITCH });
    db = `unix:${srv.sock}`;
  });

  after(async () => {
    await srv?.stop();
    if (srv) fs.rmSync(srv.dir, { recursive: true, force: true });
  });

  it('ovs-vsctl init, add-br, add-port and show', () => {
    ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'init']);
    ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'add-br', 'br0', '--', 'set', 'Bridge', 'br0', 'datapath_type=netdev']);
    ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'add-port', 'br0', 'p1']);
    const show = ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'show']);
    assert.match(show, /Bridge br0/);
    assert.match(show, /datapath_type: netdev/);
    assert.match(show, /Port p1/);
    assert.equal(ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'list-br']), 'br0\n');
    assert.equal(ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'get', 'Bridge', 'br0', 'datapath_type']), 'netdev\n');
    // A failing command reports OVS's error and commits nothing.
    const dup = run('ovs-vsctl', [`--db=${db}`, '--no-wait', 'add-br', 'br0']);
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /already exists/);
  });

  it('ovsdb-client list-dbs, get-schema, list-tables, dump, transact, query', () => {
    assert.equal(ok('ovsdb-client', ['list-dbs', db]), 'Open_vSwitch\n_Server\n');
    const schema = JSON.parse(ok('ovsdb-client', ['get-schema', db, 'Open_vSwitch'])) as { name: string; version: string };
    assert.equal(schema.name, 'Open_vSwitch');
    assert.match(ok('ovsdb-client', ['get-schema-version', db, 'Open_vSwitch']), /^\d+\.\d+\.\d+\n$/);
    assert.match(ok('ovsdb-client', ['list-tables', db, 'Open_vSwitch']), /Bridge/);
    assert.match(ok('ovsdb-client', ['dump', db, 'Open_vSwitch', 'Bridge']), /br0/);
    assert.match(ok('ovsdb-client', ['dump', db, '_Server']), /standalone/);
    const out = ok('ovsdb-client', [
      'transact',
      db,
      '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["name"]}]',
    ]);
    assert.deepEqual(JSON.parse(out), [{ rows: [{ name: 'br0' }] }]);
    ok('ovsdb-client', ['wait', db, 'Open_vSwitch', 'connected']);
  });

  it('ovsdb-client monitor sees initial rows and later changes', async () => {
    const child = spawn('ovsdb-client', ['monitor', db, 'Open_vSwitch', 'Bridge', 'name', '--format=json']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const wait = async (re: RegExp): Promise<void> => {
        for (let i = 0; i < 200 && !re.test(out); i++) await sleep(25);
        assert.match(out, re);
      };
      await wait(/br0/);
      ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'add-br', 'brmon']);
      await wait(/brmon/);
      assert.match(out, /"insert"/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('ovs-appctl: version, list-commands, list-dbs, remotes, memory/show, compact (file still readable)', async () => {
    const t = ['-t', srv.ctl];
    assert.match(ok('ovs-appctl', [...t, 'version']), /^tsw-dbserver \(tsw\) /);
    const cmds = ok('ovs-appctl', [...t, 'list-commands']);
    for (const c of ['exit', 'ovsdb-server/compact', 'ovsdb-server/add-remote', 'vlog/set', 'memory/show']) assert.match(cmds, new RegExp(c));
    assert.equal(ok('ovs-appctl', [...t, 'ovsdb-server/list-dbs']), 'Open_vSwitch\n_Server\n');
    assert.equal(ok('ovs-appctl', [...t, 'ovsdb-server/list-remotes']), `punix:${srv.sock}\n`);
    ok('ovs-appctl', [...t, 'ovsdb-server/add-remote', 'ptcp:0:127.0.0.1']);
    assert.match(ok('ovs-appctl', [...t, 'ovsdb-server/list-remotes']), /ptcp:0:127.0.0.1/);
    ok('ovs-appctl', [...t, 'ovsdb-server/remove-remote', 'ptcp:0:127.0.0.1']);
    const rr = run('ovs-appctl', [...t, 'ovsdb-server/remove-remote', 'ptcp:1:127.0.0.1']);
    assert.equal(rr.status, 2);
    assert.match(rr.stderr, /no such remote/);
    assert.match(ok('ovs-appctl', [...t, 'memory/show']), /sessions:\d+/);
    assert.match(ok('ovs-appctl', [...t, 'vlog/list']), /console/);

    for (let i = 0; i < 20; i++) ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'set', 'Open_vSwitch', '.', `external_ids:k${i}=v${i}`]);
    const before = fs.statSync(srv.db).size;
    ok('ovs-appctl', [...t, 'ovsdb-server/compact']);
    assert.ok(fs.statSync(srv.db).size < before);
    const bad = run('ovs-appctl', [...t, 'ovsdb-server/compact', '_Server']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /cannot compact built-in databases/);
    // The compacted file is schema + one snapshot, and the server keeps appending to it.
    ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'add-br', 'br-after']);
    const log = ok('ovsdb-tool', ['show-log', srv.db]);
    assert.match(log, /record 0:/);
    assert.match(log, /record 1:/);
    assert.match(log, /record 2:/);
    assert.doesNotMatch(log, /record 3:/);
    // A restart reads it all back.
    await srv.stop();
    srv = await startServer({ dir: srv.dir });
    const show = ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'show']);
    assert.match(show, /Bridge br-after/);
    assert.match(show, /Port p1/);
    assert.equal(ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'get', 'Open_vSwitch', '.', 'external_ids:k19']), 'v19\n');
  });

  it('serves the Python IDL (monitor v1 of _Server, monitor_cond_since, transact)', { skip: !fs.existsSync('/usr/lib/python3/dist-packages/ovs/db/idl.py') }, () => {
    const script = `
import ovs.db.idl, ovs.poller, sys, time
helper = ovs.db.idl.SchemaHelper(location=${JSON.stringify(VSWITCH)})
helper.register_all()
idl = ovs.db.idl.Idl(${JSON.stringify(db)}, helper)
end = time.time() + 10
while idl.change_seqno == 0 and time.time() < end:
    idl.run(); p = ovs.poller.Poller(); idl.wait(p); p.timer_wait(100); p.block()
names = sorted(b.name for b in idl.tables['Bridge'].rows.values())
txn = ovs.db.idl.Transaction(idl)
ovsrow = next(iter(idl.tables['Open_vSwitch'].rows.values()))
ovsrow.setkey('external_ids', 'pyidl', 'yes')
status = txn.commit_block()
print(names, status == ovs.db.idl.Transaction.SUCCESS)
idl.close()
`;
    const out = ok('/usr/bin/python3', ['-c', script]);
    assert.match(out, /'br0'/);
    assert.match(out, /True$/m);
    assert.equal(ok('ovs-vsctl', [`--db=${db}`, '--no-wait', 'get', 'Open_vSwitch', '.', 'external_ids:pyidl']), 'yes\n');
  });
});

describe('tsw-dbserver command line and daemon behaviour', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsw-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('create makes a database file; creating it twice fails', () => {
    const dbf = path.join(dir, 'c.db');
    assert.equal(runMain(['create', dbf, VSWITCH]).status, 0);
    assert.match(fs.readFileSync(dbf, 'utf8'), /^OVSDB JSON \d+ [0-9a-f]{40}\n/);
    const again = runMain(['create', dbf, VSWITCH]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^tsw-dbserver: /);
    if (tool('ovsdb-tool')) assert.equal(ok('ovsdb-tool', ['db-name', dbf]), 'Open_vSwitch\n');
  });

  it('fails clearly on a missing database file or an unknown option', () => {
    const r = runMain([path.join(dir, 'nope.db'), '--remote=punix:' + path.join(dir, 'x.sock')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nope\.db: database file does not exist/);
    const b = runMain(['--frobnicate']);
    assert.equal(b.status, 1);
    assert.match(b.stderr, /unrecognized option '--frobnicate'/);
    const h = runMain(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /--remote=REMOTE/);
  });

  it('default pidfile and control socket work with ovs-appctl -t tsw-dbserver; SIGTERM cleans up', { skip: !haveTools && 'OVS tools not installed' }, async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsw-'));
    const dbf = path.join(d, 'conf.db');
    assert.equal(runMain(['create', dbf, VSWITCH]).status, 0);
    const env = { ...process.env, OVS_RUNDIR: d, OVS_LOGDIR: d, OVS_DBDIR: d };
    const sock = path.join(d, 'db.sock');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/db/main.ts'), `--remote=punix:${sock}`, '--pidfile', '--log-file'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    let exit: { code: number | null; signal: string | null } | null = null;
    child.on('exit', (code, signal) => (exit = { code, signal }));
    try {
      const pidfile = path.join(d, 'tsw-dbserver.pid');
      for (let i = 0; i < 400 && !(fs.existsSync(pidfile) && fs.existsSync(sock)); i++) await sleep(25);
      assert.equal(fs.readFileSync(pidfile, 'utf8'), `${child.pid}\n`);
      assert.ok(fs.existsSync(path.join(d, `tsw-dbserver.${child.pid}.ctl`)));
      assert.equal(ok('ovs-appctl', ['-t', 'tsw-dbserver', 'ovsdb-server/list-dbs'], env), 'Open_vSwitch\n_Server\n');
      assert.equal((fs.statSync(sock).mode & 0o777).toString(8), '750');
      const c = await RawClient.connect(sock);
      assert.deepEqual(await c.result('list_dbs', []), ['Open_vSwitch', '_Server']);
      c.close();
      child.kill('SIGTERM');
      for (let i = 0; i < 200 && exit === null; i++) await sleep(25);
      assert.ok(exit !== null);
      assert.ok(!fs.existsSync(pidfile), 'pidfile removed');
      assert.ok(!fs.existsSync(sock), 'db socket removed');
      assert.ok(!fs.existsSync(path.join(d, `tsw-dbserver.${child.pid}.ctl`)), 'control socket removed');
      assert.match(fs.readFileSync(path.join(d, 'tsw-dbserver.log'), 'utf8'), /tsw-dbserver/);
    } finally {
      if (exit === null) child.kill('SIGKILL');
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('--detach returns once the daemon serves; ovs-appctl exit stops it', { skip: !haveTools && 'OVS tools not installed' }, async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsw-'));
    const dbf = path.join(d, 'conf.db');
    assert.equal(runMain(['create', dbf, VSWITCH]).status, 0);
    const sock = path.join(d, 'db.sock');
    const env = { OVS_RUNDIR: d, OVS_LOGDIR: d, OVS_DBDIR: d };
    const r = runMain([`--remote=punix:${sock}`, '--pidfile', '--detach', '--no-chdir'], env);
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(fs.readFileSync(path.join(d, 'tsw-dbserver.pid'), 'utf8'));
    try {
      assert.ok(fs.existsSync(sock));
      ok('ovs-vsctl', [`--db=unix:${sock}`, '--no-wait', 'init']);
      ok('ovs-appctl', ['-t', 'tsw-dbserver', 'exit'], env);
      for (let i = 0; i < 200 && fs.existsSync(sock); i++) await sleep(25);
      assert.ok(!fs.existsSync(sock));
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
