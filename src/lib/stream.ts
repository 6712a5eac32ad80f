// OVS stream targets: active "unix:PATH", "tcp:HOST[:PORT]", "ssl:HOST[:PORT]"
// and passive "punix:PATH", "ptcp:[PORT][:IP]", "pssl:[PORT][:IP]".
// IPv6 addresses go in brackets ("tcp:[::1]:6640").
import { chmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { addExitHook } from './fatal-signal.js';

export type StreamTarget =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp' | 'ssl'; host: string; port: number };

export type PassiveTarget =
  | { kind: 'punix'; path: string }
  | { kind: 'ptcp' | 'pssl'; host: string; port: number };

/** Paths of PEM files, as given by --private-key, --certificate, --ca-cert. */
export interface TlsFiles { privateKey?: string; certificate?: string; caCert?: string }

export class StreamTargetError extends Error {
  constructor(readonly target: string, reason: string) {
    super(`${target}: ${reason}`);
    this.name = 'StreamTargetError';
  }
}

/** OVSDB's IANA port, the default for tcp:/ssl: targets without one. */
export const OVSDB_PORT = 6640;

function parsePort(target: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new StreamTargetError(target, `bad port number "${text}"`);
  return Number(text);
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function parseActiveTarget(target: string, defaultPort = OVSDB_PORT): StreamTarget {
  const colon = target.indexOf(':');
  const kind = colon < 0 ? '' : target.slice(0, colon);
  const rest = target.slice(colon + 1);
  if (kind === 'unix') {
    if (!rest) throw new StreamTargetError(target, 'missing socket path');
    return { kind, path: rest };
  }
  if (kind !== 'tcp' && kind !== 'ssl') throw new StreamTargetError(target, 'unknown stream type (expected unix:, tcp: or ssl:)');
  let host: string;
  let port = defaultPort;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new StreamTargetError(target, 'missing "]" after IPv6 address');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new StreamTargetError(target, 'expected ":PORT" after "]"');
      port = parsePort(target, after.slice(1));
    }
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    host = rest;   // a bare IPv6 address without a port
  } else {
    const c = rest.indexOf(':');
    host = c < 0 ? rest : rest.slice(0, c);
    if (c >= 0) port = parsePort(target, rest.slice(c + 1));
  }
  if (!host) throw new StreamTargetError(target, 'missing host');
  return { kind, host, port };
}

export function parsePassiveTarget(target: string, defaultPort = OVSDB_PORT): PassiveTarget {
  const colon = target.indexOf(':');
  const kind = colon < 0 ? target : target.slice(0, colon);
  const rest = colon < 0 ? '' : target.slice(colon + 1);
  if (kind === 'punix') {
    if (!rest) throw new StreamTargetError(target, 'missing socket path');
    return { kind, path: rest };
  }
  if (kind !== 'ptcp' && kind !== 'pssl') {
    throw new StreamTargetError(target, 'unknown stream type (expected punix:, ptcp: or pssl:)');
  }
  const c = rest.indexOf(':');
  const portText = c < 0 ? rest : rest.slice(0, c);
  const port = portText === '' ? defaultPort : parsePort(target, portText);
  const host = c < 0 ? '0.0.0.0' : unbracket(rest.slice(c + 1)) || '0.0.0.0';
  return { kind, host, port };
}

function loadTls(files: TlsFiles | undefined, target: string, server: boolean): tls.SecureContextOptions {
  const need = (path: string | undefined, what: string): Buffer => {
    if (!path) throw new StreamTargetError(target, `SSL connections need ${what}`);
    return readFileSync(path);
  };
  return {
    key: need(files?.privateKey, 'a private key (--private-key)'),
    cert: need(files?.certificate, 'a certificate (--certificate)'),
    ca: need(files?.caCert, server ? 'a CA certificate to verify clients (--ca-cert)' : 'a CA certificate (--ca-cert)'),
  };
}

export interface ConnectOptions { tls?: TlsFiles; defaultPort?: number }

/**
 * Opens an active connection and resolves once it is established (for ssl:,
 * after the handshake). The peer certificate must chain to the CA; like OVS,
 * the host name is not checked against it.
 */
export function connectStream(target: string, options: ConnectOptions = {}): Promise<net.Socket> {
  let t: StreamTarget;
  let secure: tls.SecureContextOptions | null = null;
  try {
    t = parseActiveTarget(target, options.defaultPort);
    if (t.kind === 'ssl') secure = loadTls(options.tls, target, false);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const onError = (e: Error): void => reject(e);
    if (t.kind === 'unix') {
      socket = net.connect({ path: t.path }, () => { socket.off('error', onError); resolve(socket); });
    } else if (t.kind === 'tcp') {
      socket = net.connect({ host: t.host, port: t.port }, () => {
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(socket);
      });
    } else {
      socket = tls.connect({ host: t.host, port: t.port, ...secure, rejectUnauthorized: true,
        checkServerIdentity: () => undefined }, () => { socket.off('error', onError); resolve(socket); });
    }
    socket.once('error', onError);
  });
}

export interface ListenOptions {
  tls?: TlsFiles;
  defaultPort?: number;
  /** Permissions of a punix socket file. Default 0o750, as OVS. */
  mode?: number;
}

export interface StreamListener {
  readonly server: net.Server;
  readonly target: PassiveTarget;
  /** The bound name in OVS syntax, with the real port: "ptcp:41234:127.0.0.1", "punix:/run/x.sock". */
  readonly boundName: string;
  /** Stops listening; a punix socket file is removed. */
  close(): Promise<void>;
}

/** Starts listening. `onConnection` gets each accepted stream (after the TLS handshake for pssl:). */
export function listenStream(target: string, onConnection: (socket: net.Socket) => void,
  options: ListenOptions = {}): Promise<StreamListener> {
  let t: PassiveTarget;
  let secure: tls.SecureContextOptions | null = null;
  try {
    t = parsePassiveTarget(target, options.defaultPort);
    if (t.kind === 'pssl') secure = loadTls(options.tls, target, true);
  } catch (e) {
    return Promise.reject(e);
  }
  const server: net.Server = t.kind === 'pssl'
    ? tls.createServer({ ...secure, requestCert: true, rejectUnauthorized: true }, onConnection)
    : net.createServer(onConnection);
  if (t.kind === 'ptcp') server.on('connection', (s: net.Socket) => s.setNoDelay(true));
  // A failed TLS handshake must not bring the listener down.
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (boundName: string, cleanup: () => void): void => {
      server.off('error', reject);
      server.on('error', () => undefined);
      const removeHook = addExitHook(cleanup);
      resolve({
        server, target: t, boundName,
        close: () => new Promise<void>((res) => {
          removeHook();
          server.close(() => res());
          cleanup();
        }),
      });
    };
    if (t.kind === 'punix') {
      const path = t.path;
      removeStaleSocket(path);
      server.listen(path, () => {
        try {
          chmodSync(path, options.mode ?? 0o750);
        } catch (e) {
          server.close();
          reject(e);
          return;
        }
        done(`punix:${path}`, () => { try { unlinkSync(path); } catch { /* already gone */ } });
      });
    } else {
      server.listen(t.port, t.host, () => {
        const addr = server.address() as net.AddressInfo;
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        done(`${t.kind}:${addr.port}:${host}`, () => undefined);
      });
    }
  });
}

/** OVS unlinks whatever is at a punix path before binding; we only remove sockets, never regular files. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there.
  }
}
