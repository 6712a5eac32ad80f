// OpenFlow codec benchmark: tsw's src/openflow against Open vSwitch's own C
// codec (libopenvswitch) on the same bytes, same machine, one run. See
// bench/README.md.
//
//   node --import tsx bench/openflow.ts [--repeat=R] [--scale=S] [--only=tsw] [--no-ofp-parse] [--json]
//   node --import tsx bench/openflow.ts --dump=DIR     (writes the sample messages, for profiling or ovs-ofctl)

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  OfFramer, decodeMessage, encodeMessage,
  type MessageKind, type OfMessage,
} from '../src/openflow/index.js';

interface Options { repeat: number; scale: number; onlyTsw: boolean; ofpParse: boolean; json: boolean; dump?: string }

function parseOptions(argv: string[]): Options {
  const o: Options = { repeat: 5, scale: 1, onlyTsw: false, ofpParse: true, json: false };
  for (const a of argv) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a}`);
    const [, k, v] = m;
    if (k === 'json') o.json = true;
    else if (k === 'only' && v === 'tsw') o.onlyTsw = true;
    else if (k === 'no-ofp-parse') o.ofpParse = false;
    else if (k === 'dump' && v) o.dump = v;
    else if (k === 'repeat' && v && /^\d+$/.test(v) && Number(v) > 0) o.repeat = Number(v);
    else if (k === 'scale' && v && /^\d*\.?\d+$/.test(v) && Number(v) > 0) o.scale = Number(v);
    else throw new Error(`bad option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------- the messages

const ETH_A = 0x020000000001n;
const ETH_B = 0x020000000002n;

/**
 * OF1.3 FLOW_MOD: 10 OXM fields, one apply_actions with 3 actions. Fields
 * and values in the order OVS writes them (nx_put_raw), so OVS's encoder
 * gives back the same bytes and the two codecs do the same work.
 */
const flowMod13: OfMessage = {
  version: 4, xid: 1, kind: 'FLOW_MOD',
  body: {
    cookie: 0x1234n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 60, hard_timeout: 0, priority: 1000,
    buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
    match: {
      in_port: { value: 1n },
      eth_src: { value: ETH_A },
      eth_dst: { value: ETH_B },
      eth_type: { value: 0x0800n },
      vlan_vid: { value: 0x1064n },
      ip_src: { value: 0x0a000000n, mask: 0xffffff00n },
      ip_dst: { value: 0x0a000102n },
      nw_proto: { value: 6n },
      tcp_src: { value: 12345n },
      tcp_dst: { value: 80n },
    },
    instructions: [{
      type: 'apply_actions',
      actions: [
        { type: 'set_field', field: { field: 'eth_dst', value: 0x020000000003n } },
        { type: 'dec_nw_ttl' },
        { type: 'output', port: 2, max_len: 0 },
      ],
    }],
  },
};

/** The same flow as OVS sends it with OpenFlow 1.0 + NXM (NXT_FLOW_MOD). */
const nxFlowMod: OfMessage = {
  version: 1, xid: 1, kind: 'NXT_FLOW_MOD',
  body: {
    cookie: 0x1234n, command: 0, idle_timeout: 60, hard_timeout: 0, priority: 1000, buffer_id: 0xffffffff, out_port: 0xffff, flags: 0,
    match: {
      in_port: { value: 1n },
      eth_src: { value: ETH_A },
      eth_dst: { value: ETH_B },
      eth_type: { value: 0x0800n },
      vlan_tci: { value: 0x1064n },
      ip_src: { value: 0x0a000000n, mask: 0xffffff00n },
      ip_dst: { value: 0x0a000102n },
      nw_proto: { value: 6n },
      tcp_src: { value: 12345n },
      tcp_dst: { value: 80n },
    },
    actions: [
      { type: 'set_dl_dst', dl_addr: '02:00:00:00:00:03' },
      { type: 'nx_dec_ttl' },
      { type: 'output', port: 2, max_len: 0 },
    ],
  },
};

/** A 64-byte TCP frame (Ethernet + IPv4 + TCP + 10 bytes of payload). */
function frame64(): Uint8Array {
  const f = new Uint8Array(64);
  const dv = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  dv.setUint16(12, 0x0800);
  f.set([0x45, 0, 0, 50, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 1, 2], 14);
  dv.setUint16(34, 12345);
  dv.setUint16(36, 80);
  f[46] = 0x50;
  f[47] = 0x02;
  return f;
}

/** OF1.3 PACKET_IN of a table miss, as OVS sends one (no buffer, xid 0, cookie all-ones). */
const packetIn13: OfMessage = {
  version: 4, xid: 0, kind: 'PACKET_IN',
  body: {
    buffer_id: 0xffffffff, total_len: 64, reason: 0, table_id: 0, cookie: 0xffffffffffffffffn,
    match: { in_port: { value: 1n } }, data: frame64(),
  },
};

interface Case {
  readonly name: string;
  readonly msg: OfMessage;
  readonly kind: MessageKind;
  /** ofcodec-bench's KIND argument. */
  readonly c: 'flow_mod' | 'packet_in';
  /** Messages per timed loop at --scale=1 (0.1-0.3 s of tsw work). */
  readonly count: number;
}

const CASES: readonly Case[] = [
  { name: 'FLOW_MOD OF1.3 (10 OXM, 3 actions)', msg: flowMod13, kind: 'FLOW_MOD', c: 'flow_mod', count: 50_000 },
  { name: 'NXT_FLOW_MOD OF1.0 (10 NXM, 3 actions)', msg: nxFlowMod, kind: 'NXT_FLOW_MOD', c: 'flow_mod', count: 50_000 },
  { name: 'PACKET_IN OF1.3 (64-byte frame)', msg: packetIn13, kind: 'PACKET_IN', c: 'packet_in', count: 100_000 },
];

const STREAM_MESSAGES = 10_000;

// ---------------------------------------------------------------- checks

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The bench must not time a decoder that fails or a message that is not the one intended. */
function checkCase(c: Case, bytes: Uint8Array): void {
  const m = decodeMessage(bytes);
  if (m.kind !== c.kind || m.version !== c.msg.version) {
    throw new Error(`${c.name}: decoded as ${m.kind} version ${m.version}, expected ${c.kind} version ${c.msg.version}`);
  }
  if (!sameBytes(encodeMessage(m), bytes)) throw new Error(`${c.name}: encode(decode(bytes)) differs from bytes`);
}

// ---------------------------------------------------------------- timing

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Runs `loop(n)` once unmeasured to warm the JIT, then `repeat` timed
 * runs; returns the median rate. `loop` returns a checksum that must equal
 * `expect(n)`, so a loop that did nothing (or something else) fails loudly.
 */
function measure(n: number, repeat: number, loop: (n: number) => number, expect: (n: number) => number, what: string): number {
  const warm = n;
  if (loop(warm) !== expect(warm)) throw new Error(`${what}: warm-up checksum mismatch`);
  const rates: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const sum = loop(n);
    const dt = (performance.now() - t0) / 1000;
    if (sum !== expect(n)) throw new Error(`${what}: checksum ${sum}, expected ${expect(n)}`);
    rates.push(n / dt);
  }
  return median(rates);
}

function decodeLoop(bytes: Uint8Array): (n: number) => number {
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += decodeMessage(bytes).body === undefined ? 0 : 1;
    return sum;
  };
}

function encodeLoop(m: OfMessage): (n: number) => number {
  return (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += encodeMessage(m).length;
    return sum;
  };
}

/** The stream the framing rows split: the three messages in turn, STREAM_MESSAGES in all. */
function stream(samples: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < STREAM_MESSAGES; i++) parts.push(samples[i % samples.length]);
  return Buffer.concat(parts);
}

/** Feeds `buf` to a fresh framer in `chunk`-byte reads; returns the messages it yielded. */
function frame(buf: Uint8Array, chunk: number): number {
  const f = new OfFramer();
  let n = 0;
  for (let at = 0; at < buf.length; at += chunk) n += f.push(buf.subarray(at, Math.min(at + chunk, buf.length))).length;
  if (f.buffered !== 0) throw new Error('framing left bytes behind');
  return n;
}

// ---------------------------------------------------------------- Open vSwitch

const here = dirname(fileURLToPath(import.meta.url));
const CACHE = join(here, '..', 'node_modules', '.cache', 'tsw-bench-openflow');

/** Builds bench/openflow-c against libopenvswitch (once per cache); undefined with the reason when it cannot. */
function buildOvsBench(): { path?: string; why?: string } {
  const r = spawnSync(join(here, 'openflow-c', 'build.sh'), [CACHE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) return { why: `bench/openflow-c/build.sh exited with ${r.status ?? r.signal}` };
  return { path: r.stdout.trim().split('\n').pop() };
}

interface OvsResult { roundtrip: boolean; decode: number[]; encode: number[] }

function runOvsBench(bin: string, file: string, c: Case, count: number, repeat: number): OvsResult {
  const out = execFileSync(bin, [file, c.c, String(count), String(repeat)], { encoding: 'utf8' });
  return JSON.parse(out) as OvsResult;
}

function ovsOfctl(): string | undefined {
  const r = spawnSync('ovs-ofctl', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

/**
 * `ovs-ofctl ofp-parse FILE` on `n` copies of a message: decode and print.
 * Printing dominates, so this is a reference, not a codec rate. Process
 * start-up is removed by timing a one-message file too.
 */
function ofpParseRate(dir: string, bytes: Uint8Array, n: number, repeat: number): number {
  const one = join(dir, 'one.bin');
  const many = join(dir, 'many.bin');
  writeFileSync(one, bytes);
  writeFileSync(many, Buffer.concat(Array.from({ length: n }, () => bytes)));
  const time = (file: string): number => {
    const t0 = performance.now();
    const r = spawnSync('ovs-ofctl', ['ofp-parse', file], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    const dt = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`ovs-ofctl ofp-parse failed: ${r.stderr.toString()}`);
    return dt;
  };
  time(many);
  const rates: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const base = time(one);
    rates.push((n - 1) / Math.max(time(many) - base, 1e-6));
  }
  return median(rates);
}

// ---------------------------------------------------------------- main

interface Row { label: string; tsw: number; ovs?: number; note?: string }

function fmtRate(x: number | undefined): string {
  if (x === undefined) return '-';
  return Math.round(x).toLocaleString('en-US');
}

function main(): void {
  const o = parseOptions(process.argv.slice(2));
  const rows: Row[] = [];
  const notes: string[] = [];
  const samples = CASES.map((c) => {
    const b = encodeMessage(c.msg);
    checkCase(c, b);
    return b;
  });
  if (o.dump) {
    CASES.forEach((c, i) => writeFileSync(join(o.dump as string, `${c.kind.toLowerCase()}-of${c.msg.version === 1 ? 10 : 13}.bin`), samples[i]));
    return;
  }

  let ovsBin: string | undefined;
  if (!o.onlyTsw) {
    const built = buildOvsBench();
    ovsBin = built.path;
    if (!ovsBin) notes.push(`OVS C codec not measured: ${built.why}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsw-bench-openflow-'));
  try {
    CASES.forEach((c, i) => {
      const bytes = samples[i];
      const n = Math.max(1, Math.round(c.count * o.scale));
      const decoded = decodeMessage(bytes);
      const dec = measure(n, o.repeat, decodeLoop(bytes), (k) => k, `${c.name} decode`);
      const enc = measure(n, o.repeat, encodeLoop(decoded), (k) => k * bytes.length, `${c.name} encode`);
      let ovs: OvsResult | undefined;
      if (ovsBin) {
        const file = join(dir, `${c.c}-${i}.bin`);
        writeFileSync(file, bytes);
        // OVS is several times faster; more iterations keep its loops as long as ours.
        ovs = runOvsBench(ovsBin, file, c, n * 5, o.repeat);
        if (!ovs.roundtrip) notes.push(`${c.name}: OVS's encode(decode(bytes)) differs from the bytes (besides the xid)`);
      }
      rows.push({ label: `${c.name} decode`, tsw: dec, ovs: ovs && median(ovs.decode) });
      rows.push({ label: `${c.name} encode`, tsw: enc, ovs: ovs && median(ovs.encode) });
    });

    const buf = stream(samples);
    const nStream = Math.max(1, Math.round(20 * o.scale));
    for (const [label, chunk] of [['one buffer', buf.length], ['1460-byte reads', 1460]] as const) {
      const rate = measure(nStream, o.repeat, (k) => {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += frame(buf, chunk);
        return sum;
      }, (k) => k * STREAM_MESSAGES, `framing ${label}`);
      rows.push({ label: `stream split, ${STREAM_MESSAGES} msgs in ${label}`, tsw: rate * STREAM_MESSAGES });
    }

    const ofctl = o.onlyTsw || !o.ofpParse ? undefined : ovsOfctl();
    if (ofctl) {
      CASES.forEach((c, i) => {
        const rate = ofpParseRate(dir, samples[i], Math.max(2, Math.round(2000 * o.scale)), Math.min(o.repeat, 3));
        rows.push({ label: `${c.name} ofp-parse (decode+print)`, tsw: NaN, ovs: rate, note: 'reference' });
      });
      notes.push(`ofp-parse rows: ${ofctl} \`ofp-parse FILE\` decodes and prints each message; printing dominates, so they bound OVS's decode from below and have no tsw counterpart.`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (o.json) {
    console.log(JSON.stringify({ rows, notes }, null, 2));
    return;
  }
  const w0 = Math.max(...rows.map((r) => r.label.length), 'measurement (messages/s)'.length);
  const head = ['tsw', 'OVS (C)', 'tsw/ovs'];
  console.log(`${'measurement (messages/s)'.padEnd(w0)}  ${head.map((h) => h.padStart(12)).join('  ')}`);
  for (const r of rows) {
    const ratio = r.ovs !== undefined && Number.isFinite(r.tsw) ? (r.tsw / r.ovs).toFixed(2) : '-';
    const tsw = Number.isFinite(r.tsw) ? fmtRate(r.tsw) : '-';
    console.log(`${r.label.padEnd(w0)}  ${[tsw, fmtRate(r.ovs), ratio].map((x) => x.padStart(12)).join('  ')}`);
  }
  for (const n of notes) console.log(`\n${n}`);
}

main();
