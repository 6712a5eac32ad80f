// OpenFlow connections for tsw-ofctl, as ovs-ofctl opens and uses them:
// the target lookup (vconn name, socket file, RUNDIR/NAME.mgmt), the HELLO
// exchange, and the request patterns (transact, request + barrier, dumps of
// multipart replies). Every message takes its xid from one process-wide
// counter, as OVS's alloc_xid does, so the xids ovs-ofctl prints come out the same.

import { existsSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import {
  OfFramer, decodeMessage, encodeMessage, helloVersions, makeHello, OFPMPF_REPLY_MORE,
  type MessageOf, type MultipartReply, type MultipartRequest, type OfMessage,
} from '../../openflow/index.js';
import { ofpToString } from '../../openflow/print/index.js';
import { rundir } from '../../lib/dirs.js';
import { ErrnoError, fatal, protocolOfVersion, run, type Io, type OfctlOptions } from './common.js';
import { flowFormatter } from './text.js';

let nextXid = 1;

/** The next xid (OVS numbers every message it builds from 1). */
export function allocXid(): number {
  return nextXid++;
}

/** A message value without an xid gets the next one. */
export type Unsent = OfMessage extends infer M ? M extends OfMessage ? Omit<M, 'xid'> & { xid?: number } : never : never;

function leftmostBit(x: number): number {
  return 31 - Math.clz32(x);
}

function hex2(v: number): string {
  return `0x${v.toString(16).padStart(2, '0')}`;
}

/** The version set words OVS's vconn warning uses. */
function describeVersions(bitmap: number): string {
  if ((bitmap & (bitmap - 1)) === 0) return `version ${hex2(leftmostBit(bitmap))}`;
  const x = (bitmap >>> 1) + 1;
  if ((x & (x - 1)) === 0) return `version ${hex2(leftmostBit(bitmap))} and earlier`;
  const parts: string[] = [];
  for (let v = 0; v < 32; v++) if (bitmap & (1 << v)) parts.push(hex2(v));
  return `versions ${parts.join(', ')}`;
}

/** A vlog line on the console (stderr), as OVS writes warnings: time|seq|module|level|text. */
export function vlogWarn(io: Io, module: string, text: string): void {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  io.err(`${t}|00001|${module}|WARN|${text}\n`);
}

interface Endpoint { path: string }
type Where = Endpoint | { host: string; port: number };

/** Parses an active vconn name (unix:PATH, tcp:HOST[:PORT]); other kinds cannot be reached from here. */
function parseVconnName(name: string): Where {
  const colon = name.indexOf(':');
  const kind = name.slice(0, colon);
  const rest = name.slice(colon + 1);
  if (kind === 'unix') return { path: rest };
  if (kind === 'tcp') {
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(rest);
    if (!m || !m[1]) throw new ErrnoError('EINVAL');
    return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 6653 };
  }
  throw new ErrnoError('EAFNOSUPPORT');
}

function connectSocket(where: Where): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = 'path' in where ? net.createConnection(where.path) : net.createConnection(where.port, where.host);
    const onError = (e: NodeJS.ErrnoException) => reject(new ErrnoError(e.code ?? 'EPROTO'));
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

/** One OpenFlow connection after the HELLO exchange. */
export class Vconn {
  private readonly framer = new OfFramer();
  private readonly queue: Uint8Array[] = [];
  private waiter: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  private failure: ErrnoError | undefined;

  private constructor(readonly name: string, private readonly sock: net.Socket, public version: number) {
    sock.on('data', (b: Buffer) => {
      let msgs: Uint8Array[];
      try {
        msgs = this.framer.push(new Uint8Array(b));
      } catch {
        this.fail(new ErrnoError('EPROTO'));
        return;
      }
      for (const m of msgs) {
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          w.resolve(m);
        } else {
          this.queue.push(m);
        }
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => this.fail(new ErrnoError(e.code ?? 'EPROTO')));
    sock.on('close', () => this.fail(new ErrnoError('EOF')));
  }

  private fail(e: ErrnoError): void {
    this.failure ??= e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }

  /**
   * Connects to `name` (a vconn name such as unix:PATH or tcp:HOST:PORT) and
   * exchanges HELLOs offering `versions`. `anyVersion` (snoop) accepts
   * messages of every version afterwards.
   */
  static async connect(name: string, versions: number, io: Io, sockName = name): Promise<Vconn> {
    const sock = await connectSocket(parseVconnName(name));
    const v = new Vconn(name, sock, 0);
    v.sendRaw(encodeMessage(makeHello(versions, allocXid())));
    let hello: OfMessage;
    try {
      hello = decodeMessage(await v.recv());
    } catch (e) {
      v.close();
      if (e instanceof ErrnoError) fatal(`${sockName}: failed to connect to socket (${e.message})`);
      fatal(`${sockName}: failed to connect to socket (Protocol error)`);
    }
    if (hello.kind !== 'HELLO') {
      v.close();
      fatal(`${sockName}: failed to connect to socket (Protocol error)`);
    }
    const peer = helloVersions(hello as MessageOf<'HELLO'>);
    const common = versions & peer;
    if (!common) {
      vlogWarn(io, 'vconn', `${name}: version negotiation failed (we support ${describeVersions(versions)}, peer supports ${describeVersions(peer)})`);
      v.close();
      fatal(`${sockName}: failed to connect to socket (Protocol error)`);
    }
    v.version = leftmostBit(common);
    return v;
  }

  sendRaw(bytes: Uint8Array): void {
    if (this.failure) throw this.failure;
    this.sock.write(bytes);
  }

  /** Sends a message in this connection's version; returns its xid. */
  send(m: Unsent): number {
    const xid = m.xid ?? allocXid();
    this.sendRaw(encodeMessage({ ...m, version: this.version, xid } as OfMessage));
    return xid;
  }

  recv(): Promise<Uint8Array> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  /** Receives until a message with `xid` arrives (others are dropped, as vconn_recv_xid does). */
  async recvXid(xid: number): Promise<Uint8Array> {
    for (;;) {
      const b = await this.recv();
      if (xidOf(b) === xid) return b;
    }
  }

  /** vconn_transact: the request, then its reply. */
  async transact(m: Unsent): Promise<Uint8Array> {
    return this.recvXid(this.send(m));
  }

  /** vconn_transact_noreply: the request and a barrier; the request's reply (an error) if one came first. */
  async transactNoReply(m: Unsent | Uint8Array): Promise<Uint8Array | undefined> {
    let xid: number;
    if (m instanceof Uint8Array) {
      xid = xidOf(m);
      this.sendRaw(m);
    } else {
      xid = this.send(m);
    }
    const barrier = this.send({ version: this.version, kind: 'BARRIER_REQUEST', body: {} });
    let reply: Uint8Array | undefined;
    for (;;) {
      const b = await this.recv();
      const x = xidOf(b);
      if (x === xid) reply = b;
      else if (x === barrier) return reply;
    }
  }

  close(): void {
    this.failure ??= new ErrnoError('EOF');
    this.sock.destroy();
  }
}

export function xidOf(b: Uint8Array): number {
  return ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** open_vconn_socket: ENOENT means "try the next place"; any other failure is fatal. */
async function tryUnix(path: string, versions: number, io: Io, name: string): Promise<Vconn | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return await Vconn.connect(`unix:${path}`, versions, io, name);
  } catch (e) {
    if (e instanceof ErrnoError) {
      if (e.code === 'ENOENT') return undefined;
      fatal(`${path}: failed to open socket (${e.message})`);
    }
    throw e;
  }
}

/**
 * open_vconn: NAME with ':' is a vconn name; otherwise NAME as a socket file,
 * then RUNDIR/NAME.mgmt (or .snoop), then RUNDIR/DPNAME.mgmt for "type@name".
 */
export async function openVconn(name: string, o: OfctlOptions, io: Io, suffix: 'mgmt' | 'snoop' = 'mgmt'): Promise<Vconn> {
  if (name.includes(':')) {
    return run(Vconn.connect(name, o.versions, io), `connecting to ${name}`);
  }
  const dp = name.includes('@') ? name.slice(name.indexOf('@') + 1) : name;
  for (const path of [name, join(rundir(), `${name}.${suffix}`), join(rundir(), `${dp}.${suffix}`)]) {
    if (path === name && !isSocket(path) && !existsSync(path)) continue;
    const v = await tryUnix(path, o.versions, io, name);
    if (v) return v;
  }
  fatal(`${name} is not a bridge or a socket`);
}

/** The protocol a just-opened connection speaks. */
export function vconnProtocol(v: Vconn): number {
  return protocolOfVersion(v.version);
}

/** ofp_print: a message as ovs-ofctl prints it at `verbosity`. */
export function printMessage(b: Uint8Array, verbosity: number): string {
  return ofpToString(b, verbosity, flowFormatter);
}

/** The multipart reply kind a request expects, and whether a message is such a reply. */
function isReplyTo(b: Uint8Array, req: MultipartRequest): { ok: boolean; more: boolean; error: boolean } {
  let m: OfMessage;
  try {
    m = decodeMessage(b);
  } catch {
    return { ok: false, more: false, error: false };
  }
  if (m.kind === 'ERROR') return { ok: false, more: false, error: true };
  if (m.kind !== 'MULTIPART_REPLY') return { ok: false, more: false, error: false };
  const rep = m.body as MultipartReply;
  return { ok: rep.stat === req.stat, more: (rep.flags & OFPMPF_REPLY_MORE) !== 0, error: false };
}

/**
 * dump_transaction: sends a request and prints every reply to it; a
 * multipart request's replies until one without MORE (or an error).
 */
export async function dumpTransaction(v: Vconn, m: Unsent, o: OfctlOptions, io: Io): Promise<void> {
  if (m.kind !== 'MULTIPART_REQUEST') {
    const reply = await run(v.transact(m), `talking to ${v.name}`);
    io.out(printMessage(reply, o.verbosity + 1));
    return;
  }
  const xid = v.send(m);
  for (;;) {
    const b = await run(v.recv(), 'OpenFlow packet receive failed');
    if (xidOf(b) !== xid) continue;
    const r = isReplyTo(b, m.body);
    if (r.error || r.ok) io.out(printMessage(b, o.verbosity + 1));
    if (r.error) return;
    if (!r.ok) fatal(`received bad reply: ${printMessage(b, o.verbosity + 1)}`);
    if (!r.more) return;
  }
}

/**
 * Sends a request and gathers its multipart replies (reassembled), failing
 * with "received bad reply" on anything else. Errors come back as the raw message.
 */
export async function collectMultipart(v: Vconn, m: Unsent, o: OfctlOptions): Promise<{ parts: MultipartReply[]; error?: Uint8Array }> {
  const xid = v.send(m);
  const parts: MultipartReply[] = [];
  for (;;) {
    const b = await run(v.recv(), 'OpenFlow receive failed');
    if (xidOf(b) !== xid) continue;
    let msg: OfMessage;
    try {
      msg = decodeMessage(b);
    } catch {
      fatal(`received bad reply: ${printMessage(b, o.verbosity + 1)}`);
    }
    if (msg.kind === 'ERROR') return { parts, error: b };
    if (msg.kind !== 'MULTIPART_REPLY' || (m.kind === 'MULTIPART_REQUEST' && msg.body.stat !== m.body.stat)) {
      fatal(`received bad reply: ${printMessage(b, o.verbosity + 1)}`);
    }
    parts.push(msg.body);
    if (!(msg.body.flags & OFPMPF_REPLY_MORE)) return { parts };
  }
}

/** transact_noreply: a request and a barrier; an error reply is printed to stderr and is fatal. */
export async function transactNoReply(v: Vconn, m: Unsent | Uint8Array, o: OfctlOptions, io: Io): Promise<void> {
  const reply = await run(v.transactNoReply(m), `talking to ${v.name}`);
  if (reply) {
    io.err(printMessage(reply, o.verbosity + 2));
    throw new ExitStatus(1);
  }
}

/** Ends the command with a status and no message (what was to say is already printed). */
export class ExitStatus extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}
