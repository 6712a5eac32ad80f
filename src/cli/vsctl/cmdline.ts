// Command-line parsing for tsw-vsctl: glibc getopt_long semantics for the
// global options (abbreviations, the exact diagnostics), then the "--"
// separated command list with per-command options, as ovs-vsctl does it.
import { VsctlError } from './values.js';

export type Mode = 'RO' | 'RW';

export interface CommandSyntax {
  name: string;
  minArgs: number;
  maxArgs: number;
  /** Comma-separated options, "--name" or "--name=" (takes a value). */
  options: string;
  mode: Mode;
}

const INT_MAX = 2147483647;

/** Every command, in ovs-vsctl's registration order (db commands first). */
export const COMMANDS: CommandSyntax[] = [
  { name: 'comment', minArgs: 0, maxArgs: INT_MAX, options: '', mode: 'RO' },
  { name: 'get', minArgs: 2, maxArgs: INT_MAX, options: '--if-exists,--id=', mode: 'RO' },
  { name: 'list', minArgs: 1, maxArgs: INT_MAX, options: '--if-exists,--columns=', mode: 'RO' },
  { name: 'find', minArgs: 1, maxArgs: INT_MAX, options: '--columns=', mode: 'RO' },
  { name: 'set', minArgs: 3, maxArgs: INT_MAX, options: '--if-exists', mode: 'RW' },
  { name: 'add', minArgs: 4, maxArgs: INT_MAX, options: '--if-exists', mode: 'RW' },
  { name: 'remove', minArgs: 4, maxArgs: INT_MAX, options: '--if-exists', mode: 'RW' },
  { name: 'clear', minArgs: 3, maxArgs: INT_MAX, options: '--if-exists', mode: 'RW' },
  { name: 'create', minArgs: 2, maxArgs: INT_MAX, options: '--id=', mode: 'RW' },
  { name: 'destroy', minArgs: 1, maxArgs: INT_MAX, options: '--if-exists,--all', mode: 'RW' },
  { name: 'wait-until', minArgs: 2, maxArgs: INT_MAX, options: '', mode: 'RO' },
  { name: 'show', minArgs: 0, maxArgs: 0, options: '', mode: 'RO' },
  { name: 'init', minArgs: 0, maxArgs: 0, options: '', mode: 'RW' },
  { name: 'add-br', minArgs: 1, maxArgs: 3, options: '--may-exist', mode: 'RW' },
  { name: 'del-br', minArgs: 1, maxArgs: 1, options: '--if-exists', mode: 'RW' },
  { name: 'list-br', minArgs: 0, maxArgs: 0, options: '--real,--fake', mode: 'RO' },
  { name: 'br-exists', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'br-to-vlan', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'br-to-parent', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'br-set-external-id', minArgs: 2, maxArgs: 3, options: '', mode: 'RW' },
  { name: 'br-get-external-id', minArgs: 1, maxArgs: 2, options: '', mode: 'RO' },
  { name: 'list-ports', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'add-port', minArgs: 2, maxArgs: INT_MAX, options: '--may-exist', mode: 'RW' },
  { name: 'del-port', minArgs: 1, maxArgs: 2, options: '--if-exists,--with-iface', mode: 'RW' },
  { name: 'port-to-br', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'add-bond', minArgs: 4, maxArgs: INT_MAX, options: '--may-exist,--fake-iface', mode: 'RW' },
  { name: 'add-bond-iface', minArgs: 2, maxArgs: 2, options: '--may-exist', mode: 'RW' },
  { name: 'del-bond-iface', minArgs: 1, maxArgs: 2, options: '--if-exists', mode: 'RW' },
  { name: 'list-ifaces', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'iface-to-br', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'get-controller', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'del-controller', minArgs: 1, maxArgs: 1, options: '', mode: 'RW' },
  { name: 'set-controller', minArgs: 1, maxArgs: INT_MAX, options: '--inactivity-probe=', mode: 'RW' },
  { name: 'get-fail-mode', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'del-fail-mode', minArgs: 1, maxArgs: 1, options: '', mode: 'RW' },
  { name: 'set-fail-mode', minArgs: 2, maxArgs: 2, options: '', mode: 'RW' },
  { name: 'get-manager', minArgs: 0, maxArgs: 0, options: '', mode: 'RO' },
  { name: 'del-manager', minArgs: 0, maxArgs: 0, options: '', mode: 'RW' },
  { name: 'set-manager', minArgs: 1, maxArgs: INT_MAX, options: '--inactivity-probe=', mode: 'RW' },
  { name: 'get-ssl', minArgs: 0, maxArgs: 0, options: '', mode: 'RO' },
  { name: 'del-ssl', minArgs: 0, maxArgs: 0, options: '', mode: 'RW' },
  { name: 'set-ssl', minArgs: 3, maxArgs: 3, options: '--bootstrap', mode: 'RW' },
  { name: 'add-aa-mapping', minArgs: 3, maxArgs: 3, options: '', mode: 'RW' },
  { name: 'del-aa-mapping', minArgs: 3, maxArgs: 3, options: '', mode: 'RW' },
  { name: 'get-aa-mapping', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'emer-reset', minArgs: 0, maxArgs: 0, options: '', mode: 'RW' },
  { name: 'add-zone-tp', minArgs: 3, maxArgs: INT_MAX, options: '--may-exist', mode: 'RW' },
  { name: 'del-zone-tp', minArgs: 2, maxArgs: 2, options: '--if-exists', mode: 'RW' },
  { name: 'list-zone-tp', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
  { name: 'list-dp-cap', minArgs: 1, maxArgs: 1, options: '', mode: 'RO' },
];

const COMMAND_BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));

type HasArg = 'no' | 'required' | 'optional';

interface LongOption {
  name: string;
  hasArg: HasArg;
  /** Short-option letter this long option is an alias of, if any. */
  short?: string;
  local?: boolean;
}

const GLOBAL_OPTIONS: LongOption[] = [
  { name: 'db', hasArg: 'required' },
  { name: 'no-syslog', hasArg: 'no' },
  { name: 'no-wait', hasArg: 'no' },
  { name: 'dry-run', hasArg: 'no' },
  { name: 'oneline', hasArg: 'no' },
  { name: 'timeout', hasArg: 'required', short: 't' },
  { name: 'retry', hasArg: 'no' },
  { name: 'help', hasArg: 'no', short: 'h' },
  { name: 'commands', hasArg: 'no' },
  { name: 'options', hasArg: 'no' },
  { name: 'leader-only', hasArg: 'no' },
  { name: 'no-leader-only', hasArg: 'no' },
  { name: 'shuffle-remotes', hasArg: 'no' },
  { name: 'no-shuffle-remotes', hasArg: 'no' },
  { name: 'version', hasArg: 'no', short: 'V' },
  { name: 'verbose', hasArg: 'optional', short: 'v' },
  { name: 'log-file', hasArg: 'optional' },
  { name: 'syslog-method', hasArg: 'required' },
  { name: 'syslog-target', hasArg: 'required' },
  { name: 'format', hasArg: 'required', short: 'f' },
  { name: 'data', hasArg: 'required', short: 'd' },
  { name: 'no-headings', hasArg: 'no' },
  { name: 'pretty', hasArg: 'no' },
  { name: 'bare', hasArg: 'no' },
  { name: 'max-column-width', hasArg: 'required' },
  { name: 'private-key', hasArg: 'required', short: 'p' },
  { name: 'certificate', hasArg: 'required', short: 'c' },
  { name: 'ca-cert', hasArg: 'required', short: 'C' },
  { name: 'ssl-protocols', hasArg: 'required' },
  { name: 'ssl-ciphers', hasArg: 'required' },
  { name: 'bootstrap-ca-cert', hasArg: 'required' },
  { name: 'peer-ca-cert', hasArg: 'required' },
];

function localOptions(): LongOption[] {
  const out: LongOption[] = [];
  const seen = new Set<string>();
  for (const c of COMMANDS) {
    if (!c.options) continue;
    for (const o of c.options.split(',')) {
      const name = o.slice(2).replace(/[=?]$/, '');
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ name, hasArg: o.endsWith('=') ? 'required' : o.endsWith('?') ? 'optional' : 'no', local: true });
    }
  }
  return out;
}

const ALL_OPTIONS = [...GLOBAL_OPTIONS, ...localOptions()];

export type TableFormat = 'table' | 'list' | 'html' | 'csv' | 'json';
export type CellFormat = 'string' | 'bare' | 'json';

export interface TableStyle {
  format: TableFormat;
  cellFormat: CellFormat;
  headings: boolean;
  pretty: boolean;
  maxColumnWidth: number;
}

export interface GlobalOptions {
  db: string | null;
  oneline: boolean;
  dryRun: boolean;
  waitForReload: boolean;
  timeout: number;
  retry: boolean;
  style: TableStyle;
  ssl: { key?: string; cert?: string; ca?: string };
}

/** A parsed command: its syntax, options ("--name" -> value or null) and argv (argv[0] = name). */
export interface Command {
  syntax: CommandSyntax;
  options: Map<string, string | null>;
  argv: string[];
}

function takeOption(opts: GlobalOptions, name: string, arg: string | null, local: Map<string, string | null>, isLocal: boolean): void {
  if (isLocal) {
    // ovs-vsctl's duplicate check looks the name up without its "--", so it never fires.
    if (!local.has(`--${name}`)) local.set(`--${name}`, arg);
    return;
  }
  switch (name) {
    case 'db':
      opts.db = arg;
      break;
    case 'oneline':
      opts.oneline = true;
      break;
    case 'no-wait':
      opts.waitForReload = false;
      break;
    case 'dry-run':
      opts.dryRun = true;
      break;
    case 'timeout': {
      const s = arg ?? '';
      const ok = /^\s*\+?\d+$/.test(s) && Number(s) <= 4294967295;
      if (!ok || Number(s) === 0) throw new VsctlError(`value ${s} on -t or --timeout is invalid`);
      opts.timeout = Number(s);
      break;
    }
    case 'retry':
      opts.retry = true;
      break;
    case 'help':
    case 'commands':
    case 'options':
    case 'version':
      // Like getopt's handler in ovs-vsctl, these act (print and exit) as soon as they are seen.
      throw new OptionAction(name);
    case 'format': {
      const f = arg ?? '';
      if (!['table', 'list', 'html', 'csv', 'json'].includes(f)) throw new VsctlError(`unknown output format "${f}"`);
      opts.style.format = f as TableFormat;
      break;
    }
    case 'data': {
      const f = arg ?? '';
      if (!['string', 'bare', 'json'].includes(f)) throw new VsctlError(`unknown data format "${f}"`);
      opts.style.cellFormat = f as CellFormat;
      break;
    }
    case 'no-headings':
      opts.style.headings = false;
      break;
    case 'pretty':
      opts.style.pretty = true;
      break;
    case 'bare':
      opts.style.format = 'list';
      opts.style.cellFormat = 'bare';
      opts.style.headings = false;
      break;
    case 'max-column-width':
      opts.style.maxColumnWidth = parseInt(arg ?? '0', 10) || 0;
      break;
    case 'private-key':
      opts.ssl.key = arg ?? undefined;
      break;
    case 'certificate':
      opts.ssl.cert = arg ?? undefined;
      break;
    case 'ca-cert':
    case 'peer-ca-cert':
    case 'bootstrap-ca-cert':
      opts.ssl.ca = arg ?? undefined;
      break;
    default:
      // Logging and the cluster/SSL tuning options are accepted and ignored.
      break;
  }
}

/** --help, --version, --commands or --options: print something and exit 0. */
export class OptionAction extends Error {}

/** Errors getopt prints itself; the process exits 1 after printing. */
export class GetoptError extends VsctlError {}

/**
 * Parses the global options (getopt_long with a leading '+': stop at the first
 * non-option) and returns the index of the first command word.
 */
export function parseGlobalOptions(argv: string[], opts: GlobalOptions, local: Map<string, string | null>): number {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    i++;
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const exact = ALL_OPTIONS.find((o) => o.name === name);
      let opt = exact;
      if (!opt) {
        const cands = ALL_OPTIONS.filter((o) => o.name.startsWith(name));
        if (cands.length === 0) throw new GetoptError(`unrecognized option '${a}'`);
        const first = cands[0];
        const ambiguous = cands.some((o) => o.hasArg !== first.hasArg || !!o.local !== !!first.local || o.local !== true);
        if (cands.length > 1 && ambiguous) {
          throw new GetoptError(`option '${a}' is ambiguous; possibilities:${cands.map((o) => ` '--${o.name}'`).join('')}`);
        }
        opt = first;
      }
      let arg: string | null = null;
      if (eq >= 0) {
        if (opt.hasArg === 'no') throw new GetoptError(`option '--${opt.name}' doesn't allow an argument`);
        arg = body.slice(eq + 1);
      } else if (opt.hasArg === 'required') {
        if (i >= argv.length) throw new GetoptError(`option '--${opt.name}' requires an argument`);
        arg = argv[i++];
      }
      takeOption(opts, opt.name, arg, local, !!opt.local);
      continue;
    }
    // A cluster of short options.
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const opt = GLOBAL_OPTIONS.find((o) => o.short === c);
      if (!opt) throw new GetoptError(`invalid option -- '${c}'`);
      let arg: string | null = null;
      if (opt.hasArg !== 'no') {
        const rest = a.slice(j + 1);
        if (rest) arg = rest;
        else if (opt.hasArg === 'required') {
          if (i >= argv.length) throw new GetoptError(`option requires an argument -- '${c}'`);
          arg = argv[i++];
        }
        takeOption(opts, opt.name, arg, local, false);
        break;
      }
      takeOption(opts, opt.name, arg, local, false);
    }
  }
  return i;
}

function parseCommand(args: string[], local: Map<string, string | null>): Command {
  const options = new Map(local);
  local.clear();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(0, eq) : a;
    const value = eq >= 0 ? a.slice(eq + 1) : null;
    if (options.has(key)) throw new VsctlError(`'${a}' option specified multiple times`);
    options.set(key, value);
  }
  if (i === args.length) throw new VsctlError('missing command name (use --help for help)');
  const name = args[i];
  const syntax = COMMAND_BY_NAME.get(name);
  if (!syntax) throw new VsctlError(`unknown command '${name}'; use --help for help`);
  for (const [key, value] of options) {
    const at = syntax.options.indexOf(key);
    const end = at >= 0 ? (syntax.options[at + key.length] ?? '') : null;
    if (end === null || !['=', ',', '?', ' ', ''].includes(end)) {
      throw new VsctlError(`'${name}' command has no '${key}' option`);
    }
    if (end !== '?' && (end === '=') !== (value !== null)) {
      if (end === '=') throw new VsctlError(`missing argument to '${key}' option on '${name}' command`);
      throw new VsctlError(`'${key}' option on '${name}' does not accept an argument`);
    }
  }
  const nArg = args.length - i - 1;
  if (nArg < syntax.minArgs) {
    throw new VsctlError(`'${syntax.name}' command requires at least ${syntax.minArgs} arguments`);
  }
  if (nArg > syntax.maxArgs) {
    if (args.slice(i + 1).some((x) => x.startsWith('-'))) {
      throw new VsctlError(
        `'${syntax.name}' command takes at most ${syntax.maxArgs} arguments (note that options must precede command names and follow a "--" argument)`,
      );
    }
    throw new VsctlError(`'${syntax.name}' command takes at most ${syntax.maxArgs} arguments`);
  }
  return { syntax, options, argv: args.slice(i) };
}

/** ctl_parse_commands: splits at "--" and parses each command. */
export function parseCommands(args: string[], local: Map<string, string | null>): Command[] {
  const out: Command[] = [];
  let start = 0;
  for (let i = 0; i <= args.length; i++) {
    if (i === args.length || args[i] === '--') {
      if (i > start) out.push(parseCommand(args.slice(start, i), local));
      else if (local.size) throw new VsctlError('missing command name (use --help for help)');
      start = i + 1;
    }
  }
  if (!out.length) throw new VsctlError('missing command name (use --help for help)');
  return out;
}

export function defaultOptions(): GlobalOptions {
  return {
    db: null,
    oneline: false,
    dryRun: false,
    waitForReload: true,
    timeout: 0,
    retry: false,
    style: { format: 'list', cellFormat: 'string', headings: true, pretty: false, maxColumnWidth: 0 },
    ssl: {},
  };
}

/** ovs-vsctl's process_escape_args: the command line as one shell-quoted string. */
export function escapeArgs(argv: string[]): string {
  return argv
    .map((a) => {
      if (!/[ \t\r\n\v\\'"]/.test(a)) return a;
      return '"' + a.replace(/["\\]/g, (c) => '\\' + c) + '"';
    })
    .join(' ');
}
