// JSON-RPC 1.0 as Open vSwitch speaks it: bare JSON objects concatenated on a
// byte stream, OVS's message validity rules, and OVS's exact send shapes
// (never a "jsonrpc" member). One JsonRpcConnection serves both the server
// side (ovsdb, unixctl) and the client side (IDL, appctl).
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { vlogModule } from './vlog.js';

const log = vlogModule('jsonrpc');

export interface RequestMessage { type: 'request'; method: string; params: unknown[]; id: unknown }
export interface NotifyMessage { type: 'notify'; method: string; params: unknown[] }
export interface ReplyMessage { type: 'reply'; result: unknown; id: unknown }
export interface ErrorMessage { type: 'error'; error: unknown; id: unknown }
export type JsonRpcMessage = RequestMessage | NotifyMessage | ReplyMessage | ErrorMessage;

export type JsonRpcErrorKind =
  | 'syntax'      // bytes on the wire are not JSON, or a top-level value is not an object
  | 'too-big'     // one message exceeds maxMessageBytes
  | 'protocol'    // valid JSON but not a valid JSON-RPC message by OVS's rules
  | 'timeout'     // inactivity probe unanswered
  | 'io'          // the stream failed
  | 'closed'      // the connection closed (pending requests are rejected with this)
  | 'remote';     // the peer answered a request with an error; see `remoteError`

export class JsonRpcError extends Error {
  constructor(readonly kind: JsonRpcErrorKind, message: string, readonly remoteError?: unknown) {
    super(message);
    this.name = 'JsonRpcError';
  }
}

// ---------------------------------------------------------------------------
// Framing

const WS_SPACE = 0x20, WS_TAB = 0x09, WS_LF = 0x0a, WS_CR = 0x0d;
const QUOTE = 0x22, BACKSLASH = 0x5c;
const LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;

/**
 * Splits a byte stream into top-level JSON objects. It only tracks string,
 * escape and nesting state, so each byte is looked at once however the
 * stream is chunked; JSON.parse then does the real parsing of each slice.
 */
export class JsonStreamParser {
  private parts: Buffer[] = [];   // earlier chunks of the value in progress
  private partsLen = 0;
  private inValue = false;
  private inString = false;
  private escaped = false;
  private depth = 0;

  constructor(readonly maxMessageBytes: number) {}

  /** True between messages (no partial value buffered). */
  get idle(): boolean {
    return !this.inValue;
  }

  /**
   * Feeds `chunk`, calling `onValue` for each complete object in order.
   * Stops early if `onValue` returns false. Throws JsonRpcError on bad input.
   */
  push(chunk: Buffer, onValue: (value: unknown) => boolean | void): void {
    const n = chunk.length;
    let start = 0;
    let { inValue, inString, escaped, depth } = this;
    let nextBackslash = -1;   // position of the next backslash at or after i (n = none); -1 = not yet searched
    // Hot loop: plain integer state in locals; string bodies are skipped with native indexOf.
    for (let i = 0; i < n; i++) {
      if (inString) {
        if (escaped) {
          escaped = false;
          continue;
        }
        if (nextBackslash < i) {
          nextBackslash = chunk.indexOf(BACKSLASH, i);
          if (nextBackslash < 0) nextBackslash = n;
        }
        let q = chunk.indexOf(QUOTE, i);
        if (q < 0) q = n;
        if (nextBackslash < q) {
          i = nextBackslash;
          escaped = true;
        } else if (q === n) {
          break;
        } else {
          i = q;
          inString = false;
        }
        continue;
      }
      const c = chunk[i];
      if (!inValue) {
        if (c === WS_SPACE || c === WS_LF || c === WS_CR || c === WS_TAB) continue;
        if (c !== LBRACE) {
          this.reset();
          throw new JsonRpcError('syntax', `expected a JSON object, got ${describeByte(c)}`);
        }
        inValue = true;
        depth = 1;
        start = i;
        continue;
      }
      if (c === QUOTE) {
        inString = true;
      } else if (c === LBRACE || c === LBRACKET) {
        depth++;
      } else if ((c === RBRACE || c === RBRACKET) && --depth === 0) {
        inValue = false;
        const size = this.partsLen + i + 1 - start;
        if (size > this.maxMessageBytes) {
          this.reset();
          throw tooBig(size, this.maxMessageBytes);
        }
        let text: string;
        if (this.partsLen === 0) {
          text = chunk.toString('utf8', start, i + 1);
        } else {
          this.parts.push(chunk.subarray(start, i + 1));
          text = Buffer.concat(this.parts, size).toString('utf8');
          this.parts = [];
          this.partsLen = 0;
        }
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (e) {
          this.reset();
          throw new JsonRpcError('syntax', `invalid JSON: ${(e as Error).message}`);
        }
        // Save state before the callback: it may close the connection and reset us.
        this.inValue = false; this.inString = false; this.escaped = false; this.depth = 0;
        if (onValue(value) === false) return;
      }
    }
    this.inValue = inValue; this.inString = inString; this.escaped = escaped; this.depth = depth;
    if (inValue) {
      this.parts.push(start === 0 ? chunk : chunk.subarray(start));
      this.partsLen += n - start;
      if (this.partsLen > this.maxMessageBytes) {
        const size = this.partsLen;
        this.reset();
        throw tooBig(size, this.maxMessageBytes);
      }
    }
  }

  reset(): void {
    this.parts = [];
    this.partsLen = 0;
    this.inValue = this.inString = this.escaped = false;
    this.depth = 0;
  }
}

function describeByte(c: number): string {
  return c >= 0x21 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function tooBig(size: number, max: number): JsonRpcError {
  return new JsonRpcError('too-big', `message of at least ${size} bytes exceeds the limit of ${max} bytes`);
}

// ---------------------------------------------------------------------------
// Message validation and serialization

const MEMBERS = new Set(['method', 'params', 'result', 'error', 'id']);

/** Classifies a parsed JSON value per OVS (null members count as absent), or throws JsonRpcError('protocol'). */
export function messageFromJson(json: unknown): JsonRpcMessage {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new JsonRpcError('protocol', 'message is not a JSON object');
  }
  const obj = json as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!MEMBERS.has(key)) throw new JsonRpcError('protocol', `message has unexpected member "${key}"`);
  }
  const method = obj.method;
  if (method !== undefined && typeof method !== 'string') {
    throw new JsonRpcError('protocol', 'method is not a JSON string');
  }
  const params = obj.params ?? undefined;
  const result = obj.result ?? undefined;
  const error = obj.error ?? undefined;
  const id = obj.id ?? undefined;
  if (params !== undefined && !Array.isArray(params)) {
    throw new JsonRpcError('protocol', '"params" must be JSON array');
  }
  const type = result !== undefined ? 'reply' : error !== undefined ? 'error' : id !== undefined ? 'request' : 'notification';
  // Which members each type must (true) or must not (false) have: method, params, result, error, id.
  const want = {
    request: [true, true, false, false, true],
    notification: [true, true, false, false, false],
    reply: [false, false, true, false, true],
    error: [false, false, false, true, true],
  }[type];
  const have = [method !== undefined, params !== undefined, result !== undefined, error !== undefined, id !== undefined];
  const names = ['method', 'params', 'result', 'error', 'id'];
  for (let i = 0; i < 5; i++) {
    if (have[i] !== want[i]) {
      throw new JsonRpcError('protocol', `${type} must${want[i] ? '' : ' not'} have "${names[i]}"`);
    }
  }
  switch (type) {
    case 'request': return { type, method: method as string, params: params as unknown[], id };
    case 'notification': return { type: 'notify', method: method as string, params: params as unknown[] };
    case 'reply': return { type, result, id };
    default: return { type: 'error', error, id };
  }
}

/** The exact JSON text OVS would send for `msg`. */
export function serializeMessage(msg: JsonRpcMessage): string {
  switch (msg.type) {
    case 'request': return JSON.stringify({ id: msg.id, method: msg.method, params: msg.params });
    case 'notify': return JSON.stringify({ id: null, method: msg.method, params: msg.params });
    case 'reply': return JSON.stringify({ id: msg.id, result: msg.result, error: null });
    case 'error': return JSON.stringify({ id: msg.id, error: msg.error });
  }
}

// ---------------------------------------------------------------------------
// Connection

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface JsonRpcConnectionOptions {
  /** Used in log messages, e.g. "unix:/run/openvswitch/db.sock" or "tcp:127.0.0.1:51234". */
  name?: string;
  /** Largest single message accepted; bigger ones close the connection. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Inactivity probe interval in ms; 0 (default) disables. OVS uses 5000 for tcp/ssl, 0 for unix. */
  probeIntervalMs?: number;
  /** Answer "echo" requests internally instead of emitting them. Default true. */
  answerEcho?: boolean;
}

export interface JsonRpcEvents {
  request: [RequestMessage];
  notify: [NotifyMessage];
  /** A reply or error whose id matches no outstanding request() (other than probe replies). */
  unmatched: [ReplyMessage | ErrorMessage];
  /** Emitted only when someone listens; the connection closes right after. */
  error: [JsonRpcError];
  /** Exactly once. `error` is null for an orderly close by either side. */
  close: [JsonRpcError | null];
}

interface Pending { resolve(value: unknown): void; reject(error: JsonRpcError): void; method: string }

/** Request ids are integers from one process-wide counter, as in OVS's C library. */
let nextRequestId = 1;

export class JsonRpcConnection extends EventEmitter<JsonRpcEvents> {
  readonly name: string;
  readonly stream: Duplex;
  private readonly parser: JsonStreamParser;
  private readonly answerEcho: boolean;
  private readonly pending = new Map<number, Pending>();
  private outQueue: string[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private closedError: JsonRpcError | null | undefined = undefined;   // undefined while open
  private probeIntervalMs: number;
  private probeTimer: NodeJS.Timeout | null = null;
  private lastRx = Date.now();
  private probeSentAt = 0;   // 0 = no probe outstanding

  constructor(stream: Duplex, options: JsonRpcConnectionOptions = {}) {
    super();
    this.stream = stream;
    this.name = options.name ?? 'jsonrpc';
    this.parser = new JsonStreamParser(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.answerEcho = options.answerEcho ?? true;
    this.probeIntervalMs = options.probeIntervalMs ?? 0;
    stream.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('end', () => this.shutdown(null, true));
    stream.on('close', () => this.shutdown(null, false));
    stream.on('error', (e: Error) => this.fail(new JsonRpcError('io', `${this.name}: ${e.message}`)));
    this.armProbe();
  }

  get isOpen(): boolean {
    return this.closedError === undefined;
  }

  /** Bytes queued and not yet accepted by the OS; lets a server throttle a slow reader. */
  get backlog(): number {
    return this.outBytes + this.stream.writableLength;
  }

  setProbeInterval(ms: number): void {
    this.probeIntervalMs = ms;
    this.armProbe();
  }

  send(msg: JsonRpcMessage): void {
    this.sendRaw(serializeMessage(msg));
  }

  /** Queues already-serialized JSON text (one complete message). Dropped if closed. */
  sendRaw(text: string): void {
    if (!this.isOpen) return;
    this.outQueue.push(text);
    this.outBytes += text.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Batch everything produced in this event-loop turn into one write.
      setImmediate(() => this.flush());
    }
  }

  reply(id: unknown, result: unknown): void {
    if (result === null || result === undefined) {
      throw new TypeError('a JSON-RPC reply needs a non-null result (OVS would read it as a malformed request)');
    }
    this.send({ type: 'reply', id, result });
  }

  replyError(id: unknown, error: unknown): void {
    this.send({ type: 'error', id, error: error ?? '' });
  }

  notify(method: string, params: unknown[]): void {
    this.send({ type: 'notify', method, params });
  }

  /** Sends a request and resolves with its result; rejects with JsonRpcError ('remote' for error replies). */
  request(method: string, params: unknown[]): Promise<unknown> {
    if (!this.isOpen) {
      return Promise.reject(new JsonRpcError('closed', `${this.name}: connection closed`));
    }
    const id = nextRequestId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.send({ type: 'request', method, params, id });
    });
  }

  /** Flushes queued output, then closes. Idempotent. */
  close(): void {
    this.shutdown(null, true);
  }

  /** Hands queued output to the stream now instead of at the end of this event-loop turn. */
  flush(): void {
    this.flushScheduled = false;
    if (this.outQueue.length === 0 || this.stream.destroyed || !this.stream.writable) {
      this.outQueue = [];
      this.outBytes = 0;
      return;
    }
    const text = this.outQueue.length === 1 ? this.outQueue[0] : this.outQueue.join('');
    this.outQueue = [];
    this.outBytes = 0;
    this.stream.write(text);
  }

  private onData(chunk: Buffer): void {
    if (!this.isOpen) return;
    this.lastRx = Date.now();
    this.probeSentAt = 0;
    try {
      this.parser.push(chunk, (value) => {
        this.dispatch(messageFromJson(value));
        return this.isOpen;
      });
    } catch (e) {
      if (e instanceof JsonRpcError) {
        this.fail(new JsonRpcError(e.kind, `${this.name}: ${e.message}`, e.remoteError));
      } else {
        // A handler threw: that is a bug in the handler, but must not take down the event loop.
        const msg = e instanceof Error ? e.message : String(e);
        log.err(`${this.name}: message handler failed: ${msg}`);
        this.fail(new JsonRpcError('io', `${this.name}: message handler failed: ${msg}`));
      }
    }
  }

  private dispatch(msg: JsonRpcMessage): void {
    switch (msg.type) {
      case 'request':
        if (this.answerEcho && msg.method === 'echo') {
          this.reply(msg.id, msg.params);
        } else {
          this.emit('request', msg);
        }
        break;
      case 'notify':
        this.emit('notify', msg);
        break;
      case 'reply':
      case 'error': {
        const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
        if (p) {
          this.pending.delete(msg.id as number);
          if (msg.type === 'reply') p.resolve(msg.result);
          else p.reject(new JsonRpcError('remote', `${p.method}: ${describeRemote(msg.error)}`, msg.error));
        } else if (msg.id !== 'echo') {
          log.dbg(`${this.name}: received ${msg.type} with unknown id ${JSON.stringify(msg.id)}`);
          this.emit('unmatched', msg);
        }
        break;
      }
    }
  }

  private fail(error: JsonRpcError): void {
    if (!this.isOpen) return;
    log.warn(error.message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.shutdown(error, false);
  }

  /** Closes once; `graceful` lets queued output reach the peer first. */
  private shutdown(error: JsonRpcError | null, graceful: boolean): void {
    if (!this.isOpen) return;
    this.closedError = error;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (graceful) {
      this.flush();
      if (!this.stream.destroyed) {
        this.stream.end();
        // Don't wait for the peer to close its half: OVS closes the whole socket.
        this.stream.once('finish', () => this.stream.destroy());
      }
    } else {
      this.outQueue = [];
      this.outBytes = 0;
      this.stream.destroy();
    }
    const closed = new JsonRpcError('closed', `${this.name}: connection closed${error ? ` (${error.message})` : ''}`);
    for (const p of this.pending.values()) p.reject(closed);
    this.pending.clear();
    this.emit('close', error);
  }

  private armProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (this.probeIntervalMs > 0 && this.isOpen) this.scheduleProbe(this.probeIntervalMs);
  }

  private scheduleProbe(ms: number): void {
    this.probeTimer = setTimeout(() => this.probeTick(), Math.max(ms, 1));
    this.probeTimer.unref();
  }

  private probeTick(): void {
    this.probeTimer = null;
    if (!this.isOpen || this.probeIntervalMs <= 0) return;
    const now = Date.now();
    const interval = this.probeIntervalMs;
    if (this.probeSentAt === 0) {
      const idle = now - this.lastRx;
      if (idle < interval) {
        this.scheduleProbe(interval - idle);
        return;
      }
      log.dbg(`${this.name}: idle ${idle} ms, sending inactivity probe`);
      this.probeSentAt = now;
      this.sendRaw('{"id":"echo","method":"echo","params":[]}');
      this.scheduleProbe(interval);
    } else if (now - this.probeSentAt >= interval) {
      this.fail(new JsonRpcError('timeout',
        `${this.name}: no response to inactivity probe after ${(interval / 1000).toFixed(3).replace(/\.?0+$/, '')} seconds, disconnecting`));
    } else {
      this.scheduleProbe(interval - (now - this.probeSentAt));
    }
  }
}

function describeRemote(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && typeof (error as { error?: unknown }).error === 'string') {
    const e = error as { error: string; details?: unknown };
    return typeof e.details === 'string' ? `${e.error}: ${e.details}` : e.error;
  }
  return JSON.stringify(error);
}

export { connectStream, listenStream, parseActiveTarget, parsePassiveTarget } from './stream.js';
export type { StreamTarget, PassiveTarget, TlsFiles, StreamListener } from './stream.js';
