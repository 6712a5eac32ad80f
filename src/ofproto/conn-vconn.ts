// One OpenFlow byte stream after it is open (OVS's vconn): our HELLO goes
// out first, the peer's HELLO picks the version (or gets HELLO_FAILED and the
// stream closes), then whole messages come up one by one. A message in
// another version than the negotiated one gets OFPBRC_BAD_VERSION and is
// dropped, except HELLO, ERROR and ECHO, as OVS does.

import type * as net from 'node:net';
import {
  OfError, OfFramer, SUPPORTED_VERSIONS, decodeMessage, encodeMessage, errorReply, makeHello, negotiateVersion, type MessageOf,
} from '../openflow/index.js';

/** Messages handled per turn of the event loop before yielding (OVS: 50 per ofconn_run). */
const MAX_PER_TURN = 50;
/** Stop reading from a peer that does not read our replies once this much is unsent (OVS: 100 replies). */
const MAX_UNSENT_BYTES = 1 << 20;

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ENOENT: 'No such file or directory',
  ETIMEDOUT: 'Connection timed out',
  EPIPE: 'Broken pipe',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EACCES: 'Permission denied',
  EPROTO: 'Protocol error',
  ENOTSOCK: 'Socket operation on non-socket',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

/** An error as OVS's ovs_retval_to_string prints it (Controller.status:last_error). */
export function errorText(e: unknown): string {
  if (e === 'EOF') return 'End of file';
  if (typeof e === 'string') return ERRNO_TEXT[e] ?? e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && ERRNO_TEXT[code]) return ERRNO_TEXT[code]!;
  return e instanceof Error ? e.message : String(e);
}

/** xids of the HELLOs and probes we originate; OVS numbers them from one counter too. */
let nextXid = 1;
export function newXid(): number {
  const x = nextXid;
  nextXid = (nextXid + 1) >>> 0 || 1;
  return x;
}

export interface VconnEvents {
  /** Version negotiation succeeded. */
  connected(version: number): void;
  /** One whole message in the negotiated version (or HELLO/ERROR/ECHO in any). */
  message(raw: Uint8Array): void;
  /** The stream is gone; `error` says why ('EOF' for a clean close by the peer). */
  closed(error: string): void;
}

export class Vconn {
  /** Negotiated version, -1 until then. */
  version = -1;
  private readonly framer = new OfFramer();
  private readonly pending: Uint8Array[] = [];
  private draining = false;
  private done = false;
  private paused = false;

  constructor(
    readonly socket: net.Socket,
    /** Versions we allow (bit v = wire version v), as Bridge.protocols says. */
    private readonly allowed: number,
    private readonly events: VconnEvents,
    readonly name: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.finish(errorText(e)));
    socket.on('close', () => this.finish('EOF'));
    socket.on('drain', () => this.maybeResume());
    this.write(encodeMessage(makeHello(allowed, newXid())));
  }

  get isConnected(): boolean {
    return this.version > 0 && !this.done;
  }

  get isClosed(): boolean {
    return this.done;
  }

  /** Bytes written but not yet taken by the kernel. */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /** Queues bytes; `onSent` runs once the kernel has them. False when the stream is closed. */
  write(bytes: Uint8Array, onSent?: () => void): boolean {
    if (this.done || this.socket.destroyed) return false;
    this.socket.write(bytes, onSent ? () => onSent() : undefined);
    return true;
  }

  /** Closes the stream after what was written goes out; `error` becomes the close reason. */
  close(error = 'EOF'): void {
    if (this.done) return;
    this.socket.end();
    // A peer that never reads must not keep the socket alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish(error);
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    let msgs: Uint8Array[];
    try {
      msgs = this.framer.push(chunk);
    } catch {
      this.abort('EPROTO');
      return;
    }
    for (const m of msgs) this.pending.push(m);
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    let n = 0;
    // Stop early too when the peer is not reading our replies, so one slow reader cannot make us queue without bound.
    while (this.pending.length && !this.done && n < MAX_PER_TURN && this.socket.writableLength <= MAX_UNSENT_BYTES) {
      const raw = this.pending.shift()!;
      n++;
      if (this.version < 0) this.receiveHello(raw);
      else this.receive(raw);
    }
    this.draining = false;
    if (this.done) return;
    if (this.socket.writableLength > MAX_UNSENT_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (this.pending.length && !this.paused) setImmediate(() => this.drain());
  }

  private maybeResume(): void {
    if (!this.paused || this.done) return;
    this.paused = false;
    this.socket.resume();
    if (this.pending.length) setImmediate(() => this.drain());
  }

  private receiveHello(raw: Uint8Array): void {
    let hello: MessageOf<'HELLO'>;
    try {
      const m = decodeMessage(raw);
      if (m.kind !== 'HELLO') throw new OfError('OFPBRC_BAD_TYPE', `${m.kind} while expecting hello`);
      hello = m;
    } catch {
      // OVS: "received message while expecting hello", the stream is dropped.
      this.abort('EPROTO');
      return;
    }
    const n = negotiateVersion(this.allowed & SUPPORTED_VERSIONS, hello);
    if (!n.ok) {
      this.write(encodeMessage(n.error));
      this.close('EPROTO');
      return;
    }
    this.version = n.version;
    this.events.connected(n.version);
  }

  private receive(raw: Uint8Array): void {
    const v = raw[0]!;
    const type = raw[1]!;
    // HELLO, ERROR, ECHO_REQUEST and ECHO_REPLY have the same numbers in every version.
    if (v !== this.version && type > 3) {
      this.write(encodeMessage(errorReply(new OfError('OFPBRC_BAD_VERSION'), raw.subarray(0, 64))));
      return;
    }
    this.events.message(raw);
  }

  private abort(error: string): void {
    if (this.done) return;
    this.socket.destroy();
    this.finish(error);
  }

  private finish(error: string): void {
    if (this.done) return;
    this.done = true;
    this.pending.length = 0;
    this.events.closed(error);
  }
}
