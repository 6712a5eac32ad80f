// Logging in the style of OVS's vlog: named modules, one level per
// destination (console, syslog, file), and the same line format, so that
// `ovs-appctl vlog/list` and `vlog/set` behave as users expect.
import { closeSync, openSync, writeSync } from 'node:fs';
import { logdir } from './dirs.js';
import { programName } from './program.js';

/** Levels in increasing verbosity; a message is logged when its level <= the destination's. */
export enum Level { OFF = 0, EMER = 1, ERR = 2, WARN = 3, INFO = 4, DBG = 5 }
const LEVEL_NAMES = ['OFF', 'EMER', 'ERR', 'WARN', 'INFO', 'DBG'] as const;
export type LevelName = 'off' | 'emer' | 'err' | 'warn' | 'info' | 'dbg';

export enum Destination { CONSOLE = 0, SYSLOG = 1, FILE = 2 }
const DESTINATION_NAMES = ['console', 'syslog', 'file'] as const;
export type DestinationName = (typeof DESTINATION_NAMES)[number];

const SYSLOG_FACILITIES = new Set(['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp',
  'clock', 'ftp', 'ntp', 'audit', 'alert', 'clock2', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5',
  'local6', 'local7']);

const modules = new Map<string, VlogModule>();   // keyed by lower-case name
/** Levels a module gets when it registers; wildcard `vlog/set` changes update them too. */
const defaultLevels: [number, number, number] = [Level.INFO, Level.INFO, Level.INFO];

let msgNum = 0;
let logFileName: string | null = null;
let logFd = -1;

export function levelFromName(name: string): Level | undefined {
  const i = LEVEL_NAMES.indexOf(name.toUpperCase() as (typeof LEVEL_NAMES)[number]);
  return i < 0 ? undefined : (i as Level);
}

function destinationFromName(name: string): Destination | undefined {
  const i = DESTINATION_NAMES.indexOf(name.toLowerCase() as DestinationName);
  return i < 0 ? undefined : (i as Destination);
}

export class VlogModule {
  /** Indexed by Destination. */
  readonly levels: [number, number, number];
  /** The most verbose level any active destination wants (fast path for disabled levels). */
  private minLevel = Level.OFF;

  constructor(readonly name: string) {
    this.levels = [...defaultLevels];
    this.updateMinLevel();
  }

  updateMinLevel(): void {
    let min: number = Level.OFF;
    for (let d = 0; d < 3; d++) {
      if (d === Destination.FILE && logFd < 0) continue;
      if (d === Destination.SYSLOG) continue;   // syslog levels are accepted but nothing is sent
      min = Math.max(min, this.levels[d]);
    }
    this.minLevel = min;
  }

  isEnabled(level: Level): boolean {
    return level <= this.minLevel;
  }

  log(level: Level, message: string): void {
    if (level > this.minLevel || level === Level.OFF) return;
    const toConsole = level <= this.levels[Destination.CONSOLE];
    const toFile = logFd >= 0 && level <= this.levels[Destination.FILE];
    if (!toConsole && !toFile) return;
    msgNum++;
    const stamp = new Date().toISOString();          // 2026-11-22T20:00:00.123Z, the file pattern's %D
    const tail = `|${String(msgNum).padStart(5, '0')}|${this.name}|${LEVEL_NAMES[level]}|${message.replace(/\n+$/, '')}\n`;
    if (toConsole) process.stderr.write(`${stamp.slice(0, 19)}Z${tail}`);
    if (toFile) {
      try {
        writeSync(logFd, stamp + tail);
      } catch {
        // A full disk must not take the daemon down; OVS ignores write errors too.
      }
    }
  }

  emer(message: string): void { this.log(Level.EMER, message); }
  err(message: string): void { this.log(Level.ERR, message); }
  warn(message: string): void { this.log(Level.WARN, message); }
  info(message: string): void { this.log(Level.INFO, message); }
  dbg(message: string): void { this.log(Level.DBG, message); }
}

/**
 * A log rate limit shared by every use of one call site (OVS's
 * VLOG_RATE_LIMIT_INIT): `rate` messages a minute after a burst of `burst`.
 * When messages were suppressed, the next one that passes is preceded by a
 * line saying how many, as OVS logs it.
 */
export class VlogRateLimit {
  private tokens: number;
  private last = Date.now();
  private dropped = 0;
  private firstDropped = 0;
  private lastDropped = 0;

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Logs `message` at `level` on `module` unless the limit says no. */
  log(module: VlogModule, level: Level, message: string): void {
    if (!module.isEnabled(level)) return;
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 60_000);
    this.last = now;
    if (this.tokens < 1) {
      if (this.dropped++ === 0) this.firstDropped = now;
      this.lastDropped = now;
      return;
    }
    this.tokens -= 1;
    if (this.dropped) {
      const secs = Math.round((now - this.firstDropped) / 1000);
      const ago = Math.round((now - this.lastDropped) / 1000);
      module.log(Level.INFO, `Dropped ${this.dropped} log messages in last ${secs} seconds (most recently, ${ago} seconds ago) due to excessive rate`);
      this.dropped = 0;
    }
    module.log(level, message);
  }
}

/** Returns the module called `name`, registering it on first use. */
export function vlogModule(name: string): VlogModule {
  let m = modules.get(name.toLowerCase());
  if (!m) {
    m = new VlogModule(name);
    modules.set(name.toLowerCase(), m);
  }
  return m;
}

const self = vlogModule('vlog');

/** Sets `level` for `module` (null = every module) on `destination` (null = all). */
export function vlogSetLevels(module: VlogModule | null, destination: Destination | null, level: Level): void {
  const dests = destination === null ? [0, 1, 2] : [destination];
  const targets = module ? [module] : [...modules.values()];
  for (const d of dests) {
    if (!module) defaultLevels[d] = level;
    for (const m of targets) m.levels[d] = level;
  }
  for (const m of targets) m.updateMinLevel();
}

/**
 * Applies one vlog spec ("dbg", "jsonrpc:file:dbg", "ANY:console:off", "FACILITY:daemon").
 * Words are separated by any of " ,:\t" as in OVS. Returns null on success or OVS's error text.
 */
export function vlogSetLevelsFromString(spec: string): string | null {
  const words = spec.split(/[ ,:\t]+/).filter((w) => w !== '');
  if (words.length && words[0].toUpperCase() === 'PATTERN') {
    if (words.length < 2) return 'missing destination';
    if (words[1].toUpperCase() !== 'ANY' && destinationFromName(words[1]) === undefined) {
      return `unknown destination "${words[1]}"`;
    }
    return 'setting log patterns is not supported';
  }
  if (words.length && words[0].toUpperCase() === 'FACILITY') {
    return words.length === 2 && SYSLOG_FACILITIES.has(words[1]) ? null : 'invalid facility';
  }
  let module: VlogModule | null = null;
  let level: Level | undefined;
  let destination: Destination | undefined;
  for (const word of words) {
    if (word.toUpperCase() === 'ANY') continue;
    const d = destinationFromName(word);
    const l = levelFromName(word);
    const m = modules.get(word.toLowerCase());
    if (d !== undefined) {
      if (destination !== undefined) return 'cannot specify multiple destinations';
      destination = d;
    } else if (l !== undefined) {
      if (level !== undefined) return 'cannot specify multiple levels';
      level = l;
    } else if (m) {
      if (module) return 'cannot specify multiple modules';
      module = m;
    } else {
      return `no destination, level, or module "${word}"`;
    }
  }
  vlogSetLevels(module, destination ?? null, level ?? Level.DBG);
  return null;
}

/** The `vlog/list` table, byte for byte in OVS's layout. */
export function vlogGetLevels(): string {
  const lines = [...modules.values()].map((m) => {
    const [c, s, f] = m.levels.map((l) => LEVEL_NAMES[l].padStart(4));
    return `${m.name.padEnd(16)}  ${c}       ${s}       ${f}\n`;
  });
  lines.sort();
  return '                 console    syslog    file\n'
    + '                 -------    ------    ------\n'
    + lines.join('');
}

/** The `vlog/list-pattern` table (patterns are fixed in tsw). */
export function vlogGetPatterns(): string {
  return '         prefix                            format\n'
    + '         ------                            ------\n'
    + 'SYSLOG   <%B> %D{%h %e %T} %E %A:          ovs|%05N|%c%T|%p|%m\n'
    + 'CONSOLE  none                              %D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m\n'
    + 'FILE     none                              %D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m\n';
}

/**
 * Starts logging to `file` (null = `<logdir>/<program>.log`), closing any previous log file.
 * Throws the fs error if the file cannot be opened (the old file stays closed, as in OVS).
 */
export function vlogSetLogFile(file: string | null): void {
  const name = file ?? `${logdir()}/${programName()}.log`;
  vlogCloseLogFile();
  logFd = openSync(name, 'a', 0o640);
  logFileName = name;
  for (const m of modules.values()) m.updateMinLevel();
  self.info(`opened log file ${name}`);
}

export function vlogCloseLogFile(): void {
  if (logFd >= 0) {
    closeSync(logFd);
    logFd = -1;
    for (const m of modules.values()) m.updateMinLevel();
  }
}

/** Reopens the current log file (after rotation). Returns false if no log file is configured. */
export function vlogReopenLogFile(): boolean {
  if (logFileName === null) return false;
  vlogSetLogFile(logFileName);
  return true;
}

export function vlogLogFileName(): string | null {
  return logFileName;
}

/** The subset of UnixctlServer that vlog needs, to avoid an import cycle. */
export interface CommandRegistry {
  register(name: string, usage: string | null, minArgs: number, maxArgs: number,
    handler: (args: string[]) => string | void | Promise<string | void>): void;
}

/** Registers vlog/set, vlog/list, vlog/list-pattern, vlog/reopen and vlog/close. */
export function vlogRegisterCommands(server: CommandRegistry): void {
  server.register('vlog/set', '{spec | PATTERN:destination:pattern}', 0, Number.MAX_SAFE_INTEGER, (args) => {
    if (args.length === 0) vlogSetLevels(null, null, Level.DBG);
    for (const spec of args) {
      const error = vlogSetLevelsFromString(spec);
      if (error) throw new Error(error);
    }
  });
  server.register('vlog/list', '', 0, 0, () => vlogGetLevels());
  server.register('vlog/list-pattern', '', 0, 0, () => vlogGetPatterns());
  server.register('vlog/reopen', '', 0, 0, () => {
    if (logFileName === null) throw new Error('Logging to file not configured');
    vlogReopenLogFile();
  });
  server.register('vlog/close', '', 0, 0, () => { vlogCloseLogFile(); });
}
