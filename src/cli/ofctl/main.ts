// tsw-ofctl: ovs-ofctl for tsw. The command table (name, argument counts,
// handler) and ovs-ofctl's options; the commands live in cmds-*.ts (online
// ones talk OpenFlow through vconn.ts) and parse.ts.

import { textField, protocolsToString } from '../../openflow/index.js';
import type { FlowFormatter } from '../../openflow/print/index.js';
import { flowFormatter } from './text.js';
import { parseCommands } from './parse.js';
import {
  OfctlError, PROGRAM, P_OF13_UP, defaultOptions, fatal, protocolsFromString, protocolsOfVersionBitmap, versionBitmapNames,
  versionBitmapOfProtocols, versionsFromString, type Io, type OfctlOptions, type Output,
} from './common.js';
import { OFFLINE_COMMANDS, type OfflineHandler } from './cmds-offline.js';
import { INFO_COMMANDS, type OnlineHandler } from './cmds-info.js';
import { FLOW_COMMANDS } from './cmds-flows.js';
import { GROUP_METER_COMMANDS } from './cmds-groups.js';
import { MONITOR_COMMANDS } from './cmds-monitor.js';
import { TLV_COMMANDS } from './cmds-tlv.js';
import { ExitStatus } from './vconn.js';

interface Command { min: number; max: number; run?: OfflineHandler; online?: OnlineHandler }

const COMMANDS: Record<string, Command> = {
  ...OFFLINE_COMMANDS,
  ...parseCommands(fatal),
  ...INFO_COMMANDS,
  ...FLOW_COMMANDS,
  ...GROUP_METER_COMMANDS,
  ...MONITOR_COMMANDS,
  ...TLV_COMMANDS,
};

const USAGE = `${PROGRAM}: OpenFlow switch management utility
usage: ${PROGRAM} [OPTIONS] COMMAND [ARG...]

For OpenFlow switches:
  show SWITCH                 show OpenFlow information
  dump-desc SWITCH            print switch description
  dump-tables SWITCH          print table stats
  dump-table-features SWITCH  print table features
  dump-table-desc SWITCH      print table description (OF1.4+)
  mod-port SWITCH IFACE ACT   modify port behavior
  dump-ports SWITCH [PORT]    print port statistics
  dump-ports-desc SWITCH [PORT]  print port descriptions
  dump-flows SWITCH           print all flow entries
  dump-flows SWITCH FLOW      print matching FLOWs
  dump-aggregate SWITCH       print aggregate flow statistics
  dump-aggregate SWITCH FLOW  print aggregate stats for FLOWs
  add-flow SWITCH FLOW        add flow described by FLOW
  add-flows SWITCH FILE       add flows from FILE
  mod-flows SWITCH FLOW       modify actions of matching FLOWs
  del-flows SWITCH [FLOW]     delete matching FLOWs
  replace-flows SWITCH FILE   replace flows with those in FILE
  diff-flows SOURCE1 SOURCE2  compare flows from two sources
  packet-out SWITCH IN_PORT ACTIONS PACKET...
  packet-out SWITCH "in_port=<port> packet=<hex data> actions=..."
  add-group SWITCH GROUP      add group described by GROUP
  add-groups SWITCH FILE      add group from FILE
  mod-group SWITCH GROUP      modify specific group
  del-groups SWITCH [GROUP]   delete matching GROUPs
  dump-group-features SWITCH  print group features
  dump-groups SWITCH [GROUP]  print group description
  dump-group-stats SWITCH [GROUP]  print group statistics
  add-meter SWITCH METER      add meter described by METER
  mod-meter SWITCH METER      modify specific METER
  del-meters SWITCH [METER]   delete meters matching METER
  dump-meters SWITCH [METER]  print METER configuration
  meter-stats SWITCH [METER]  print meter statistics
  meter-features SWITCH       print meter features
  add-tlv-map SWITCH MAP      add TLV option MAPpings
  del-tlv-map SWITCH [MAP]    delete TLV option MAPpings
  dump-tlv-map SWITCH         print TLV option mappings
  bundle SWITCH FILE          execute messages from FILE as a bundle
  monitor SWITCH [MISSLEN] [invalid_ttl] [watch:[...]]  print packets received
  snoop SWITCH                snoop on SWITCH and its controller
  probe TARGET                probe whether TARGET is up

Offline commands:
  ofp-print HEXSTRING [VERBOSITY]   print the OpenFlow message in HEXSTRING
  ofp-parse FILE                    print every OpenFlow message in FILE
  ofp-parse-pcap PCAP [PORT...]     print the OpenFlow messages in PCAP

Options:
  -O, --protocols=VERSION[,...]  allowed OpenFlow versions (default OpenFlow10)
  -F, --flow-format=FORMAT    allowed flow formats
  -t, --timeout=SECS          give up after SECS seconds
  --strict                    use strict match for flow commands
  --readd                     replace flows that haven't changed
  --bundle                    execute flow mods as an atomic bundle
  --names, --no-names         show or hide port and table names
  --stats, --no-stats         show or hide flow statistics
  --sort[=FIELD], --rsort[=FIELD]  sort dump-flows output
  -m, --more                  be more verbose printing OpenFlow
  --timestamp                 (monitor, snoop) print timestamps
  --color[=WHEN]              colorize output (never here)
  -h, --help                  display this help message
  -V, --version               display version information
`;

/** ovs-ofctl's long options: name → whether it takes an argument ('required', 'optional' or none). */
const LONG: Record<string, 'req' | 'opt' | 'none'> = {
  timeout: 'req', strict: 'none', readd: 'none', 'flow-format': 'req', 'packet-in-format': 'req', more: 'none', timestamp: 'none',
  sort: 'opt', rsort: 'opt', names: 'none', 'no-names': 'none', stats: 'none', 'no-stats': 'none', unixctl: 'req', help: 'none',
  option: 'none', bundle: 'none', color: 'opt', 'may-create': 'none', pcap: 'none', raw: 'none', 'read-only': 'none',
  version: 'none', protocols: 'req', verbose: 'opt', 'log-file': 'opt',
};
const SHORT: Record<string, string> = { t: 'timeout', F: 'flow-format', P: 'packet-in-format', m: 'more', h: 'help', o: 'option', V: 'version', O: 'protocols', v: 'verbose' };

type Parsed = { o: OfctlOptions; args: string[]; exit?: number };

function applyOption(name: string, value: string | undefined, o: OfctlOptions, io: Output, versionsSeen: { v?: number }): number | undefined {
  switch (name) {
    case 'timeout': {
      const t = /^\d+$/.test(value ?? '') ? Number(value) : 0;
      if (!t) fatal(`value ${value} on -t or --timeout is invalid`);
      o.timeout = t;
      break;
    }
    case 'flow-format': o.allowed = protocolsFromString(value ?? ''); break;
    case 'packet-in-format':
      if (!['standard', 'openflow10', 'nxt_packet_in', 'nxm', 'nxt_packet_in2'].includes(value ?? '')) fatal(`unknown packet-in format \`${value}'`);
      o.packetInFormat = value;
      break;
    case 'more': o.verbosity++; break;
    case 'strict': o.strict = true; break;
    case 'readd': o.readd = true; break;
    case 'timestamp': o.timestamp = true; break;
    case 'sort': case 'rsort': {
      const field = value === undefined || value.toLowerCase() === 'priority' ? undefined : value;
      if (field !== undefined && !textField(field)) fatal(`${field}: unknown field name`);
      o.sort.push({ field, ascending: name === 'sort' });
      break;
    }
    case 'names': o.names = true; break;
    case 'no-names': o.names = false; break;
    case 'stats': o.stats = true; break;
    case 'no-stats': o.stats = false; break;
    case 'unixctl': o.unixctl = value; break;
    case 'bundle': o.bundle = true; break;
    case 'may-create': o.mayCreate = true; break;
    case 'raw': o.raw = true; break;
    case 'color':
      if (value !== undefined && !['always', 'yes', 'force', 'never', 'no', 'none', 'auto', 'tty', 'if-tty'].includes(value.toLowerCase())) {
        fatal(`incorrect value \`${value}' for --color`);
      }
      break;
    case 'protocols':
      versionsSeen.v = versionsFromString(value ?? '');
      o.protocols = (value ?? '').split(/[\s,]+/).filter(Boolean);
      break;
    case 'help': io.out(USAGE); return 0;
    case 'option':
      for (const [n, k] of Object.entries(LONG)) io.out(`--${n}${k === 'req' ? '=ARG' : k === 'opt' ? '[=ARG]' : ''}\n`);
      return 0;
    case 'version': io.out(`${PROGRAM} (tsw) 0.1.0\nOpenFlow versions 0x1:0x6\n`); return 0;
    default: break; // --pcap, --read-only, -v, --log-file: no effect on what tsw-ofctl prints
  }
  return undefined;
}

/** getopt_long with GNU argument permutation: options may follow the command; "--" ends them. */
function parseOptions(argv: string[], io: Output): Parsed {
  const o = defaultOptions();
  const args: string[] = [];
  const seen: { v?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    let status: number | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const given = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const exact = LONG[given] ? [given] : Object.keys(LONG).filter((n) => n.startsWith(given));
      if (exact.length !== 1) fatal(exact.length ? `option '${a}' is ambiguous` : `unrecognized option '${a}'`);
      const name = exact[0];
      const kind = LONG[name];
      let value = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (kind === 'none' && value !== undefined) fatal(`option '--${name}' doesn't allow an argument`);
      if (kind === 'req' && value === undefined) {
        if (i + 1 >= argv.length) fatal(`option '--${name}' requires an argument`);
        value = argv[++i];
      }
      status = applyOption(name, value, o, io, seen);
    } else {
      for (let j = 1; j < a.length && status === undefined; j++) {
        const name = SHORT[a[j]];
        if (!name) fatal(`invalid option -- '${a[j]}'`);
        const kind = LONG[name];
        if (kind === 'none') {
          status = applyOption(name, undefined, o, io, seen);
          continue;
        }
        let value: string | undefined = a.slice(j + 1) || undefined;
        if (kind === 'req' && value === undefined) {
          if (i + 1 >= argv.length) fatal(`option requires an argument -- '${a[j]}'`);
          value = argv[++i];
        }
        status = applyOption(name, value, o, io, seen);
        break;
      }
    }
    if (status !== undefined) return { o, args, exit: status };
  }
  finishOptions(o, seen.v);
  return { o, args };
}

/** The allowed versions and flow formats, narrowed by each other (end of OVS's parse_options). */
function finishOptions(o: OfctlOptions, versions: number | undefined): void {
  let v = versions ?? 1 << 1;
  if (o.sort.length) o.sort.push({ field: undefined, ascending: false });
  const of13up = versionBitmapOfProtocols(P_OF13_UP);
  if (o.bundle && !(v & of13up)) v = (v | (1 << 5)) & of13up;
  const vp = protocolsOfVersionBitmap(v);
  if (!(o.allowed & vp)) {
    fatal(`None of the enabled OpenFlow versions (${versionBitmapNames(v)}) supports any of the enabled flow formats `
      + `(${protocolsToString(o.allowed)}).  (Use -O to enable additional OpenFlow versions or -F to enable additional flow formats.)`);
  }
  o.allowed &= vp;
  o.versions = v & versionBitmapOfProtocols(o.allowed);
}

function report(e: unknown, err: (s: string) => void): number {
  if (e instanceof OfctlError) {
    err(`${PROGRAM}: ${e.message}\n`);
    return e.status;
  }
  if (e instanceof ExitStatus) return e.status;
  throw e;
}

/**
 * Runs the command line; returns the exit status, or a promise of it for
 * commands that talk to a switch (their output is written as it comes).
 */
export function run(argv: string[], io: Output, err: (s: string) => void, flow: FlowFormatter = flowFormatter, tty = false,
  onOptions?: (o: OfctlOptions) => void): number | Promise<number> {
  let cmd: string;
  let args: string[];
  let c: Command | undefined;
  let o: OfctlOptions;
  try {
    const parsed = parseOptions(argv, io);
    if (parsed.exit !== undefined) return parsed.exit;
    o = parsed.o;
    o.tty = tty;
    onOptions?.(o);
    if (!parsed.args.length) fatal('missing command name; use --help for help');
    [cmd, ...args] = parsed.args;
    c = COMMANDS[cmd];
    if (!c) fatal(`unknown command '${cmd}'; use --help for help`);
    if (args.length < c.min) fatal(`'${cmd}' command requires at least ${c.min} arguments`);
    if (args.length > c.max) fatal(`'${cmd}' command takes at most ${c.max} arguments`);
    if (c.run) {
      c.run(args, o, io, flow);
      return 0;
    }
  } catch (e) {
    return report(e, err);
  }
  const online = c.online as OnlineHandler;
  const both: Io = { out: io.out, err };
  return online(args, o, both).then(() => 0, (e: unknown) => report(e, err));
}

export function main(argv: string[]): void {
  let timer: NodeJS.Timeout | undefined;
  // --timeout: ovs-ofctl dies of SIGALRM when the time is up.
  const alarm = (o: OfctlOptions): void => {
    if (o.timeout) timer = setTimeout(() => process.kill(process.pid, 'SIGALRM'), o.timeout * 1000);
  };
  const status = run(argv, { out: (s) => process.stdout.write(s) }, (s) => process.stderr.write(s), flowFormatter, process.stdout.isTTY === true, alarm);
  if (typeof status === 'number') {
    if (timer) clearTimeout(timer);
    process.exitCode = status;
    return;
  }
  void status.then((s) => {
    if (timer) clearTimeout(timer);
    process.exitCode = s;
  });
}
