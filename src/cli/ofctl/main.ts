// tsw-ofctl: ovs-ofctl for tsw. For now the offline commands that exercise
// the OpenFlow codec alone: ofp-print, ofp-parse, ofp-parse-pcap.

import { readFileSync } from 'node:fs';
import { ofpToString, type FlowFormatter } from '../../openflow/print/index.js';
import { flowFormatter } from './text.js';
import { TcpReader, ipString, readPcap, tcpSegment } from './pcap.js';
import { parseCommands } from './parse.js';

const PROGRAM = 'tsw-ofctl';

class OfctlError extends Error {}

interface Options {
  verbosity: number;
  raw: boolean;
  names: boolean | undefined;
  protocols: string[];
  timestamp: boolean;
}

interface Output {
  out: (s: string) => void;
}

function fatal(msg: string): never {
  throw new OfctlError(msg);
}

/** Hex digit pairs, with blanks and newlines anywhere between pairs, as OVS's ofpbuf_put_hex reads them. */
export function parseHex(text: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
    const pair = text.slice(i, i + 2);
    if (pair.length < 2 || !/^[0-9a-fA-F]{2}$/.test(pair)) break;
    out.push(parseInt(pair, 16));
    i += 2;
  }
  if (i < text.length) fatal('trailing garbage following hex bytes');
  return new Uint8Array(out);
}

function readInput(name: string): Buffer {
  try {
    return name === '-' ? readFileSync(0) : readFileSync(name);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    fatal(`${name}: open failed (${err.code === 'ENOENT' ? 'No such file or directory' : err.message})`);
  }
}

function ofpPrint(args: string[], o: Options, io: Output, flow: FlowFormatter): void {
  const verbosity = args.length > 1 ? parseInt(args[1], 10) || 0 : 2;
  let bytes: Uint8Array;
  if (args[0] === '-') {
    const input = readFileSync(0);
    bytes = o.raw ? new Uint8Array(input) : parseHex(input.toString('latin1').split('\n')[0]);
  } else {
    bytes = parseHex(args[0]);
  }
  io.out(ofpToString(bytes, verbosity, flow));
}

function ofpParse(args: string[], o: Options, io: Output, flow: FlowFormatter): void {
  const name = args[0];
  const data = readInput(name);
  let off = 0;
  while (off < data.length) {
    if (data.length - off < 8) fatal(`${name}: unexpected end of file mid-message`);
    const len = data.readUInt16BE(off + 2);
    if (len < 8) fatal(`${name}: ${len}-byte message is too short for OpenFlow`);
    if (off + len > data.length) fatal(`${name}: unexpected end of file mid-message`);
    io.out(ofpToString(new Uint8Array(data.subarray(off, off + len)), o.verbosity + 2, flow));
    off += len;
  }
}

function timeOfDay(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')} `;
}

function ofpParsePcap(args: string[], o: Options, io: Output, flow: FlowFormatter): void {
  const name = args[0];
  let frames;
  try {
    frames = readPcap(new Uint8Array(readInput(name)));
  } catch (e) {
    if (e instanceof OfctlError) throw e;
    fatal(`${name}: open failed (${(e as Error).message})`);
  }
  const ports = args.slice(1).map((p) => parseInt(p, 10) || 0);
  const isOpenFlow = (p: number) => (ports.length ? ports.includes(p) : p === 6653 || p === 6633);
  const reader = new TcpReader();
  let first = true;
  for (const f of frames) {
    const seg = tcpSegment(f.data);
    if (!seg || !(isOpenFlow(seg.tpSrc) || isOpenFlow(seg.tpDst))) continue;
    const stream = reader.run(seg);
    if (!stream) continue;
    while (stream.buf.length >= 8) {
      const len = (stream.buf[2] << 8) | stream.buf[3];
      if (stream.buf.length < len || len < 8) break;
      if (!first) io.out('\n');
      first = false;
      if (o.timestamp) io.out(timeOfDay(f.time));
      io.out(`${ipString(seg.nwSrc)}.${seg.tpSrc} > ${ipString(seg.nwDst)}.${seg.tpDst}:\n`);
      io.out(ofpToString(stream.buf.slice(0, len), o.verbosity + 1, flow));
      stream.buf = stream.buf.slice(len);
    }
  }
}

type Handler = (args: string[], o: Options, io: Output, flow: FlowFormatter) => void;

const COMMANDS: Record<string, { min: number; max: number; run: Handler }> = {
  'ofp-print': { min: 1, max: 2, run: ofpPrint },
  'ofp-parse': { min: 1, max: 1, run: ofpParse },
  'ofp-parse-pcap': { min: 1, max: Infinity, run: ofpParsePcap },
  ...parseCommands(fatal),
};

const USAGE = `${PROGRAM}: OpenFlow switch management utility (offline commands)
usage: ${PROGRAM} [OPTIONS] COMMAND [ARG...]

Offline commands:
  ofp-print HEXSTRING [VERBOSITY]   print the OpenFlow message in HEXSTRING
  ofp-print - [VERBOSITY]           ... read from the first line of stdin
  ofp-print --raw - [VERBOSITY]     ... read binary from stdin
  ofp-parse FILE                    print every OpenFlow message in FILE
  ofp-parse-pcap PCAP [PORT...]     print the OpenFlow messages in PCAP
                                    (TCP port 6653 or 6633 unless PORTs given)

Options:
  -O, --protocols=VERSION[,...]     accepted OpenFlow versions
  -m, --more                        be more verbose printing OpenFlow
  --names, --no-names               show or hide port names
  --timestamp                       (ofp-parse-pcap) print capture times
  --raw                             (ofp-print) binary input
  -h, --help                        display this help message
  -V, --version                     display version information
`;

const PROTOCOL_NAMES = new Set([
  'OpenFlow10', 'OpenFlow11', 'OpenFlow12', 'OpenFlow13', 'OpenFlow14', 'OpenFlow15',
  'OpenFlow10+table_id', 'NXM', 'NXM+table_id', 'OXM-OpenFlow12', 'OXM-OpenFlow13', 'OXM-OpenFlow14', 'OXM-OpenFlow15',
  'any', 'OpenFlow10-table_id', 'NXM-table_id',
]);

/** Runs the command line; returns the exit status. */
export function run(argv: string[], io: Output, err: (s: string) => void, flow: FlowFormatter = flowFormatter): number {
  const o: Options = { verbosity: 0, raw: false, names: undefined, protocols: [], timestamp: false };
  const rest: string[] = [];
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (rest.length || !a.startsWith('-') || a === '-') {
        rest.push(a);
        continue;
      }
      if (a === '--') {
        rest.push(...argv.slice(i + 1));
        break;
      }
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(0, eq) : a;
      const value = (): string => {
        if (eq >= 0) return a.slice(eq + 1);
        if (i + 1 >= argv.length) fatal(`option '${name}' requires an argument`);
        return argv[++i];
      };
      if (name === '-O' || name === '--protocols') {
        for (const p of value().split(',')) {
          if (!PROTOCOL_NAMES.has(p)) fatal(`${p}: unknown OpenFlow version`);
          o.protocols.push(p);
        }
      } else if (/^-O./.test(a)) {
        o.protocols.push(a.slice(2));
      } else if (name === '-m' || name === '--more') {
        o.verbosity++;
      } else if (/^-m+$/.test(a)) {
        o.verbosity += a.length - 1;
      } else if (name === '--names') {
        o.names = true;
      } else if (name === '--no-names') {
        o.names = false;
      } else if (name === '--raw') {
        o.raw = true;
      } else if (name === '--timestamp') {
        o.timestamp = true;
      } else if (name === '-h' || name === '--help') {
        io.out(USAGE);
        return 0;
      } else if (name === '-V' || name === '--version') {
        io.out(`${PROGRAM} (tsw) 0.1.0\nOpenFlow versions 0x1:0x6\n`);
        return 0;
      } else if (name === '-v' || name.startsWith('--verbose') || name === '--strict' || name === '--readd' || name === '--sort' || name === '--rsort' || name === '--color') {
        // Accepted for compatibility; they do not change offline output.
      } else {
        fatal(`unrecognized option '${a}'`);
      }
    }
    if (!rest.length) fatal(`missing command name; use --help for help`);
    const [cmd, ...args] = rest;
    const c = COMMANDS[cmd];
    if (!c) fatal(`unknown command '${cmd}'; use --help for help`);
    if (args.length < c.min) fatal(`'${cmd}' command requires at least ${c.min} arguments`);
    if (args.length > c.max) fatal(`'${cmd}' command takes at most ${c.max} arguments`);
    c.run(args, o, io, flow);
    return 0;
  } catch (e) {
    if (e instanceof OfctlError) {
      err(`${PROGRAM}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export function main(argv: string[]): void {
  const chunks: string[] = [];
  const status = run(argv, { out: (s) => chunks.push(s) }, (s) => process.stderr.write(s));
  process.stdout.write(chunks.join(''));
  process.exitCode = status;
}
