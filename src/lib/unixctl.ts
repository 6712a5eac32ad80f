// The control socket `ovs-appctl` talks to (OVS lib/unixctl.c): JSON-RPC on a
// unix socket, one request at a time per connection, string arguments, and
// plain-text replies that always end in a newline.
import { isAbsolute } from 'node:path';
import type * as net from 'node:net';
import { absFileName, rundir } from './dirs.js';
import { JsonRpcConnection, JsonRpcError, type RequestMessage } from './jsonrpc.js';
import { readPidfile } from './pidfile.js';
import { programName } from './program.js';
import { connectStream, listenStream, type StreamListener } from './stream.js';
import { vlogModule } from './vlog.js';

const log = vlogModule('unixctl');

/** Returns the reply text (a missing trailing newline is added); throw to send an error reply. */
export type UnixctlHandler = (args: string[]) => string | void | Promise<string | void>;

/** Throw this (or any Error) from a handler; its message becomes the error reply. */
export class UnixctlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnixctlError';
  }
}

interface Command { usage: string | null; minArgs: number; maxArgs: number; handler: UnixctlHandler }

export interface UnixctlServerOptions {
  /** Socket path: null/undefined = `<rundir>/<program>.<pid>.ctl`, relative = in the rundir, "none" = no socket. */
  path?: string | null;
  program?: string;
  /** Printed by `version`: "<program> (<packageName>) <version>". */
  version?: string;
  packageName?: string;
}

function withNewline(text: string): string {
  return text !== '' && !text.endsWith('\n') ? `${text}\n` : text;
}

export function defaultUnixctlPath(program = programName()): string {
  return `${rundir()}/${program}.${process.pid}.ctl`;
}

export class UnixctlServer {
  private readonly commands = new Map<string, Command>();
  private readonly conns = new Set<JsonRpcConnection>();

  private constructor(private readonly listener: StreamListener | null, readonly path: string | null) {}

  static async create(options: UnixctlServerOptions = {}): Promise<UnixctlServer> {
    const program = options.program ?? programName();
    const path = options.path === 'none' ? null
      : options.path ? absFileName(rundir(), options.path) : defaultUnixctlPath(program);
    let server: UnixctlServer | null = null;
    const listener = path === null ? null
      : await listenStream(`punix:${path}`, (socket) => server?.accept(socket));
    server = new UnixctlServer(listener, path);
    server.register('list-commands', '', 0, 0, () => server.listCommands());
    const version = `${program} (${options.packageName ?? 'tsw'}) ${options.version ?? '0.0.0'}\n`;
    server.register('version', '', 0, 0, () => version);
    return server;
  }

  /**
   * Adds a command. `usage` null hides it from list-commands. The first
   * registration of a name wins, as in OVS. (The order (name, minArgs,
   * maxArgs, usage, handler) is accepted too.)
   */
  register(name: string, usage: string | null, minArgs: number, maxArgs: number, handler: UnixctlHandler): void;
  register(name: string, minArgs: number, maxArgs: number, usage: string | null, handler: UnixctlHandler): void;
  register(name: string, a: string | number | null, b: number, c: number | string | null, handler: UnixctlHandler): void {
    const [usage, minArgs, maxArgs] = typeof a === 'number'
      ? [c as string | null, a, b]
      : [a, b, c as number];
    if (this.commands.has(name)) return;
    this.commands.set(name, { usage, minArgs, maxArgs, handler });
  }

  listCommands(): string {
    const names = [...this.commands.keys()].sort();
    let out = 'The available commands are:\n';
    for (const name of names) {
      const usage = this.commands.get(name)!.usage;
      if (usage !== null) out += `  ${name.padEnd(23)} ${usage}\n`;
    }
    return out;
  }

  async close(): Promise<void> {
    for (const conn of this.conns) conn.close();
    await this.listener?.close();
  }

  private accept(socket: net.Socket): void {
    const conn = new JsonRpcConnection(socket, { name: `unixctl:${this.path}`, answerEcho: false });
    this.conns.add(conn);
    // OVS reads the next request only after replying to the current one.
    const queue: RequestMessage[] = [];
    let busy = false;
    const next = async (): Promise<void> => {
      busy = true;
      while (queue.length && conn.isOpen) {
        const req = queue.shift()!;
        const [ok, text] = await this.execute(req);
        if (ok) conn.reply(req.id, text);
        else conn.replyError(req.id, text);
        // Write now: a handler may have scheduled process exit (the "exit" command) for the next turn.
        conn.flush();
      }
      busy = false;
    };
    conn.on('request', (req) => {
      queue.push(req);
      if (!busy) void next();
    });
    conn.on('notify', (msg) => {
      log.warn(`${conn.name}: received unexpected notification "${msg.method}"`);
      conn.close();
    });
    conn.on('unmatched', () => conn.close());
    conn.on('close', () => this.conns.delete(conn));
  }

  private async execute(req: RequestMessage): Promise<[boolean, string]> {
    const { method, params } = req;
    const command = this.commands.get(method);
    if (!command) {
      return [false, withNewline(`"${method}" is not a valid command (use "list-commands" to see a list of valid commands)`)];
    }
    if (params.length < command.minArgs) {
      return [false, withNewline(`"${method}" command requires at least ${command.minArgs} arguments`)];
    }
    if (params.length > command.maxArgs) {
      return [false, withNewline(`"${method}" command takes at most ${command.maxArgs} arguments`)];
    }
    if (!params.every((p) => typeof p === 'string')) {
      return [false, withNewline(`"${method}" command has non-string argument`)];
    }
    log.dbg(`received request ${method}${JSON.stringify(params)}, id=${JSON.stringify(req.id)}`);
    try {
      const result = await command.handler(params as string[]);
      return [true, withNewline(result ?? '')];
    } catch (e) {
      return [false, withNewline(e instanceof Error ? e.message : String(e))];
    }
  }
}

/**
 * Where `ovs-appctl -t TARGET` would connect: TARGET itself if it is an
 * absolute path, else `<rundir>/TARGET.<pid>.ctl` with the pid from
 * `<rundir>/TARGET.pid` (throws PidfileError when that is not live).
 */
export function resolveAppctlTarget(target: string): string {
  if (isAbsolute(target)) return target;
  const pid = readPidfile(`${rundir()}/${target}.pid`);
  return `${rundir()}/${target}.${pid}.ctl`;
}

/**
 * Runs one command on a unixctl server at socket `path` and resolves with
 * its reply text. An error reply rejects with UnixctlError(text).
 */
export async function unixctlCall(path: string, method: string, args: string[] = [],
  options: { timeoutMs?: number } = {}): Promise<string> {
  const socket = await connectStream(`unix:${absFileName(rundir(), path)}`);
  const conn = new JsonRpcConnection(socket, { name: `unix:${path}`, answerEcho: false });
  const timer = options.timeoutMs
    ? setTimeout(() => conn.close(), options.timeoutMs)
    : null;
  try {
    const result = await conn.request(method, args);
    return typeof result === 'string' ? result : JSON.stringify(result);
  } catch (e) {
    if (e instanceof JsonRpcError && e.kind === 'remote') {
      throw new UnixctlError(typeof e.remoteError === 'string' ? e.remoteError : JSON.stringify(e.remoteError));
    }
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    conn.close();
  }
}
