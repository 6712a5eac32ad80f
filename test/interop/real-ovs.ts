// A real Open vSwitch stack (Debian's ovsdb-server and ovs-vswitchd) in a
// temp dir, with no kernel module: every bridge uses the userspace datapath
// (datapath_type=netdev). The same scenario scripts can then run against
// real OVS and against tsw and be compared.
//
// Both daemons run in the foreground (no --detach), so their pids are ours:
// stop() ends exactly those two processes and nothing else. A process 'exit'
// hook kills whatever a crashed test left behind.
//
// With `dummy` (the default) ovs-vswitchd runs with --enable-dummy=override:
// every netdev class, the bridge's internal port included, becomes a
// netdev-dummy, so nothing appears in the host's network namespace, and
// packets are injected with `ovs-appctl netdev-dummy/receive PORT PACKET`.
// With `dummy: false` the internal port is a real tap device, so only use it
// inside a network namespace of your own.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunResult { stdout: string; stderr: string; code: number }

export interface RealOvsOptions {
  /** Bridges to create, each with datapath_type=netdev. */
  bridges?: readonly string[];
  /** Run ovs-vswitchd with --enable-dummy=override (default true). */
  dummy?: boolean;
  /** Ports to add per bridge: `type=dummy` (with `dummy`), ofport_request 1, 2, ... in list order. */
  ports?: Readonly<Record<string, readonly string[]>>;
  /** Bridge `protocols` column, e.g. ['OpenFlow13']; default: OVS's default (1.0 to 1.5). */
  protocols?: readonly string[];
  /**
   * Fixed datapath ids (`other-config:datapath-id`), default bridge i gets
   * 000000000000000(i+1), so dpids are the same in every run. Pass false for
   * OVS's own (random MAC based) choice.
   */
  fixedDatapathIds?: boolean;
  /** Parent of the temp dir; default os.tmpdir(). */
  tmpRoot?: string;
  /** Keep the temp dir after stop() (for a look at the logs). Also TSW_KEEP_TMP=1. */
  keep?: boolean;
  /** Extra ovs-vswitchd arguments (e.g. -vconnmgr:file:dbg). */
  vswitchdArgs?: readonly string[];
  /**
   * Which switch daemon serves the bridges: Debian's ovs-vswitchd (default) or
   * tsw-vswitchd (bin/tsw-vswitchd, needs `npm run build`), with the same
   * arguments, database server and tools, so one scenario runs against both.
   */
  impl?: SwitchImpl;
  /**
   * Database server: Debian's ovsdb-server (default) or tsw-dbserver
   * (bin/tsw-dbserver, needs `npm run build`), same arguments either way.
   */
  dbserver?: SwitchImpl;
  /**
   * Run the switch daemon inside this network namespace (`ip netns exec`,
   * which execs, so the pid stays ours). A netdev datapath creates a tap named
   * ovs-netdev, so each non-dummy switch belongs in a namespace of its own.
   */
  netns?: string;
}

export type SwitchImpl = 'ovs' | 'tsw';
export const SWITCH_IMPLS: readonly SwitchImpl[] = ['ovs', 'tsw'];
const TSW_VSWITCHD = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsw-vswitchd');
const TSW_DBSERVER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsw-dbserver');

export interface RealOvs {
  /** The temp dir: OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR and OVS_SYSCONFDIR all point here. */
  rundir: string;
  /** Environment that makes the OVS tools find this stack. */
  env: NodeJS.ProcessEnv;
  /** `unix:RUNDIR/db.sock`. */
  dbRemote: string;
  /** unixctl socket paths (for `ovs-appctl -t`). */
  ctl: { ovsdbServer: string; vswitchd: string };
  logs: { ovsdbServer: string; vswitchd: string };
  pids: { ovsdbServer: number; vswitchd: number };
  /** `RUNDIR/BRIDGE.mgmt`, the service socket ovs-ofctl reaches by bridge name. */
  mgmt(bridge: string): string;
  vsctl(args: readonly string[], opts?: ToolOptions): Promise<RunResult>;
  ofctl(args: readonly string[], opts?: ToolOptions): Promise<RunResult>;
  /** ovs-appctl against ovs-vswitchd (use `-t` in args for another target). */
  appctl(args: readonly string[], opts?: ToolOptions): Promise<RunResult>;
  /** Any program with this stack's environment. */
  run(file: string, args: readonly string[], opts?: ToolOptions): Promise<RunResult>;
  /** What the daemons wrote to stdout/stderr, and their log files. */
  diagnostics(): string;
  /** SIGTERM both daemons (SIGKILL after 3 s); resolves when both are gone; removes the temp dir. */
  stop(): Promise<void>;
}

export interface ToolOptions { timeoutMs?: number; input?: string }

const DEBIAN_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** Why a real OVS stack cannot be started here, or null when it can. */
export function realOvsMissing(): string | null {
  for (const tool of ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl', 'ovs-appctl']) {
    if (!onPath(tool)) return `${tool} is not installed (apt-get install openvswitch-switch)`;
  }
  if (!existsSync(DEBIAN_SCHEMA)) return `${DEBIAN_SCHEMA} is missing`;
  return null;
}

export function onPath(tool: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => d !== '' && existsSync(join(d, tool)));
}

/** Exit status as a shell reports it: 128+signo for a signal death. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal) return 128 + (os.constants.signals[signal] ?? 0);
  return -1;
}

/** Runs a program to completion and captures everything it says. */
export function runTool(file: string, args: readonly string[], env: NodeJS.ProcessEnv, opts: ToolOptions = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: exitStatus(code, signal) });
    });
  });
}

/** The stdout of a successful run; otherwise an error that shows what the tool said. */
export function okOutput(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

// ------------------------------------------------------------------ daemons

interface Daemon { name: string; child: ChildProcess; output(): string; exited: Promise<number>; gone(): boolean }

const live = new Set<Daemon>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for a test that died before stop(): our own pids only.
  process.on('exit', () => {
    for (const d of live) if (!d.gone() && d.child.pid) { try { process.kill(d.child.pid, 'SIGKILL'); } catch { /* already gone */ } }
  });
}

function startDaemon(name: string, file: string, args: readonly string[], env: NodeJS.ProcessEnv): Daemon {
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer): void => { if (output.length < 200_000) output += b.toString(); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let gone = false;
  const exited = new Promise<number>((res) => {
    child.on('exit', (code, signal) => { gone = true; res(exitStatus(code, signal)); });
    child.on('error', (e) => { gone = true; output += `${String(e)}\n`; res(-1); });
  });
  const d: Daemon = { name, child, output: () => output, exited, gone: () => gone };
  live.add(d);
  installExitHook();
  return d;
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (!d.gone() && d.child.pid) {
    d.child.kill('SIGTERM');
    const t = setTimeout(() => { if (!d.gone()) d.child.kill('SIGKILL'); }, 3000);
    await d.exited;
    clearTimeout(t);
  }
  live.delete(d);
}

function canConnect(sock: string): Promise<boolean> {
  if (!existsSync(sock)) return Promise.resolve(false);
  return new Promise((res) => {
    const s = net.createConnection(sock);
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what: string, d: Daemon, ready: () => Promise<boolean>, diag: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (d.gone()) throw new Error(`${d.name} exited during startup:\n${diag()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${ms} ms:\n${diag()}`);
    await sleep(20);
  }
}

function readLog(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

// -------------------------------------------------------------------- stack

/** Starts ovsdb-server and ovs-vswitchd on a fresh database and creates the bridges. */
export async function startRealOvs(opts: RealOvsOptions = {}): Promise<RealOvs> {
  const missing = realOvsMissing();
  if (missing) throw new Error(missing);
  const dummy = opts.dummy ?? true;
  const rundir = mkdtempSync(join(opts.tmpRoot ?? os.tmpdir(), 'tsw-realovs-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir, OVS_SYSCONFDIR: rundir,
  };
  const db = join(rundir, 'conf.db');
  const sock = join(rundir, 'db.sock');
  const ctl = { ovsdbServer: join(rundir, 'ovsdb-server.ctl'), vswitchd: join(rundir, 'ovs-vswitchd.ctl') };
  const logs = { ovsdbServer: join(rundir, 'ovsdb-server.log'), vswitchd: join(rundir, 'ovs-vswitchd.log') };
  const daemons: Daemon[] = [];
  const diagnostics = (): string => daemons.map((d) => `--- ${d.name} output\n${d.output()}`).join('')
    + `--- ovsdb-server.log\n${readLog(logs.ovsdbServer)}--- ovs-vswitchd.log\n${readLog(logs.vswitchd)}`;
  const keep = opts.keep ?? Boolean(process.env.TSW_KEEP_TMP);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // vswitchd first, so it does not spin reconnecting to a vanished database.
    for (const d of [...daemons].reverse()) await stopDaemon(d);
    if (!keep) rmSync(rundir, { recursive: true, force: true });
  };
  const run = (file: string, args: readonly string[], o?: ToolOptions): Promise<RunResult> => runTool(file, args, env, o);
  const vsctl = (args: readonly string[], o?: ToolOptions): Promise<RunResult> =>
    run('ovs-vsctl', [`--db=unix:${sock}`, '--timeout=20', ...args], o);
  const ofctl = (args: readonly string[], o?: ToolOptions): Promise<RunResult> => run('ovs-ofctl', ['--timeout=20', ...args], o);
  const appctl = (args: readonly string[], o?: ToolOptions): Promise<RunResult> =>
    run('ovs-appctl', args[0] === '-t' || args[0]?.startsWith('--target') ? args : ['-t', ctl.vswitchd, ...args], o);

  try {
    const tswDb = opts.dbserver === 'tsw';
    okOutput(await (tswDb ? run(process.execPath, [TSW_DBSERVER, 'create', db, DEBIAN_SCHEMA])
      : run('ovsdb-tool', ['create', db, DEBIAN_SCHEMA])), 'create the database');
    const server = startDaemon(tswDb ? 'tsw-dbserver' : 'ovsdb-server', tswDb ? process.execPath : 'ovsdb-server', [
      ...(tswDb ? [TSW_DBSERVER] : []),
      db, `--remote=punix:${sock}`, `--pidfile=${join(rundir, 'ovsdb-server.pid')}`,
      `--unixctl=${ctl.ovsdbServer}`, `--log-file=${logs.ovsdbServer}`,
    ], env);
    daemons.push(server);
    await waitFor(sock, server, () => canConnect(sock), diagnostics);
    okOutput(await vsctl(['--no-wait', 'init']), 'ovs-vsctl init');

    const tsw = opts.impl === 'tsw';
    const daemonFile = tsw ? TSW_VSWITCHD : 'ovs-vswitchd';
    const vswitchd = startDaemon(tsw ? 'tsw-vswitchd' : 'ovs-vswitchd', opts.netns ? 'ip' : daemonFile, [
      ...(opts.netns ? ['netns', 'exec', opts.netns, daemonFile] : []), `unix:${sock}`, `--pidfile=${join(rundir, 'ovs-vswitchd.pid')}`, `--unixctl=${ctl.vswitchd}`,
      `--log-file=${logs.vswitchd}`, ...(dummy ? ['--enable-dummy=override'] : []), ...(opts.vswitchdArgs ?? []),
    ], env);
    daemons.push(vswitchd);
    await waitFor(ctl.vswitchd, vswitchd, () => canConnect(ctl.vswitchd), diagnostics);

    const fixedIds = opts.fixedDatapathIds ?? true;
    const cmd: string[] = [];
    (opts.bridges ?? []).forEach((br, i) => {
      cmd.push('--', 'add-br', br, '--', 'set', 'Bridge', br, 'datapath_type=netdev');
      if (fixedIds) cmd.push(`other-config:datapath-id=${(i + 1).toString(16).padStart(16, '0')}`);
      if (opts.protocols) cmd.push(`protocols=${opts.protocols.join(',')}`);
      (opts.ports?.[br] ?? []).forEach((port, j) => {
        cmd.push('--', 'add-port', br, port, '--', 'set', 'Interface', port, `ofport_request=${j + 1}`);
        if (dummy) cmd.push('type=dummy');
      });
    });
    // Without --no-wait, ovs-vsctl waits for vswitchd to apply it (cur_cfg).
    if (cmd.length) okOutput(await vsctl(cmd), `ovs-vsctl ${cmd.join(' ')}`);
    for (const br of opts.bridges ?? []) {
      const mgmt = join(rundir, `${br}.mgmt`);
      await waitFor(mgmt, vswitchd, () => canConnect(mgmt), diagnostics);
    }
    return {
      rundir, env, dbRemote: `unix:${sock}`, ctl, logs,
      pids: { ovsdbServer: server.child.pid ?? -1, vswitchd: vswitchd.child.pid ?? -1 },
      mgmt: (br) => join(rundir, `${br}.mgmt`),
      vsctl, ofctl, appctl, run, diagnostics, stop,
    };
  } catch (e) {
    const diag = diagnostics();
    await stop();
    throw e instanceof Error && !e.message.includes('--- ') ? new Error(`${e.message}\n${diag}`) : e;
  }
}
