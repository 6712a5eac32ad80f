// Shared by the db-server tests: start tsw-dbserver in a temp dir and talk
// raw JSON-RPC to it over its unix socket.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonStreamParser } from '../../src/lib/jsonrpc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'src/db/main.ts');
export const ZERO = '00000000-0000-0000-0000-000000000000';

/** A small schema that exercises scalars, optional values, sets, maps and references. */
export const TEST_SCHEMA = {
  name: 'T',
  version: '1.0.0',
  tables: {
    A: {
      columns: {
        n: { type: 'integer' },
        name: { type: 'string' },
        s: { type: { key: 'string', min: 0, max: 'unlimited' } },
        m: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        o: { type: { key: 'string', min: 0, max: 1 } },
      },
      isRoot: true,
    },
    B: { columns: { x: { type: 'integer' } }, isRoot: true },
  },
};

export function tool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export function runMain(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningServer {
  dir: string;
  sock: string;
  ctl: string;
  db: string;
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

async function waitFor(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Creates a database from `schema` and serves it on `<dir>/db.sock`. */
export async function startServer(
  opts: { schema?: object; schemaFile?: string; extraArgs?: string[]; dir?: string } = {},
): Promise<RunningServer> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tsw-'));
  const db = path.join(dir, 'conf.db');
  if (!fs.existsSync(db)) {
    let schemaFile = opts.schemaFile;
    if (!schemaFile) {
      schemaFile = path.join(dir, 'schema.ovsschema');
      fs.writeFileSync(schemaFile, JSON.stringify(opts.schema ?? TEST_SCHEMA));
    }
    const c = runMain(['create', db, schemaFile]);
    if (c.status !== 0) throw new Error(`create failed: ${c.stderr}`);
  }
  const sock = path.join(dir, 'db.sock');
  const ctl = path.join(dir, 'tsw-dbserver.ctl');
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, db, `--remote=punix:${sock}`, `--unixctl=${ctl}`, ...(opts.extraArgs ?? [])],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir } },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  proc.on('exit', () => (exited = true));
  await waitFor(() => exited || (fs.existsSync(sock) && fs.existsSync(ctl)), 'server socket');
  if (exited) throw new Error(`server exited: ${err}`);
  return {
    dir,
    sock,
    ctl,
    db,
    proc,
    stderr: () => err,
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        try {
          await waitFor(() => exited, 'server exit', 5000);
        } catch (e) {
          proc.kill('SIGKILL');
          throw e;
        }
      }
    },
  };
}

export type Msg = Record<string, unknown>;

/** A raw JSON-RPC client that records every message it receives, in order. */
export class RawClient {
  readonly received: Msg[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  private nextId = 100;

  private constructor(readonly socket: net.Socket) {
    const parser = new JsonStreamParser(1 << 30);
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk, (v) => {
        this.received.push(v as Msg);
      });
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(sock: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(sock, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(obj: unknown): void {
    this.socket.write(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Waits until a received message satisfies pred; returns its index. */
  async waitIndex(pred: (m: Msg) => boolean, ms = 5000): Promise<number> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return i;
      if (this.closed) throw new Error('connection closed while waiting');
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out; received: ${JSON.stringify(this.received)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async reply(id: unknown, ms = 5000): Promise<Msg> {
    const key = JSON.stringify(id);
    const i = await this.waitIndex((m) => m.method === undefined && JSON.stringify(m.id) === key, ms);
    return this.received[i]!;
  }

  /** Sends a request and returns the whole reply message. */
  async call(method: string, params: unknown[], id: unknown = this.nextId++): Promise<Msg> {
    this.send({ id, method, params });
    return this.reply(id);
  }

  /** Sends a request and returns its result, failing on an error reply. */
  async result(method: string, params: unknown[]): Promise<unknown> {
    const r = await this.call(method, params);
    if (r.error !== null) throw new Error(`${method} failed: ${JSON.stringify(r.error)}`);
    return r.result;
  }

  notifications(method?: string): Msg[] {
    return this.received.filter((m) => m.id === null && (method === undefined || m.method === method));
  }

  async waitClosed(ms = 5000): Promise<void> {
    await waitFor(() => this.closed, 'close', ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
