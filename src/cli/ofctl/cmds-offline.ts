// tsw-ofctl's offline commands, which exercise the OpenFlow codec alone:
// ofp-print, ofp-parse, ofp-parse-pcap.

import { readFileSync } from 'node:fs';
import { ofpToString, type FlowFormatter } from '../../openflow/print/index.js';
import { OfctlError, fatal, type OfctlOptions, type Output } from './common.js';
import { TcpReader, ipString, readPcap, tcpSegment } from './pcap.js';

export type OfflineHandler = (args: string[], o: OfctlOptions, io: Output, flow: FlowFormatter) => void;

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

const ofpPrint: OfflineHandler = (args, o, io, flow) => {
  const verbosity = args.length > 1 ? parseInt(args[1], 10) || 0 : 2;
  let bytes: Uint8Array;
  if (args[0] === '-') {
    const input = readFileSync(0);
    bytes = o.raw ? new Uint8Array(input) : parseHex(input.toString('latin1').split('\n')[0]);
  } else {
    bytes = parseHex(args[0]);
  }
  io.out(ofpToString(bytes, verbosity, flow));
};

const ofpParse: OfflineHandler = (args, o, io, flow) => {
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
};

function timeOfDay(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')} `;
}

const ofpParsePcap: OfflineHandler = (args, o, io, flow) => {
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
};

export const OFFLINE_COMMANDS: Record<string, { min: number; max: number; run: OfflineHandler }> = {
  'ofp-print': { min: 1, max: 2, run: ofpPrint },
  'ofp-parse': { min: 1, max: 1, run: ofpParse },
  'ofp-parse-pcap': { min: 1, max: Infinity, run: ofpParsePcap },
};
