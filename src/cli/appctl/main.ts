// tsw-appctl: ovs-appctl for tsw. Sends one command to a daemon's unixctl
// socket (JSON-RPC) and prints the reply: the result on stdout (exit 0), or
// the error on stderr followed by "TARGET: server returned an error" (exit 2).
// The target is a pidfile name in the run directory (TARGET.pid names the
// pid of TARGET.<pid>.ctl) or an absolute socket path; default ovs-vswitchd.

import { PidfileError, UnixctlError, absFileName, readPidfile, rundir, unixctlCall } from '../../lib/index.js';

const PROGRAM = 'tsw-appctl';

class AppctlError extends Error {
  constructor(message: string, readonly status = 1) {
    super(message);
  }
}

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory', ECONNREFUSED: 'Connection refused', ECONNRESET: 'Connection reset by peer',
  EACCES: 'Permission denied', ENOTSOCK: 'Socket operation on non-socket', ESRCH: 'No such process', EPIPE: 'Broken pipe',
  ENOTDIR: 'Not a directory', EPROTO: 'Protocol error',
};

export interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
}

const USAGE = `${PROGRAM}, for querying and controlling tsw and Open vSwitch daemons
usage: ${PROGRAM} [TARGET] COMMAND [ARG...]
Targets:
  -t, --target=TARGET  pidfile or socket to contact
Common commands:
  list-commands      List commands supported by the target
  version            Print version of the target
  vlog/list          List current logging levels
  vlog/list-pattern  List logging patterns for each destination.
  vlog/set [SPEC]
      Set log levels as detailed in SPEC, which may include:
      A valid module name (all modules, by default)
      'syslog', 'console', 'file' (all destinations, by default))
      'off', 'emer', 'err', 'warn', 'info', or 'dbg' ('dbg', bydefault)
  vlog/reopen        Make the program reopen its log file
Other options:
  --timeout=SECS     wait at most SECS seconds for a response
  -h, --help         Print this helpful information
  -V, --version      Display ${PROGRAM} version information
`;

interface Parsed { target: string; timeout: number; command: string[]; exit?: number }

const LONG: Record<string, 'req' | 'opt' | 'none'> = {
  target: 'req', execute: 'none', help: 'none', option: 'none', version: 'none', timeout: 'req', verbose: 'opt', 'log-file': 'opt',
};
const SHORT: Record<string, string> = { t: 'target', e: 'execute', h: 'help', o: 'option', V: 'version', T: 'timeout', v: 'verbose' };

/** getopt_long with "+": options end at the first non-option (the command). */
function parse(argv: string[], io: Output): Parsed {
  let target: string | undefined;
  let timeout = 0;
  let executes = 0;
  const apply = (name: string, value: string | undefined): number | undefined => {
    switch (name) {
      case 'target':
        if (target !== undefined) throw new AppctlError('-t or --target may be specified only once');
        target = value;
        break;
      case 'execute':
        if (executes++) throw new AppctlError('-e or --execute may be speciifed only once');
        break;
      case 'help': io.out(USAGE); return 0;
      case 'option':
        for (const [n, k] of Object.entries(LONG)) io.out(`--${n}${k === 'req' ? '=ARG' : k === 'opt' ? '[=ARG]' : ''}\n`);
        return 0;
      case 'version': io.out(`${PROGRAM} (tsw) 0.1.0\n`); return 0;
      case 'timeout':
        timeout = /^\d+$/.test(value ?? '') ? Number(value) : 0;
        if (!timeout) throw new AppctlError(`value ${value} on -T or --timeout is invalid`);
        break;
      default: break; // -v/--verbose, --log-file: logging of this client, which prints nothing else
    }
    return undefined;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    let status: number | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const given = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const names = LONG[given] ? [given] : Object.keys(LONG).filter((n) => n.startsWith(given));
      if (names.length !== 1) throw new AppctlError(names.length ? `option '${a}' is ambiguous` : `unrecognized option '${a}'`);
      const kind = LONG[names[0]];
      let value = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (kind === 'none' && value !== undefined) throw new AppctlError(`option '--${names[0]}' doesn't allow an argument`);
      if (kind === 'req' && value === undefined) {
        if (i + 1 >= argv.length) throw new AppctlError(`option '--${names[0]}' requires an argument`);
        value = argv[++i];
      }
      status = apply(names[0], value);
    } else {
      for (let j = 1; j < a.length && status === undefined; j++) {
        const name = SHORT[a[j]];
        if (!name) throw new AppctlError(`invalid option -- '${a[j]}'`);
        if (LONG[name] === 'none') {
          status = apply(name, undefined);
          continue;
        }
        let value: string | undefined = a.slice(j + 1) || undefined;
        if (LONG[name] === 'req' && value === undefined) {
          if (i + 1 >= argv.length) throw new AppctlError(`option requires an argument -- '${a[j]}'`);
          value = argv[++i];
        }
        status = apply(name, value);
        break;
      }
    }
    if (status !== undefined) return { target: '', timeout, command: [], exit: status };
  }
  const command = argv.slice(i);
  if (!command.length) throw new AppctlError('at least one non-option argument is required (use --help for help)');
  return { target: target ?? 'ovs-vswitchd', timeout, command };
}

/** The socket for a target: an absolute path as is, else RUNDIR/TARGET.<pid>.ctl from RUNDIR/TARGET.pid. */
function socketOf(target: string, io: Output): string {
  if (target.startsWith('/')) return target;
  const pidfile = `${rundir()}/${target}.pid`;
  try {
    return `${rundir()}/${target}.${readPidfile(pidfile)}.ctl`;
  } catch (e) {
    if (e instanceof PidfileError) {
      // read_pidfile logs a missing file before the fatal message.
      if (e.code === 'ENOENT') {
        const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        io.err(`${t}|00001|daemon_unix|WARN|${pidfile}: open: No such file or directory\n`);
      }
      throw new AppctlError(e.message);
    }
    throw e;
  }
}

/** Runs one command line; resolves with the exit status. */
export async function run(argv: string[], io: Output): Promise<number> {
  try {
    const p = parse(argv, io);
    if (p.exit !== undefined) return p.exit;
    const socket = socketOf(p.target, io);
    const [method, ...params] = p.command;
    let result: string;
    try {
      result = await unixctlCall(absFileName(rundir(), socket), method, params);
    } catch (e) {
      if (e instanceof UnixctlError) {
        io.err(e.message);
        io.err(`${PROGRAM}: ${p.target}: server returned an error\n`);
        return 2;
      }
      const code = (e as NodeJS.ErrnoException).code;
      if (code && ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'ENOTDIR'].includes(code)) {
        // unixctl_client_create logs the failure before the fatal message.
        io.err(`${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}|00001|unixctl|WARN|failed to connect to ${socket}\n`);
        throw new AppctlError(`cannot connect to "${socket}" (${STRERROR[code] ?? code})`);
      }
      throw new AppctlError(`${p.target}: transaction error (${(code && STRERROR[code]) ?? (e as Error).message})`);
    }
    io.out(result);
    return 0;
  } catch (e) {
    if (e instanceof AppctlError) {
      io.err(`${PROGRAM}: ${e.message}\n`);
      return e.status;
    }
    throw e;
  }
}

export function main(argv: string[]): void {
  const timeout = timeoutOf(argv);
  // --timeout: like ovs-appctl, die of SIGALRM when the time is up.
  const timer = timeout ? setTimeout(() => process.kill(process.pid, 'SIGALRM'), timeout * 1000) : undefined;
  void run(argv, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }).then((status) => {
    if (timer) clearTimeout(timer);
    process.exitCode = status;
  });
}

/** The --timeout / -T value among the options (0 when none or invalid; run() reports invalid ones). */
function timeoutOf(argv: string[]): number {
  try {
    return parse(argv, { out: () => undefined, err: () => undefined }).timeout;
  } catch {
    return 0;
  }
}
