// tsw-vswitchd seen by the real OVS tools: ovs-vsctl without --no-wait
// returns because the switch copies next_cfg to cur_cfg, and finds the
// ofport/error columns the way it finds them with the real ovs-vswitchd.
// The same script runs against Debian's ovs-vswitchd (on ovsdb-server, with
// --enable-dummy=override so no kernel is involved), and the written-back
// columns that OVS defines are compared, so the test is known to test a switch.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMac } from '../../src/netdev/index.js';
import { macFromUuid } from '../../src/vswitchd/bridge.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA = path.join(ROOT, 'schemas/vswitch.ovsschema');

type Kind = 'tsw' | 'ovs';

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}
const missing = ['ovs-vsctl', 'ovs-appctl', 'ovsdb-server', 'ovs-vswitchd', 'ovsdb-tool'].filter((t) => !have(t));

interface Run { code: number; stdout: string; stderr: string; ms: number }

function exec(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 124) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

async function waitFor(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A database server and a switch on it, in a temp dir that is also OVS_RUNDIR/LOGDIR/DBDIR. */
class Stack {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly procs: ChildProcess[] = [];
  private readonly output = new Map<ChildProcess, string>();

  constructor(readonly kind: Kind) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsw-vswitchd-${kind}-`));
    this.env = { ...process.env, OVS_RUNDIR: this.dir, OVS_LOGDIR: this.dir, OVS_DBDIR: this.dir };
  }

  get sock(): string {
    return path.join(this.dir, 'db.sock');
  }

  get switchProgram(): string {
    return this.kind === 'tsw' ? 'tsw-vswitchd' : 'ovs-vswitchd';
  }

  get switchLog(): string {
    return fs.readFileSync(path.join(this.dir, `${this.switchProgram}.log`), 'utf8');
  }

  private spawn(file: string, args: string[]): ChildProcess {
    const p = spawn(file, args, { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.output.set(p, '');
    const grab = (b: Buffer): void => void this.output.set(p, this.output.get(p)! + b.toString());
    p.stdout!.on('data', grab);
    p.stderr!.on('data', grab);
    this.procs.push(p);
    return p;
  }

  async start(): Promise<void> {
    const db = path.join(this.dir, 'conf.db');
    const tsx = [process.execPath, '--import', 'tsx'];
    if (this.kind === 'tsw') {
      const c = spawnSync(tsx[0]!, [...tsx.slice(1), 'src/db/main.ts', 'create', db, SCHEMA], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(c.status, 0, c.stderr);
      this.spawn(tsx[0]!, [...tsx.slice(1), 'src/db/main.ts', db, `--remote=punix:${this.sock}`, '--pidfile']);
    } else {
      const c = spawnSync('ovsdb-tool', ['create', db, SCHEMA], { encoding: 'utf8' });
      assert.equal(c.status, 0, c.stderr);
      this.spawn('ovsdb-server', [db, `--remote=punix:${this.sock}`, '--pidfile', '--log-file']);
    }
    await waitFor(() => fs.existsSync(this.sock), 'database socket');
    const swArgs = [`unix:${this.sock}`, '--enable-dummy=override', '--pidfile', '--log-file'];
    if (this.kind === 'tsw') this.spawn(tsx[0]!, [...tsx.slice(1), 'src/vswitchd/main.ts', ...swArgs]);
    else this.spawn('ovs-vswitchd', [...swArgs, '--disable-system']);
    await waitFor(() => fs.existsSync(path.join(this.dir, `${this.switchProgram}.pid`)), 'switch pidfile');
    // The switch is up once it has written cur_cfg (0) back: from then on ovs-vsctl will not hang.
    await waitFor(() => /cur_cfg\s*:\s*0/.test(spawnSync('ovs-vsctl', [`--db=unix:${this.sock}`, 'list', 'Open_vSwitch'],
      { env: this.env, encoding: 'utf8' }).stdout ?? ''), 'first cur_cfg write');
  }

  vsctl(...args: string[]): Promise<Run> {
    // No --no-wait: each command waits for the switch to catch up; -t makes a hang a failure, not a stuck test.
    return exec('ovs-vsctl', ['-t', '10', `--db=unix:${this.sock}`, ...args], this.env);
  }

  async get(table: string, record: string, column: string): Promise<string> {
    const r = await this.vsctl('get', table, record, column);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  appctl(...args: string[]): Promise<Run> {
    return exec('ovs-appctl', ['-t', this.switchProgram, ...args], this.env);
  }

  async stop(): Promise<void> {
    for (const p of this.procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      p.kill('SIGTERM');
      await waitFor(() => p.exitCode !== null || p.signalCode !== null, 'exit', 5000).catch(() => p.kill('SIGKILL'));
    }
    if (!process.env.TSW_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What the script observes; the parts OVS defines must be equal between the two switches. */
interface Observed {
  codes: number[];
  warnings: string[];
  ofports: Record<string, string>;
  errors: Record<string, string>;
  curCfgMatches: boolean;
  adminAfterDown: string;
  linkAfterDown: string;
  adminAfterUp: string;
  ofportAfterReadd: Record<string, string>;
  ofportAfterRequestChange: string;
  bridgesAtEnd: string;
  datapathId: string;
  bridgeUuid: string;
  maxCommandMs: number;
}

async function script(s: Stack): Promise<Observed> {
  const runs: Run[] = [];
  const step = async (...args: string[]): Promise<Run> => {
    const r = await s.vsctl(...args);
    runs.push(r);
    return r;
  };
  await step('add-br', 'br0');
  await step('add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=dummy', 'ofport_request=5');
  await step('add-port', 'br0', 'p2');
  await step('add-port', 'br0', 'p3', '--', 'set', 'Interface', 'p3', 'type=nosuchtype');
  await step('add-br', 'a/b');
  const ofports: Record<string, string> = {};
  const errors: Record<string, string> = {};
  for (const i of ['br0', 'p1', 'p2', 'p3']) {
    ofports[i] = await s.get('Interface', i, 'ofport');
    errors[i] = await s.get('Interface', i, 'error');
  }
  const datapathId = await s.get('Bridge', 'br0', 'datapath_id');
  const bridgeUuid = await s.get('Bridge', 'br0', '_uuid');
  const curCfgMatches = (await s.get('Open_vSwitch', '.', 'cur_cfg')) === (await s.get('Open_vSwitch', '.', 'next_cfg'));

  const down = await s.appctl('netdev-dummy/set-admin-state', 'p1', 'down');
  assert.equal(down.code, 0, down.stderr);
  // OVS writes link changes asynchronously; give either switch a moment.
  let adminAfterDown = '';
  for (let i = 0; i < 40 && adminAfterDown !== 'down'; i++) {
    adminAfterDown = await s.get('Interface', 'p1', 'admin_state');
    if (adminAfterDown !== 'down') await new Promise((r) => setTimeout(r, 50));
  }
  const linkAfterDown = await s.get('Interface', 'p1', 'link_state');
  await s.appctl('netdev-dummy/set-admin-state', 'p1', 'up');
  let adminAfterUp = '';
  for (let i = 0; i < 40 && adminAfterUp !== 'up'; i++) {
    adminAfterUp = await s.get('Interface', 'p1', 'admin_state');
    if (adminAfterUp !== 'up') await new Promise((r) => setTimeout(r, 50));
  }

  // A freed number is not handed out again right away.
  await step('del-port', 'br0', 'p2');
  await step('add-port', 'br0', 'p4');
  await step('add-port', 'br0', 'p2');
  const ofportAfterReadd = { p4: await s.get('Interface', 'p4', 'ofport'), p2: await s.get('Interface', 'p2', 'ofport') };
  await step('set', 'Interface', 'p4', 'ofport_request=7');
  const ofportAfterRequestChange = await s.get('Interface', 'p4', 'ofport');

  await step('del-br', 'br0');
  const bridgesAtEnd = (await s.vsctl('list-br')).stdout.trim();
  return {
    codes: runs.map((r) => r.code),
    warnings: runs.map((r) => r.stderr).filter((t) => t !== '').map((t) => t.replace(s.dir, 'DIR')),
    ofports, errors, curCfgMatches, adminAfterDown, linkAfterDown, adminAfterUp, ofportAfterReadd,
    ofportAfterRequestChange, bridgesAtEnd, datapathId, bridgeUuid, maxCommandMs: Math.max(...runs.map((r) => r.ms)),
  };
}

describe('tsw-vswitchd with the real ovs-vsctl, compared with ovs-vswitchd', { skip: missing.length ? `missing ${missing.join(', ')}` : false }, () => {
  const stacks = new Map<Kind, Stack>();
  const observed = new Map<Kind, Observed>();

  before(async () => {
    for (const kind of ['ovs', 'tsw'] as const) {
      const s = new Stack(kind);
      stacks.set(kind, s);
      await s.start();
      observed.set(kind, await script(s));
      if (process.env.TSW_SHOW) console.log(kind, JSON.stringify(observed.get(kind)));
    }
  });

  after(async () => {
    for (const s of stacks.values()) await s.stop();
  });

  it('ovs-vsctl returns promptly after every change (cur_cfg follows next_cfg)', () => {
    const o = observed.get('tsw')!;
    assert.deepEqual(o.codes, o.codes.map(() => 0));
    assert.ok(o.maxCommandMs < 5000, `slowest ovs-vsctl took ${o.maxCommandMs} ms`);
    assert.ok(o.curCfgMatches);
  });

  it('numbers ports as OVS does: requested, local 65534, automatic from 1, no quick reuse, request changes', () => {
    const o = observed.get('tsw')!;
    assert.deepEqual(o.ofports, { br0: '65534', p1: '5', p2: '1', p3: '-1' });
    assert.deepEqual(o.ofportAfterReadd, { p4: '2', p2: '3' });
    assert.equal(o.ofportAfterRequestChange, '7');
  });

  it('an unknown interface type gets OVS error text, and ovs-vsctl warns about it and about the refused bridge', () => {
    const o = observed.get('tsw')!;
    assert.equal(o.errors.p3, '"could not open network device p3 (Address family not supported by protocol)"');
    assert.equal(o.errors.p1, '[]');
    assert.match(o.warnings.join(''), /Error detected while setting up 'p3': could not open network device p3/);
    assert.match(o.warnings.join(''), /Error detected while setting up 'a\/b'\. {2}See ovs-vswitchd log for details\./);
  });

  it('refuses a bridge whose name has a slash, and says so in the log', () => {
    assert.match(stacks.get('tsw')!.switchLog, /ignoring bridge with invalid name "a\/b"/);
    assert.equal(observed.get('tsw')!.bridgesAtEnd, 'a/b');
  });

  it('datapath_id is 16 hex digits derived from the bridge uuid, by the same rule on both switches', () => {
    for (const kind of ['tsw', 'ovs'] as const) {
      const o = observed.get(kind)!;
      assert.match(o.datapathId, /^"[0-9a-f]{16}"$/);
      assert.equal(o.datapathId, `"${formatMac(macFromUuid(o.bridgeUuid)).replace(/:/g, '').padStart(16, '0')}"`, kind);
    }
  });

  it('netdev-dummy/set-admin-state reaches Interface admin_state and link_state', () => {
    const o = observed.get('tsw')!;
    assert.deepEqual([o.adminAfterDown, o.linkAfterDown, o.adminAfterUp], ['down', 'down', 'up']);
  });

  it('writes back what ovs-vswitchd writes back for the same script', () => {
    const t = observed.get('tsw')!;
    const r = observed.get('ovs')!;
    const pick = (o: Observed): unknown => ({
      codes: o.codes, warnings: o.warnings, ofports: o.ofports, errors: o.errors, cur: o.curCfgMatches,
      admin: [o.adminAfterDown, o.linkAfterDown, o.adminAfterUp], readd: o.ofportAfterReadd,
      req: o.ofportAfterRequestChange, end: o.bridgesAtEnd,
    });
    assert.deepEqual(pick(t), pick(r));
  });

  it('answers ovs-appctl -t tsw-vswitchd through the pidfile convention', async () => {
    const s = stacks.get('tsw')!;
    const v = await s.appctl('version');
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^tsw-vswitchd \(tsw\) \d+\.\d+\.\d+\n$/);
    const cov = await s.appctl('coverage/show');
    assert.match(cov.stdout, /^bridge_reconfigure\s+\S+\/sec\s+\S+\/sec\s+\S+\/sec\s+total: [1-9]\d*$/m);
    assert.match(cov.stdout, /^netdev_open\s.*total: [1-9]\d*$/m);
    const mem = await s.appctl('memory/show');
    assert.match(mem.stdout, /^bridges:0 idl-cells-Open_vSwitch:\d+ ports:0\n$/);
    const bad = await s.appctl('netdev-dummy/set-admin-state', 'nosuch', 'up');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown Dummy Interface/);
    const list = await s.appctl('list-commands');
    for (const c of ['coverage/show', 'exit', 'memory/show', 'netdev-dummy/set-admin-state', 'version', 'vlog/set']) {
      assert.match(list.stdout, new RegExp(`^  ${c} `, 'm'));
    }
  });
});
