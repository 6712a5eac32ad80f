// Shared plumbing for the interop suite: start Debian's real ovsdb-server or
// tsw-dbserver on a fresh database, run the real OVS tools against it, and
// normalize their output so two servers can be compared line for line.
//
// The suite builds nothing: `npm test` builds first. When the tsw binaries
// are not built, the tsw half of a test is skipped with a reason.
//
// Environment knobs: TSW_INTEROP_SELFTEST=1 runs the real OVS programs in
// tsw's place (every comparison must then pass; checks the normalization),
// TSW_INTEROP_SHOW=1 prints the reference outputs, TSW_KEEP_TMP=1 keeps the
// temp dirs (databases, logs) for a look after a failure.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ServerKind = 'ovs' | 'tsw';
export const SERVER_KINDS: readonly ServerKind[] = ['ovs', 'tsw'];

/** The schema both servers are created from: ours if present, else Debian's. */
export function schemaPath(): string {
  const ours = join(repoRoot, 'schemas', 'vswitch.ovsschema');
  return existsSync(ours) ? ours : '/usr/share/openvswitch/vswitch.ovsschema';
}

export const tswDbserverBin = join(repoRoot, 'bin', 'tsw-dbserver');
export const tswVsctlBin = join(repoRoot, 'bin', 'tsw-vsctl');

/** How to run tsw-vsctl: the executable and the arguments before the user's. */
export function tswVsctlCommand(): { file: string; pre: string[] } {
  return selfTest ? { file: 'ovs-vsctl', pre: [] } : { file: process.execPath, pre: [tswVsctlBin] };
}

/**
 * TSW_INTEROP_SELFTEST=1 puts the real OVS programs in tsw's place, so a run
 * checks the harness itself: every comparison must then come out equal.
 */
export const selfTest = Boolean(process.env.TSW_INTEROP_SELFTEST);

/** Why the tsw-dbserver half cannot run, or null when it can. */
export function tswDbserverMissing(): string | null {
  if (selfTest) return null;
  return existsSync(join(repoRoot, 'dist', 'db', 'main.js'))
    ? null
    : 'tsw-dbserver is not built (dist/db/main.js missing; run `npm run build`)';
}

export function tswVsctlMissing(): string | null {
  if (selfTest) return null;
  return existsSync(join(repoRoot, 'dist', 'cli', 'vsctl', 'main.js'))
    ? null
    : 'tsw-vsctl is not built (dist/cli/vsctl/main.js missing; run `npm run build`)';
}

// ---------------------------------------------------------------- temp dirs

const tmpDirs: string[] = [];

export function makeTmpDir(tag = 'interop'): string {
  const dir = mkdtempSync(join(os.tmpdir(), `tsw-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}

/** Environment for the OVS tools: keep them away from /run and /etc. */
export function toolEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
}

// ------------------------------------------------------------ child process

export interface RunResult { stdout: string; stderr: string; code: number }

/** Exit status as a shell reports it: 128+signo for a signal death. */
function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal) return 128 + (os.constants.signals[signal] ?? 0);
  return -1;
}

export interface RunOptions { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string }

/** Runs a program to completion and captures everything it says. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const limit = opts.timeoutMs ?? 20_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: exitStatus(code, signal) });
    });
  });
}

/** Runs and insists on success; returns stdout. */
export async function runOk(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

// -------------------------------------------------------------------- servers

export interface Server {
  kind: ServerKind;
  dir: string;
  db: string;
  sock: string;
  /** `unix:SOCK`, what the tools take. */
  remote: string;
  ctl: string;
  log: string;
  pid: number;
  /** Everything the process wrote to stdout/stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after a grace period; resolves when gone. */
  stop(): Promise<void>;
  /** Sends a signal right away (e.g. SIGKILL for the crash tests). */
  kill(signal: NodeJS.Signals): void;
}

const liveServers = new Set<Server>();

/** Creates a database file from the schema, the way each implementation does it. */
export async function createDb(kind: ServerKind, db: string, schema = schemaPath()): Promise<void> {
  if (kind === 'ovs' || selfTest) await runOk('ovsdb-tool', ['create', db, schema]);
  else await runOk(process.execPath, [tswDbserverBin, 'create', db, schema]);
}

export interface StartOptions {
  /** Database file; default DIR/conf.db, created fresh when it does not exist. */
  db?: string;
  /** How long to wait for the socket to accept connections. */
  readyMs?: number;
  /** More command-line arguments (extra --remote=, SSL files), the same for both kinds. */
  extraArgs?: readonly string[];
}

/** Starts a server in the foreground (not --detach) so its pid is ours to stop. */
export async function startServer(kind: ServerKind, dir: string, opts: StartOptions = {}): Promise<Server> {
  const db = opts.db ?? join(dir, 'conf.db');
  if (!existsSync(db)) await createDb(kind, db);
  const sock = join(dir, 'db.sock');
  const ctl = join(dir, `${kind}.ctl`);
  const log = join(dir, `${kind}.log`);
  const pidfile = join(dir, `${kind}.pid`);
  rmSync(sock, { force: true });
  const flags = [db, `--remote=punix:${sock}`, `--pidfile=${pidfile}`, `--unixctl=${ctl}`, `--log-file=${log}`, ...(opts.extraArgs ?? [])];
  const child: ChildProcess = kind === 'ovs' || selfTest
    ? spawn('ovsdb-server', flags, { env: toolEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [tswDbserverBin, ...flags], { env: toolEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer): void => { if (output.length < 1_000_000) output += b.toString(); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let gone = false;
  const exited = new Promise<number>((res) => {
    child.on('exit', (code, signal) => { gone = true; res(exitStatus(code, signal)); });
    child.on('error', (e) => { gone = true; output += String(e); res(-1); });
  });
  const server: Server = {
    kind, dir, db, sock, remote: `unix:${sock}`, ctl, log,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    kill: (signal) => { if (!gone && child.pid) process.kill(child.pid, signal); },
    stop: async () => {
      liveServers.delete(server);
      if (gone) return;
      server.kill('SIGTERM');
      const t = setTimeout(() => server.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
  liveServers.add(server);
  const deadline = Date.now() + (opts.readyMs ?? 10_000);
  for (;;) {
    if (gone) {
      liveServers.delete(server);
      throw new Error(`${kind} server exited during startup:\n${output}${readLog(log)}`);
    }
    if (await canConnect(sock)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${kind} server did not listen on ${sock}:\n${output}${readLog(log)}`);
    }
    await sleep(20);
  }
}

/** Stops every server this process started and removes the temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...liveServers].map((s) => s.stop()));
  if (!process.env.TSW_KEEP_TMP) for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function readLog(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function canConnect(sock: string): Promise<boolean> {
  if (!existsSync(sock)) return Promise.resolve(false);
  return new Promise((res) => {
    const s = net.createConnection(sock);
    s.once('connect', () => { s.destroy(); res(true); });
    s.once('error', () => res(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// -------------------------------------------------------------- normalizing

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Replaces each distinct UUID by <0>, <1>, ... Row identities come first: a
 * UUID that starts a line (dump and monitor rows) or follows `_uuid :` (list
 * records) is numbered in line order; the rest in order of first appearance.
 * Sets print in UUID order, which differs between runs, so after numbering the
 * members of a UUID set are put in numeric order.
 */
export function normalizeUuids(text: string): string {
  const seen = new Map<string, number>();
  const number = (u: string): number => {
    const k = u.toLowerCase();
    let n = seen.get(k);
    if (n === undefined) { n = seen.size; seen.set(k, n); }
    return n;
  };
  for (const m of text.matchAll(/^(?:\s*_uuid\s*: )?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/gim)) {
    if (m[1] && m[1] !== ZERO_UUID) number(m[1]);
  }
  const numbered = text.replace(UUID_RE, (u) => (u.toLowerCase() === ZERO_UUID ? '<zero>' : `<${number(u)}>`));
  const byNum = (a: string, b: string): number => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]);
  return numbered
    .replace(/\[(<\d+>(?:, <\d+>)+)\]/g, (_m, list: string) => `[${list.split(', ').sort(byNum).join(', ')}]`)
    .replace(/\["set",\[(\["uuid","<\d+>"\](?:,\["uuid","<\d+>"\])+)\]\]/g,
      (_m, list: string) => `["set",[${(list.match(/\["uuid","<\d+>"\]/g) ?? []).sort(byNum).join(',')}]]`);
}

/** Log-line timestamps (`2026-01-02T03:04:05Z|00002|...`) become <time>. */
export function normalizeTimestamps(text: string): string {
  return text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');
}

/** Hides UUIDs entirely; only for choosing a deterministic order. */
export function maskUuids(text: string): string {
  return text.replace(UUID_RE, '<u>');
}

function byMasked(a: string, b: string): number {
  const ma = maskUuids(a);
  const mb = maskUuids(b);
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

/**
 * How to put an output in a canonical order before numbering UUIDs. OVS
 * prints rows, ports and bridges in UUID (hash) order, which differs between
 * any two runs, so order-only differences are not failures:
 * - records: `list`/`find` default format, records separated by blank lines
 * - rows: table/csv/bare output, one row per line (a header is kept first)
 * - json-rows: `--format=json` output, sort `data`
 * - tree: `show`, siblings of the same kind (Bridge/Port/Interface/...) sorted
 * - dump: `ovsdb-client dump`, rows sorted within each table
 */
export type OrderMode = 'records' | 'rows' | 'json-rows' | 'tree' | 'dump';

export function canonicalOrder(text: string, mode: OrderMode | undefined): string {
  switch (mode) {
    case undefined: return text;
    case 'records': return sortRecords(text);
    case 'rows': return sortRows(text);
    case 'json-rows': return sortJsonRows(text);
    case 'tree': return sortTree(text);
    case 'dump': return sortDump(text);
  }
}

function sortRecords(text: string): string {
  if (!text.trim()) return text;
  const records = text.replace(/\n+$/, '').split(/\n\n/);
  return records.sort(byMasked).join('\n\n') + '\n';
}

function sortRows(text: string): string {
  const lines = text.split('\n');
  const last = lines.pop(); // '' after a trailing newline
  // Keep header lines (table format: heading and dashes; csv: heading) first.
  let head = 0;
  if (lines.length > 1 && /^-+( -+)*$/.test(lines[1] ?? '')) head = 2;
  else if (lines.length > 0 && /^[a-z_:,]+$/.test(lines[0] ?? '') && lines[0]?.includes(',')) head = 1;
  return [...lines.slice(0, head), ...lines.slice(head).sort(byMasked), last].join('\n');
}

function sortJsonRows(text: string): string {
  return text.split('\n').map((line) => {
    if (!line.startsWith('{')) return line;
    try {
      const j = JSON.parse(line) as { data?: unknown[] };
      if (Array.isArray(j.data)) j.data = j.data.map((r) => JSON.stringify(r)).sort(byMasked).map((r) => JSON.parse(r) as unknown);
      return JSON.stringify(j);
    } catch {
      return line;
    }
  }).join('\n');
}

interface TreeNode { line: string; children: TreeNode[] }

const SORTED_KINDS = /^\s*(Bridge|Port|Interface|Controller|Manager) /;

function sortTree(text: string): string {
  const root: TreeNode = { line: '', children: [] };
  const stack: { indent: number; node: TreeNode }[] = [{ indent: -1, node: root }];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const indent = line.length - line.trimStart().length;
    while ((stack[stack.length - 1]?.indent ?? -1) >= indent) stack.pop();
    const node: TreeNode = { line, children: [] };
    stack[stack.length - 1]?.node.children.push(node);
    stack.push({ indent, node });
  }
  const render = (n: TreeNode): string => [n.line, ...n.children.map(render)].join('\n');
  const sortNode = (n: TreeNode): void => {
    n.children.forEach(sortNode);
    // Sort each run of same-kind siblings; leave attribute lines where they are.
    const out: TreeNode[] = [];
    let i = 0;
    while (i < n.children.length) {
      const kind = SORTED_KINDS.exec(n.children[i]?.line ?? '')?.[1];
      let j = i + 1;
      if (kind) while (j < n.children.length && SORTED_KINDS.exec(n.children[j]?.line ?? '')?.[1] === kind) j++;
      const run = n.children.slice(i, j);
      if (kind) run.sort((a, b) => byMasked(render(a), render(b)));
      out.push(...run);
      i = j;
    }
    n.children = out;
  };
  sortNode(root);
  return root.children.map(render).join('\n') + (text.endsWith('\n') ? '\n' : '');
}

function sortDump(text: string): string {
  // Blocks: "X table" line, heading, dashes, rows; blank line between tables.
  return text.split(/\n(?=\S+ table\n)/).map((block) => {
    const lines = block.split('\n');
    const head = lines.slice(0, 3);
    const rows = lines.slice(3).filter((l) => l !== '');
    const tail = block.endsWith('\n') ? [''] : [];
    return [...head, ...rows.sort(byMasked), ...tail].join('\n');
  }).join('\n');
}

/** Canonical form of one command's result, for comparing two runs. */
export function canonicalResult(r: RunResult, mode?: OrderMode, programRename?: [string, string]): RunResult {
  const fix = (s: string): string => {
    let t = s;
    if (programRename) t = t.split(programRename[0]).join(programRename[1]);
    return normalizeTimestamps(normalizeUuids(canonicalOrder(t, mode)));
  };
  return { stdout: fix(r.stdout), stderr: fix(r.stderr), code: r.code };
}

/** One entry per differing field, empty when a and b agree. */
export function diffResults(label: string, a: RunResult, b: RunResult, names: [string, string]): string[] {
  const out: string[] = [];
  if (a.code !== b.code) out.push(`${label}: exit code ${names[0]}=${a.code} ${names[1]}=${b.code}`);
  for (const f of ['stdout', 'stderr'] as const) {
    if (a[f] !== b[f]) out.push(`${label}: ${f} differs\n${diffText(a[f], b[f], names)}`);
  }
  return out;
}

/** Short texts whole; long ones as their first differing lines. */
export function diffText(a: string, b: string, names: [string, string]): string {
  if (a.length + b.length < 600) return `  ${names[0]}: ${JSON.stringify(a)}\n  ${names[1]}: ${JSON.stringify(b)}`;
  const la = a.split('\n');
  const lb = b.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(la.length, lb.length) && out.length < 8; i++) {
    if (la[i] === lb[i]) continue;
    out.push(`  line ${i + 1}\n    ${names[0]}: ${JSON.stringify(la[i] ?? '<none>')}\n    ${names[1]}: ${JSON.stringify(lb[i] ?? '<none>')}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------- JSON-RPC client

/** An error reply from the server, with the error object it sent. */
export class RpcError extends Error {
  constructor(readonly error: unknown) { super(`JSON-RPC error: ${JSON.stringify(error)}`); }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Pending { resolve: (v: Json) => void; reject: (e: Error) => void }

/**
 * A minimal OVSDB JSON-RPC 1.0 client written independently of tsw's own, so
 * tsw-dbserver is judged by a client that does not share its parser.
 * Messages are concatenated JSON objects; the splitter tracks braces and strings.
 */
export class RawClient {
  private buf = '';
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private closedError: Error | null = null;
  readonly notifications: { method: string; params: Json }[] = [];
  onNotify: ((method: string, params: Json) => void) | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.feed(chunk));
    const fail = (e: Error): void => {
      this.closedError ??= e;
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((res, rej) => {
      const s = net.createConnection(path);
      s.once('connect', () => res(new RawClient(s)));
      s.once('error', rej);
    });
  }

  request(method: string, params: Json[]): Promise<Json> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(String(id), { resolve: res, reject: rej });
      this.sock.write(JSON.stringify({ id, method, params }));
    });
  }

  /** A transact whose per-op errors are returned, not thrown. */
  transact(db: string, ...ops: Json[]): Promise<Json[]> {
    return this.request('transact', [db, ...ops]) as Promise<Json[]>;
  }

  close(): void { this.sock.destroy(); }

  private feed(chunk: string): void {
    this.buf += chunk;
    let depth = 0;
    let inStr = false;
    let esc = false;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (inStr) {
        if (esc) esc = false;
        else if (c === '\\') esc = true;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === '{' || c === '[') { if (depth++ === 0) start = i; }
      else if (c === '}' || c === ']') {
        if (--depth === 0) {
          this.dispatch(JSON.parse(this.buf.slice(start, i + 1)) as { [k: string]: Json });
          consumed = i + 1;
        }
      }
    }
    this.buf = this.buf.slice(consumed);
  }

  private dispatch(msg: { [k: string]: Json }): void {
    const id = msg.id ?? null;
    if (msg.method !== undefined && msg.method !== null) {
      if (id !== null && msg.method === 'echo') {
        this.sock.write(JSON.stringify({ id, result: msg.params, error: null }));
        return;
      }
      this.notifications.push({ method: String(msg.method), params: msg.params ?? null });
      this.onNotify?.(String(msg.method), msg.params ?? null);
      return;
    }
    const p = this.pending.get(String(id));
    if (!p) return;
    this.pending.delete(String(id));
    if (msg.error !== undefined && msg.error !== null) p.reject(new RpcError(msg.error));
    else p.resolve(msg.result ?? null);
  }
}

export type { Json };
