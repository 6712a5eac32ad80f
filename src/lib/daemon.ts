// The command-line options and start-up sequence every tsw daemon shares
// with its OVS counterpart: --pidfile, --detach, --no-chdir, --log-file,
// --unixctl, -v/--verbose, --help, --version.
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { absFileName, logdir, rundir } from './dirs.js';
import { installFatalSignalHandlers } from './fatal-signal.js';
import { createPidfile, defaultPidfilePath, type Pidfile } from './pidfile.js';
import { programName, setProgramName } from './program.js';
import { UnixctlServer } from './unixctl.js';
import { Destination, Level, vlogModule, vlogRegisterCommands, vlogSetLevels, vlogSetLevelsFromString,
  vlogSetLogFile } from './vlog.js';

export { bindir, dbdir, logdir, pkgdatadir, rundir, sysconfdir, absFileName } from './dirs.js';

const log = vlogModule('daemon');

/** Set in the environment of the re-spawned child so it does not detach again. */
export const DETACHED_ENV = 'TSW_DAEMON_CHILD';
/** The child reports readiness on this fd (a pipe to the waiting parent). */
const READY_FD = 3;

export interface DaemonOptions {
  /** Absolute pidfile path, or null for no pidfile. */
  pidfile: string | null;
  overwritePidfile: boolean;
  detach: boolean;
  noChdir: boolean;
  /** Absolute log file path, null = no log file. */
  logFile: string | null;
  /** --unixctl value as given (null = default `<rundir>/<program>.<pid>.ctl`). */
  unixctl: string | null;
  /** -v/--verbose specs in order ("" = plain -v, meaning everything at dbg). */
  verbose: string[];
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The help text for the options parsed here, in OVS's words-and-layout style. */
export function daemonUsage(program = programName()): string {
  return `
Daemon options:
  --detach                run in background as daemon
  --no-chdir              do not chdir to '/'
  --pidfile[=FILE]        create pidfile (default: ${rundir()}/${program}.pid)
  --overwrite-pidfile     with --pidfile, start even if already running

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]       enable logging to specified FILE
                          (default: ${'$'}{OVS_LOGDIR}/${program}.log)
  --unixctl=SOCKET        override default control socket name

Other options:
  -h, --help              display this help message
  -V, --version           display version information
`;
}

/**
 * Pulls the shared daemon options out of `argv`; everything else (program
 * options, positional arguments) comes back in `rest`, in order. Relative
 * file names are made absolute now, before any chdir.
 */
export function parseDaemonArgs(argv: string[], program = programName()): { options: DaemonOptions; rest: string[] } {
  const options: DaemonOptions = {
    pidfile: null, overwritePidfile: false, detach: false, noChdir: false, logFile: null,
    unixctl: null, verbose: [], help: false, version: false,
  };
  const rest: string[] = [];
  const cwd = process.cwd();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : null;
    const required = (): string => {
      if (value !== null) return value;
      if (i + 1 >= argv.length) throw new UsageError(`option '${name}' requires an argument`);
      return argv[++i];
    };
    switch (name) {
      case '--pidfile':
        // A bare --pidfile means <rundir>/<program>.pid; a relative FILE is in the rundir too, as in OVS.
        options.pidfile = value === null ? defaultPidfilePath(program) : absFileName(rundir(), value);
        break;
      case '--overwrite-pidfile': options.overwritePidfile = true; break;
      case '--detach': options.detach = true; break;
      case '--no-chdir': options.noChdir = true; break;
      case '--monitor': break;   // accepted for compatibility; tsw has no monitor process
      case '--log-file':
        options.logFile = value === null ? `${logdir()}/${program}.log` : absFileName(cwd, value);
        break;
      case '--unixctl': options.unixctl = required(); break;
      case '--verbose': options.verbose.push(value ?? ''); break;
      case '-h': case '--help': options.help = true; break;
      case '-V': case '--version': options.version = true; break;
      default:
        if (arg.startsWith('-v') && !arg.startsWith('--')) {
          options.verbose.push(arg.slice(2));
        } else {
          rest.push(arg);
        }
    }
  }
  return { options, rest };
}

/** Applies -v specs; throws UsageError on a bad spec, with OVS's text. */
export function applyVerbose(specs: string[]): void {
  for (const spec of specs) {
    if (spec === '') {
      vlogSetLevels(null, null, Level.DBG);
      continue;
    }
    const error = vlogSetLevelsFromString(spec);
    if (error) throw new UsageError(`processing "${spec}": ${error}`);
  }
}

export interface Daemon {
  readonly unixctl: UnixctlServer;
  readonly pidfile: Pidfile | null;
  /** Call once start-up has finished: releases a waiting --detach parent and chdirs to "/". */
  complete(): void;
}

export interface DaemonStartOptions {
  program: string;
  version: string;
  packageName?: string;
}

/**
 * The shared start-up sequence. With --detach (in the original process) this
 * re-spawns the program in the background and never returns: the parent
 * exits 0 once the child calls complete(), or with the child's status if it
 * dies first. In the daemon itself it sets up logging, the pidfile (throws
 * PidfileError if another instance holds it) and the unixctl server, with
 * the vlog/* commands registered.
 */
export async function startDaemon(options: DaemonOptions, start: DaemonStartOptions): Promise<Daemon> {
  setProgramName(start.program);
  const detachedChild = process.env[DETACHED_ENV] === '1';
  if (options.detach && !detachedChild) await detachAndWait();
  installFatalSignalHandlers();
  applyVerbose(options.verbose);
  if (options.logFile !== null) vlogSetLogFile(options.logFile);
  const pidfile = options.pidfile ? createPidfile(options.pidfile, { overwrite: options.overwritePidfile }) : null;
  const unixctl = await UnixctlServer.create({
    path: options.unixctl, program: start.program, version: start.version, packageName: start.packageName,
  });
  vlogRegisterCommands(unixctl);
  let completed = false;
  return {
    unixctl,
    pidfile,
    complete: () => {
      if (completed) return;
      completed = true;
      if (detachedChild) {
        delete process.env[DETACHED_ENV];
        notifyParent();
        // Console output would go to a parent that is gone.
        vlogSetLevels(null, Destination.CONSOLE, Level.OFF);
        process.stderr.on('error', () => undefined);
        if (!options.noChdir) process.chdir('/');
      }
      log.dbg('start-up complete');
    },
  };
}

function notifyParent(): void {
  try {
    writeSync(READY_FD, 'ready\n');
    closeSync(READY_FD);
  } catch {
    // Started with TSW_DAEMON_CHILD but no pipe (e.g. by hand): nobody is waiting.
  }
}

/**
 * Re-runs this program in a new session with stdin/stdout on /dev/null and
 * stderr passed through until it is ready, then exits with its verdict.
 */
function detachAndWait(): Promise<never> {
  return new Promise<never>(() => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, [DETACHED_ENV]: '1' },
    });
    child.stderr!.pipe(process.stderr, { end: false });
    let ready = false;
    const ready$ = child.stdio[READY_FD] as NodeJS.ReadableStream;
    ready$.on('data', () => {
      if (ready) return;
      ready = true;
      child.stderr!.unpipe(process.stderr);
      child.stderr!.destroy();
      child.unref();
      process.exit(0);
    });
    child.on('exit', (code, signal) => {
      if (ready) return;
      process.stderr.write(`${programName()}: fork child died before signaling startup (${
        signal ? `killed (${signal})` : `exit status ${code}`})\n`);
      process.exit(code && code > 0 ? code : 1);
    });
  });
}
