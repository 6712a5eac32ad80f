// A scriptable OpenFlow controller for tests: listens on TCP (loopback) or a
// unix socket, accepts the switch's connection, and lets a scenario send
// messages and wait for the ones it expects, decoded with tsw's codec.

import * as net from 'node:net';
import {
  OfFramer, decodeMessage, encodeMessage, type MessageKind, type OfMessage,
} from '../../src/openflow/index.js';

export interface ControllerConn {
  /** Every message received so far, in order. */
  readonly received: OfMessage[];
  send(m: OfMessage): void;
  sendRaw(bytes: Uint8Array): void;
  /** The next received message (after those already taken) that satisfies `pred`. */
  next<K extends MessageKind>(kind: K, pred?: (m: Extract<OfMessage, { kind: K }>) => boolean, ms?: number): Promise<Extract<OfMessage, { kind: K }>>;
  /** Resolves when the switch closes the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
  /** Answer ECHO_REQUEST automatically (default on). */
  autoEcho: boolean;
}

export interface FakeController {
  /** `tcp:127.0.0.1:PORT` or `unix:PATH`: what to put in Controller.target. */
  readonly target: string;
  /** The next connection from the switch. */
  accept(ms?: number): Promise<ControllerConn>;
  close(): Promise<void>;
}

function wrap(sock: net.Socket): ControllerConn {
  const framer = new OfFramer();
  const received: OfMessage[] = [];
  const waiters: Array<() => void> = [];
  let closed = false;
  const taken = 0;
  const closedP = new Promise<void>((res) => sock.once('close', () => { closed = true; res(); waiters.splice(0).forEach((w) => w()); }));
  const conn: ControllerConn = {
    received,
    autoEcho: true,
    send: (m) => { if (!closed) sock.write(encodeMessage(m)); },
    sendRaw: (b) => { if (!closed) sock.write(b); },
    closed: closedP,
    isClosed: () => closed,
    close: () => sock.destroy(),
    next: (kind, pred, ms = 10_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${kind} within ${ms} ms; got ${received.slice(taken).map((m) => m.kind).join(', ')}`)), ms);
      const check = (): void => {
        for (let i = taken; i < received.length; i++) {
          const m = received[i]!;
          if (m.kind === kind && (!pred || pred(m as never))) {
            received.splice(i, 1);
            clearTimeout(timer);
            resolve(m as never);
            return;
          }
        }
        if (closed) {
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${kind}`));
          return;
        }
        waiters.push(check);
      };
      check();
    }),
  };
  sock.on('data', (chunk: Buffer) => {
    for (const raw of framer.push(new Uint8Array(chunk))) {
      const m = decodeMessage(raw);
      if (m.kind === 'ECHO_REQUEST' && conn.autoEcho) {
        conn.send({ version: m.version, xid: m.xid, kind: 'ECHO_REPLY', body: m.body });
        continue;
      }
      received.push(m);
    }
    waiters.splice(0).forEach((w) => w());
  });
  sock.on('error', () => undefined);
  return conn;
}

/** Starts listening; `path` for a unix socket, else an ephemeral loopback TCP port. */
export async function startFakeController(path?: string): Promise<FakeController> {
  // Wrapped at once, so nothing the switch sends before accept() is lost.
  const pending: ControllerConn[] = [];
  const waiting: Array<(c: ControllerConn) => void> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    const c = wrap(s);
    const w = waiting.shift();
    if (w) w(c);
    else pending.push(c);
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    if (path) server.listen(path, res);
    else server.listen(0, '127.0.0.1', res);
  });
  const addr = server.address();
  const target = path ? `unix:${path}` : `tcp:127.0.0.1:${(addr as net.AddressInfo).port}`;
  return {
    target,
    accept: (ms = 15_000) => new Promise((resolve, reject) => {
      const c = pending.shift();
      if (c) return resolve(c);
      const timer = setTimeout(() => reject(new Error(`no switch connected to ${target} within ${ms} ms`)), ms);
      waiting.push((conn) => { clearTimeout(timer); resolve(conn); });
    }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
