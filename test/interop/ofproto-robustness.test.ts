// tsw-vswitchd's OpenFlow side against hostile clients (issue 4), over the
// bridge's br0.mgmt socket:
// - a malformed or unknown message gets the error OVS sends for it, quoting at
//   least its first 64 bytes, and the connection still answers ECHO; every case
//   also runs against Debian's ovs-vswitchd, so the expected errors are OVS's;
// - several fuzzing clients (mutated samples, garbage, bad lengths) for a time
//   budget (TSW_FUZZ_SECONDS, default 20; TSW_FUZZ_SEED) neither stop the
//   daemon, nor grow it past a memory bound, nor make it log internal errors;
// - 100 connections at once, dropped abruptly, then 100 half-open ones, leave
//   the bridge serving ovs-ofctl and no file descriptors behind;
// - clients that never read their replies hold a bounded amount of memory.
// Known differences from OVS run as todo tests, each naming the code at fault.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  OfError, OfFramer, decodeMessage, encodeMessage, errorBodyName, flowModMessage, makeHello, parseFlow,
  type ErrorBody, type OfMessage,
} from '../../src/openflow/index.js';
import { messageArb } from '../unit/openflow-arb.js';
import { samplesFor } from '../unit/openflow-samples.js';
import { SWITCH_IMPLS, okOutput, realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';

const built = existsSync(join(import.meta.dirname, '..', '..', 'dist', 'vswitchd', 'main.js'));
const missing = realOvsMissing() ?? (built ? null : 'dist/ is missing: run npm run build first');
const skip = missing ?? false;

const OF10 = 1;
const OF13 = 4;
const VERSIONS = [1, 4, 5, 6] as const;
const BAD_XID = 0x0bad0001;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function header(version: number, type: number, length: number, xid: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, version);
  dv.setUint8(1, type);
  dv.setUint16(2, length);
  dv.setUint32(4, xid);
  return b;
}

function xidOf(raw: Uint8Array): number {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(4);
}

// ------------------------------------------------------------------ a raw client

/** An OpenFlow peer on a unix socket that sends raw bytes and reads framed replies. */
class Peer {
  /** Messages received and not yet taken by until(). */
  private received: Uint8Array[] = [];
  private readonly framer = new OfFramer();
  private wake: (() => void) | null = null;
  closed = false;
  private echoXid = 0x7e000000;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => {
      try {
        for (const m of this.framer.push(b)) this.received.push(m);
      } catch {
        sock.destroy();
      }
      this.notify();
    });
    sock.on('close', () => { this.closed = true; this.notify(); });
    sock.on('error', () => undefined);
  }

  /** Connects; with `version`, completes the HELLO exchange offering only that version. */
  static async open(path: string, version?: number, ms = 5000): Promise<Peer> {
    const sock = net.createConnection(path);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    const p = new Peer(sock);
    if (version !== undefined) {
      p.send(encodeMessage(makeHello(1 << version, 1)));
      await p.until((m) => m[1] === 0, ms, 'HELLO');
    }
    return p;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  send(bytes: Uint8Array): void {
    if (!this.closed) this.sock.write(bytes);
  }

  /** Every message up to and including the first that satisfies `pred` (which is the last one). */
  async until(pred: (raw: Uint8Array) => boolean, ms: number, what: string): Promise<Uint8Array[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(0, i + 1);
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.wake = () => { clearTimeout(t); res(); };
      });
    }
  }

  /** Sends an ECHO_REQUEST in `version` and resolves with everything received before its reply. */
  async echo(version: number, ms = 5000): Promise<Uint8Array[]> {
    const xid = this.echoXid++;
    this.send(encodeMessage({ version, xid, kind: 'ECHO_REQUEST', body: { data: new Uint8Array([1, 2, 3, 4]) } }));
    const got = await this.until((m) => m[1] === 3 && xidOf(m) === xid, ms, `ECHO_REPLY ${xid}`);
    return got.slice(0, -1);
  }

  destroy(): void {
    this.sock.destroy();
  }
}

// ------------------------------------------------------------------ error cases

interface ErrorCase {
  what: string;
  /** The session's version. */
  version: number;
  /** The offending message (xid BAD_XID). */
  bytes: Uint8Array;
  /** The error name both switches must send. */
  expect: string;
  /** A known difference of tsw from OVS: the tsw run is a todo with this reason. */
  tswTodo?: string;
}

const flowMod13 = (text: string, tweak?: (body: Record<string, unknown>) => void): Uint8Array => {
  const m = flowModMessage(parseFlow(text), 'OpenFlow13', BAD_XID);
  tweak?.(m.body as unknown as Record<string, unknown>);
  return encodeMessage(m);
};

/** What the codec says about bytes it cannot decode. */
function codecError(bytes: Uint8Array): string {
  try {
    decodeMessage(bytes);
  } catch (e) {
    if (e instanceof OfError) return e.error;
    throw e;
  }
  throw new Error('the codec decodes this message');
}

/** A known tsw bug, found by the fuzz run (see KNOWN_INTERNAL_ERRORS). */
const badPortTodo = 'actionFromWire (src/openflow/text/wire.ts) keeps an OF1.1+ port with no 16-bit form; the flow/group '
  + 'is stored and every later FLOW/GROUP_DESC reply fails to encode (OFPBRC_EPERM)';

/** Another, also found by the fuzz run. */
const of10DumpTodo = 'actionToWire (src/openflow/text/wire.ts) throws for push_vlan in OpenFlow10/NXM, where OVS encodes '
  + 'nothing (a VLAN set implies the push), so one OF1.3 flow with push_vlan makes every OF1.0 flow dump fail (OFPBRC_EPERM); '
  + 'likewise an action with no encoding in the dump\'s version fails the whole dump';

function errorCases(): ErrorCase[] {
  // 100 bytes of an OF1.3 type no version defines: the error quotes at least the first 64.
  const unknownType = new Uint8Array(100).map((_, i) => i);
  unknownType.set(header(OF13, 0xc8, 100, BAD_XID));
  const unknownType10 = new Uint8Array(24).map((_, i) => i);
  unknownType10.set(header(OF10, 0x7f, 24, BAD_XID));

  // ofp_match.length (offset 50 in an OF1.3 FLOW_MOD) pointing past the end of the message.
  const longMatch = flowMod13('ip,nw_src=10.0.0.1,actions=drop');
  new DataView(longMatch.buffer).setUint16(50, 0x200);
  // ... and shorter than its own 4-byte header.
  const shortMatch = flowMod13('ip,nw_src=10.0.0.1,actions=drop');
  new DataView(shortMatch.buffer).setUint16(50, 2);

  // MULTIPART_REQUEST (OF1.3 type 18) / STATS_REQUEST (OF1.0 type 16) of stats type 0x77.
  const unknownStat = new Uint8Array(16);
  unknownStat.set(header(OF13, 18, 16, BAD_XID));
  new DataView(unknownStat.buffer).setUint16(8, 0x77);
  const unknownStat10 = new Uint8Array(12);
  unknownStat10.set(header(OF10, 16, 12, BAD_XID));
  new DataView(unknownStat10.buffer).setUint16(8, 0x77);

  const v13OnV10 = encodeMessage({ version: OF13, xid: BAD_XID, kind: 'FEATURES_REQUEST', body: {} });
  const vendor = encodeMessage({ version: OF13, xid: BAD_XID, kind: 'EXPERIMENTER', body: { experimenter: 0x00abcdef, exp_type: 1, data: new Uint8Array(8) } });

  // The last action of 'actions=output:1' (OF1.3: instruction header at -24, output action at -16) given an unknown type.
  const badAction = flowMod13('actions=output:1');
  new DataView(badAction.buffer).setUint16(badAction.length - 16, 0x77);
  const badInst = flowMod13('actions=output:1');
  new DataView(badInst.buffer).setUint16(badInst.length - 24, 0x77);
  const longBarrier = new Uint8Array(12);
  longBarrier.set(header(OF13, 20, 12, BAD_XID));
  const nxSubtype = encodeMessage({ version: OF13, xid: BAD_XID, kind: 'EXPERIMENTER', body: { experimenter: 0x2320, exp_type: 0x7777, data: new Uint8Array(8) } });
  const noEthType = (b: Record<string, unknown>): void => { delete (b.match as Record<string, unknown>).eth_type; };
  // OF1.1+ ports between 0xff00 and 0xffffff00 have no 16-bit form.
  const badPort = [{ type: 'output', port: 0x40001, max_len: 0 }];

  return [
    { what: 'an unknown message type (OF1.3)', version: OF13, bytes: unknownType, expect: 'OFPBRC_BAD_TYPE' },
    { what: 'an unknown message type (OF1.0)', version: OF10, bytes: unknownType10, expect: 'OFPBRC_BAD_TYPE' },
    { what: 'a FLOW_MOD whose match length runs past the message', version: OF13, bytes: longMatch, expect: codecError(longMatch) },
    { what: 'a FLOW_MOD whose match length is shorter than its header', version: OF13, bytes: shortMatch, expect: codecError(shortMatch) },
    { what: 'an unknown statistics type (OF1.3)', version: OF13, bytes: unknownStat, expect: 'OFPBRC_BAD_STAT' },
    { what: 'an unknown statistics type (OF1.0)', version: OF10, bytes: unknownStat10, expect: 'OFPBRC_BAD_STAT' },
    {
      what: 'an OF1.3 FLOW_MOD matching ipv4_src without eth_type', version: OF13, expect: 'OFPBMC_BAD_PREREQ',
      bytes: flowMod13('ip,nw_src=10.0.0.1,actions=drop', noEthType),
    },
    { what: 'goto_table to an earlier table', version: OF13, bytes: flowMod13('table=5,actions=goto_table:2'), expect: 'OFPBIC_BAD_TABLE_ID' },
    { what: 'a group action to a missing group', version: OF13, bytes: flowMod13('actions=group:77'), expect: 'OFPBAC_BAD_OUT_GROUP' },
    {
      what: 'a PACKET_OUT with an unknown buffer_id', version: OF13, expect: 'OFPBRC_BUFFER_UNKNOWN',
      bytes: encodeMessage({ version: OF13, xid: BAD_XID, kind: 'PACKET_OUT', body: { buffer_id: 0x1234, in_port: 0xfffffffd, actions: [{ type: 'output', port: 1, max_len: 0 }], data: new Uint8Array(0) } } as unknown as OfMessage),
    },
    {
      what: 'a PORT_MOD to a missing port', version: OF13, expect: 'OFPPMFC_BAD_PORT',
      bytes: encodeMessage({ version: OF13, xid: BAD_XID, kind: 'PORT_MOD', body: { port_no: 77, hw_addr: '02:00:00:00:00:77', config: 1, mask: 1, advertise: 0 } } as unknown as OfMessage),
    },
    { what: 'an OF1.3 message on an OF1.0 session', version: OF10, bytes: v13OnV10, expect: 'OFPBRC_BAD_VERSION' },
    { what: 'an experimenter message of an unknown vendor', version: OF13, bytes: vendor, expect: 'OFPBRC_BAD_VENDOR' },
    { what: 'a Nicira message of an unknown subtype', version: OF13, bytes: nxSubtype, expect: 'OFPBRC_BAD_SUBTYPE' },
    { what: 'a BARRIER_REQUEST longer than its fixed size', version: OF13, bytes: longBarrier, expect: 'OFPBRC_BAD_LEN' },
    { what: 'an action of an unknown type', version: OF13, bytes: badAction, expect: 'OFPBAC_BAD_TYPE' },
    { what: 'an instruction of an unknown type', version: OF13, bytes: badInst, expect: 'OFPBIC_UNKNOWN_INST' },
    { what: 'a set_field whose prerequisite the match lacks', version: OF13, bytes: flowMod13('ip,actions=set_field:10.0.0.1->ip_src', noEthType), expect: 'OFPBAC_MATCH_INCONSISTENT' },
    { what: 'a FLOW_MOD into the internal table 254', version: OF13, bytes: flowMod13('table=254,actions=drop'), expect: 'OFPBRC_EPERM' },
    {
      what: 'a TABLE_MOD of the internal table 254', version: OF13, expect: 'OFPTMFC_EPERM',
      bytes: encodeMessage({ version: OF13, xid: BAD_XID, kind: 'TABLE_MOD', body: { table_id: 254, config: 0 } } as OfMessage),
    },
    {
      what: 'a meter instruction to a missing meter', version: OF13, bytes: flowMod13('actions=meter:5,output:1'), expect: 'OFPMMFC_INVALID_METER',
    },
    {
      what: 'an output action to a 32-bit port with no 16-bit form', version: OF13, expect: 'OFPBAC_BAD_OUT_PORT',
      bytes: flowMod13('actions=drop', (b) => { b.instructions = [{ type: 'apply_actions', actions: badPort }]; }),
    },
    {
      what: 'a group bucket output to a 32-bit port with no 16-bit form', version: OF13, expect: 'OFPBAC_BAD_OUT_PORT',
      bytes: encodeMessage({
        version: OF13, xid: BAD_XID, kind: 'GROUP_MOD',
        body: { command: 0, type: 0, group_id: 1, buckets: [{ weight: 0, watch_port: 0xffffffff, watch_group: 0xffffffff, actions: badPort }] },
      } as unknown as OfMessage),
    },
    {
      what: 'a PACKET_OUT to a 32-bit port with no 16-bit form', version: OF13, expect: 'OFPBAC_BAD_OUT_PORT',
      bytes: encodeMessage({ version: OF13, xid: BAD_XID, kind: 'PACKET_OUT', body: { buffer_id: 0xffffffff, in_port: 0xfffffffd, actions: badPort, data: new Uint8Array(60) } } as unknown as OfMessage),
    },
    { what: 'a HELLO after the handshake', version: OF13, bytes: encodeMessage(makeHello(1 << OF13, BAD_XID)), expect: 'OFPBRC_BAD_TYPE' },
    {
      what: 'a switch-to-controller message (OF1.0 FEATURES_REPLY)', version: OF10, expect: 'OFPBRC_BAD_TYPE',
      bytes: encodeMessage({ version: OF10, xid: BAD_XID, kind: 'FEATURES_REPLY', body: { datapath_id: 1n, n_buffers: 0, n_tables: 1, capabilities: 0, actions: 0, ports: [] } } as OfMessage),
    },
    {
      what: 'an OF1.0 PACKET_OUT with an unknown buffer_id', version: OF10, expect: 'OFPBRC_BUFFER_UNKNOWN',
      bytes: encodeMessage({ version: OF10, xid: BAD_XID, kind: 'PACKET_OUT', body: { buffer_id: 0x1234, in_port: 0xfffd, actions: [{ type: 'output', port: 1, max_len: 0 }], data: new Uint8Array(0) } } as unknown as OfMessage),
    },
    {
      what: 'an OF1.0 PORT_MOD to a missing port', version: OF10, expect: 'OFPPMFC_BAD_PORT',
      bytes: encodeMessage({ version: OF10, xid: BAD_XID, kind: 'PORT_MOD', body: { port_no: 77, hw_addr: '02:00:00:00:00:77', config: 1, mask: 1, advertise: 0 } } as unknown as OfMessage),
    },
  ];
}

/** The ERROR answering xid BAD_XID among `got`: its name and quoted bytes. */
function errorAnswer(got: Uint8Array[], version: number): { name: string; data: Uint8Array } | null {
  for (const raw of got) {
    if (raw[1] !== 1 || xidOf(raw) !== BAD_XID) continue;
    const body = decodeMessage(raw).body as ErrorBody;
    return { name: errorBodyName(version, body) ?? `unnamed error ${JSON.stringify(body)}`, data: (body as { data: Uint8Array }).data };
  }
  return null;
}

for (const impl of SWITCH_IMPLS) {
  describe(`${impl}: malformed and unknown messages get OVS's error and the connection survives`, { skip }, () => {
    let stack: RealOvs;
    const peers = new Map<number, Peer>();
    before(async () => {
      stack = await startRealOvs({ impl, bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
      for (const v of [OF10, OF13]) peers.set(v, await Peer.open(stack.mgmt('br0'), v));
    });
    after(async () => {
      for (const p of peers.values()) p.destroy();
      await stack?.stop();
    });

    for (const c of errorCases()) {
      const todo = impl === 'tsw' ? c.tswTodo : undefined;
      test(`${c.what}: ${c.expect} quoting at least 64 bytes of it, then ECHO still answered`, { todo }, async () => {
        const peer = peers.get(c.version)!;
        peer.send(c.bytes);
        const got = await peer.echo(c.version);
        const err = errorAnswer(got, c.version);
        assert.ok(err, `no ERROR for xid ${BAD_XID.toString(16)}; got types ${got.map((m) => m[1]).join(',')}`);
        assert.equal(err.name, c.expect);
        // The specification asks for at least the first 64 bytes; OVS 3.1 quotes the whole message, tsw 64.
        assert.ok(err.data.length >= Math.min(64, c.bytes.length), `only ${err.data.length} bytes quoted`);
        assert.deepEqual(err.data, c.bytes.subarray(0, err.data.length));
        // A second echo: nothing queued behind the error took the connection down.
        await peer.echo(c.version);
      });
    }

    test('a flow an OF1.3 client adds with push_vlan still shows in an OF1.0 dump-flows', {}, async () => {
      const flow = 'priority=8,in_port=2,actions=push_vlan:0x8100,output:1';
      okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'add-flow', 'br0', flow]), 'ovs-ofctl add-flow');
      try {
        const out = okOutput(await stack.ofctl(['dump-flows', 'br0']), 'ovs-ofctl dump-flows br0');
        assert.doesNotMatch(out, /OFPT_ERROR/);
        assert.match(out, /priority=8,in_port=2 actions=output:1/);
      } finally {
        okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'del-flows', 'br0', 'in_port=2']), 'ovs-ofctl del-flows');
      }
    });

    test('afterwards the bridge still lists its flows and groups to ovs-ofctl', {}, async () => {
      // ovs-ofctl prints an OFPT_ERROR answer to a dump and still exits 0.
      for (const cmd of ['dump-flows', 'dump-groups']) {
        const out = okOutput(await stack.ofctl(['-O', 'OpenFlow13', cmd, 'br0']), `ovs-ofctl ${cmd} br0`);
        assert.doesNotMatch(out, /OFPT_ERROR/, `ovs-ofctl ${cmd} br0`);
      }
    });
  });
}

// ------------------------------------------------------------------ fuzzing

/** xorshift32: deterministic and cheap. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

function fuzzSeeds(): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  for (const v of VERSIONS) out.set(v, samplesFor(v).map((m) => encodeMessage(m)));
  for (const m of fc.sample(messageArb(), { numRuns: 600, seed: 4 })) {
    const bytes = encodeMessage(m);
    if (bytes.length <= 4096) out.get(m.version)?.push(bytes);
  }
  return out;
}

function setLength(b: Uint8Array, len: number): void {
  b[2] = (len >> 8) & 0xff;
  b[3] = len & 0xff;
}

/**
 * One hostile message for a session in `version`. `desync` is set for the
 * modes that leave the stream out of step (a declared length the bytes do not
 * fill): the switch then rightly waits for more, so the caller hangs up.
 */
function hostile(seeds: Map<number, Uint8Array[]>, version: number, next: () => number): { bytes: Uint8Array; desync: boolean } {
  // Mostly the session's version, so the messages reach the handlers rather than stopping at BAD_VERSION.
  const v = next() % 8 === 0 ? VERSIONS[next() % VERSIONS.length]! : version;
  const pool = seeds.get(v)!;
  const base = pool[next() % pool.length]!;
  // Modes 2 and 7 put the stream out of step and end the session, so they are the rare ones.
  const r = next() % 256;
  const mode = r === 0 ? 7 : r < 4 ? 2 : r % 7;
  switch (mode) {
    case 0: { // a sample as it is
      return { bytes: base, desync: false };
    }
    case 1: { // flipped bits, header length kept right
      const b = base.slice();
      const flips = 1 + (next() % 4);
      for (let j = 0; j < flips; j++) {
        const at = 8 + (next() % Math.max(1, b.length - 8));
        if (at < b.length) b[at]! ^= 1 << (next() % 8);
      }
      return { bytes: b, desync: false };
    }
    case 2: { // flipped bits anywhere, the header included
      const b = base.slice();
      b[next() % b.length]! ^= 1 << (next() % 8);
      const len = (b[2]! << 8) | b[3]!;
      return { bytes: b, desync: len !== b.length };
    }
    case 3: { // truncated, header says the truncated length
      const b = base.slice(0, 8 + (next() % Math.max(1, base.length - 8)));
      setLength(b, b.length);
      return { bytes: b, desync: false };
    }
    case 4: { // an inner length-like u16 corrupted
      const b = base.slice();
      if (b.length > 12) {
        const at = 8 + (next() % (b.length - 9));
        b[at] = next() & 0xff;
        b[at + 1] = next() & 0xff;
      }
      return { bytes: b, desync: false };
    }
    case 5: { // a valid header of any type, random garbage after it (now and then the largest message there is)
      const n = next() % 16 === 0 ? 0xffff - 8 : next() % 200;
      const b = new Uint8Array(8 + n);
      for (let j = 8; j < b.length; j++) b[j] = next() & 0xff;
      b.set(header(v, next() % 40, b.length, next()));
      return { bytes: b, desync: false };
    }
    case 6: { // the sample with trailing garbage counted in the header
      const extra = 1 + (next() % 64);
      const b = new Uint8Array(base.length + extra);
      b.set(base);
      for (let j = base.length; j < b.length; j++) b[j] = next() & 0xff;
      setLength(b, b.length);
      return { bytes: b, desync: false };
    }
    default: { // a huge declared length the bytes never fill (or under the header size)
      const b = base.slice();
      setLength(b, next() % 4 === 0 ? next() % 8 : 0xff00 + (next() % 0x100));
      return { bytes: b, desync: true };
    }
  }
}

interface FuzzStats { messages: number; echoes: number; sessions: number; hangups: number; closedBySwitch: number; connectFailures: number }

async function fuzzClient(path: string, seeds: Map<number, Uint8Array[]>, seed: number, deadline: number, stats: FuzzStats): Promise<void> {
  const next = rng(seed);
  while (Date.now() < deadline) {
    const version = VERSIONS[next() % VERSIONS.length]!;
    let peer: Peer;
    try {
      peer = await Peer.open(path, version);
    } catch {
      stats.connectFailures++;
      await sleep(50);
      continue;
    }
    stats.sessions++;
    try {
      session: for (let batch = 0; batch < 40 && Date.now() < deadline; batch++) {
        for (let i = 0; i < 16; i++) {
          const h = hostile(seeds, version, next);
          peer.send(h.bytes);
          stats.messages++;
          if (h.desync) {
            stats.hangups++;
            break session;
          }
        }
        await peer.echo(version, 10_000);
        stats.echoes++;
      }
    } catch (e) {
      // The switch may hang up on a stream it cannot frame (a length under 8) or after a
      // HELLO_FAILED; anything else (an echo never answered on an in-step stream) is a failure.
      if (!peer.closed) throw e;
      stats.closedBySwitch++;
    } finally {
      peer.destroy();
    }
  }
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Internal errors the fuzz run is known to provoke, each with why; anything
 * else the daemon logs at ERR (an exception caught around a handler) fails it.
 */
const KNOWN_INTERNAL_ERRORS: ReadonlyArray<{ re: RegExp; why: string }> = [
  {
    re: /(MULTIPART_REQUEST|FLOW_MOD) failed: RangeError: u32: \d+ is not an unsigned 32-bit integer/,
    why: badPortTodo,
  },
  // push_vlan in OF1.0 (see of10DumpTodo); mod_tp_src/dst from OF1.0 without an L4 match, dumped in OF1.3+.
  { re: /MULTIPART_REQUEST failed: RangeError: \w+ has no encoding in OpenFlow1\d/, why: of10DumpTodo },
];

/** ERR/EMER lines of a log excerpt that no known issue explains. */
function unexplainedErrors(log: string): string[] {
  return log.split('\n')
    .filter((l) => /\|(ERR|EMER)\|/.test(l))
    .filter((l) => !KNOWN_INTERNAL_ERRORS.some((k) => k.re.test(l)));
}

function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const FUZZ_SECONDS = Number(process.env.TSW_FUZZ_SECONDS ?? 20);
/** TSW_FUZZ_SEED varies the run; the default keeps it the same every time. */
const FUZZ_SEED = Number(process.env.TSW_FUZZ_SEED ?? 0x5eed);
const FUZZ_CLIENTS = 4;
const RSS_LIMIT_KB = 300 * 1024;
const RSS_GROWTH_KB = 50 * 1024;

/** The text of a file from byte `offset` on. */
function readFrom(path: string, offset: number): string {
  const size = logSize(path);
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

describe('tsw: hostile clients cannot stop tsw-vswitchd', { skip }, () => {
  let stack: RealOvs;
  /** Bytes the daemon logged during the fuzz run (-1: it did not run). */
  let logGrowth = -1;
  before(async () => {
    stack = await startRealOvs({ impl: 'tsw', bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
  });
  after(async () => {
    await stack?.stop();
  });

  async function assertServing(what: string): Promise<void> {
    const pid = stack.pids.vswitchd;
    assert.ok(alive(pid), `tsw-vswitchd died ${what}:\n${stack.diagnostics()}`);
    const v = await stack.appctl(['version']);
    assert.equal(v.code, 0, `ovs-appctl version ${what}: ${v.stderr}`);
    const p = await Peer.open(stack.mgmt('br0'), OF13);
    await p.echo(OF13);
    p.destroy();
  }

  test(`${FUZZ_CLIENTS} fuzzing clients for ${FUZZ_SECONDS} s: the daemon answers throughout and its memory stays bounded`, { timeout: (FUZZ_SECONDS + 60) * 1000 }, async () => {
    const pid = stack.pids.vswitchd;
    const path = stack.mgmt('br0');
    const seeds = fuzzSeeds();
    const start = Date.now();
    const deadline = start + FUZZ_SECONDS * 1000;
    const stats: FuzzStats = { messages: 0, echoes: 0, sessions: 0, hangups: 0, closedBySwitch: 0, connectFailures: 0 };
    const rss: Array<[number, number]> = [[0, rssKb(pid)]];
    const logStart = logSize(stack.logs.vswitchd);
    let done = false;
    // Samples memory, and clears what valid flow/group/meter mods legitimately add, so growth means a leak.
    const janitor = (async () => {
      const j = await Peer.open(path, OF13);
      const clear = [
        flowModMessage(parseFlow('', 'delete'), 'OpenFlow13', 1),
        { version: OF13, xid: 2, kind: 'GROUP_MOD', body: { command: 2, type: 0, group_id: 0xfffffffc, buckets: [] } },
        { version: OF13, xid: 3, kind: 'METER_MOD', body: { command: 2, flags: 0, meter_id: 0xffffffff, bands: [] } },
      ].map((m) => encodeMessage(m as OfMessage));
      try {
        while (!done) {
          await sleep(1000);
          if (!alive(pid)) return;
          rss.push([Date.now() - start, rssKb(pid)]);
          for (const b of clear) j.send(b);
          await j.echo(OF13, 15_000);
        }
      } finally {
        j.destroy();
      }
    })();
    try {
      await Promise.all(Array.from({ length: FUZZ_CLIENTS }, (_, i) => fuzzClient(path, seeds, FUZZ_SEED + i * 7919, deadline, stats)));
    } finally {
      done = true;
    }
    await janitor;
    await assertServing('after the fuzz run');
    rss.push([Date.now() - start, rssKb(pid)]);
    const mid = rss.reduce((best, s) => (Math.abs(s[0] - FUZZ_SECONDS * 500) < Math.abs(best[0] - FUZZ_SECONDS * 500) ? s : best));
    const end = rss[rss.length - 1]!;
    const peak = Math.max(...rss.map((s) => s[1]));
    logGrowth = logSize(stack.logs.vswitchd) - logStart;
    if (process.env.TSW_DEBUG) console.log(stats, rss, `log grew ${logGrowth} bytes`);
    assert.ok(stats.echoes > 100 && stats.messages > 5000, `too little traffic: ${JSON.stringify(stats)}`);
    assert.equal(stats.connectFailures, 0);
    assert.ok(peak < RSS_LIMIT_KB, `RSS peaked at ${peak} kB: ${JSON.stringify(rss)}`);
    assert.ok(end[1] - mid[1] < RSS_GROWTH_KB, `RSS grew from ${mid[1]} kB at ${mid[0]} ms to ${end[1]} kB at ${end[0]} ms`);
    const unexplained = unexplainedErrors(readFrom(stack.logs.vswitchd, logStart));
    assert.deepEqual(unexplained.slice(0, 5), [], `${unexplained.length} internal errors logged`);
  });

  test('a hostile client cannot make the log grow without bound (OVS rate-limits error-reply logging)', () => {
    assert.ok(logGrowth >= 0, 'the fuzz test did not run');
    const perSecond = logGrowth / FUZZ_SECONDS;
    assert.ok(perSecond < 20_000, `the log grew ${logGrowth} bytes in ${FUZZ_SECONDS} s`);
  });

  test('100 connections at once doing HELLO and FEATURES_REQUEST, dropped abruptly, then 100 half-open ones: ovs-ofctl show still works', { timeout: 60_000 }, async () => {
    const pid = stack.pids.vswitchd;
    const path = stack.mgmt('br0');
    await sleep(300);
    const fdsBefore = fdCount(pid);
    const features = encodeMessage({ version: OF13, xid: 5, kind: 'FEATURES_REQUEST', body: {} });
    // Half wait for their FEATURES_REPLY, half hang up right after asking (the switch writes to a closed socket).
    const storm = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const p = await Peer.open(path);
      p.send(encodeMessage(makeHello(1 << OF13, 1)));
      p.send(features);
      if (i % 2 === 0) {
        p.destroy();
        return false;
      }
      await p.until((m) => m[1] === 6 && xidOf(m) === 5, 20_000, 'FEATURES_REPLY');
      return p;
    }));
    const answered = storm.filter((p): p is Peer => p !== false);
    assert.equal(answered.length, 50);
    for (const p of answered) p.destroy();

    // Half-open: connected, the switch's HELLO unread, ours never sent.
    const idle = await Promise.all(Array.from({ length: 100 }, () => Peer.open(path)));
    try {
      const show = okOutput(await stack.ofctl(['show', 'br0']), 'ovs-ofctl show br0');
      assert.match(show, /dpid:0000000000000001/);
      assert.match(show, /1\(p1\):/);
      assert.match(show, /2\(p2\):/);
      await assertServing('with 100 half-open connections');
    } finally {
      for (const p of idle) p.destroy();
    }
    // Every connection's socket is closed again (within a few seconds).
    const deadline = Date.now() + 5000;
    while (fdCount(pid) > fdsBefore + 2 && Date.now() < deadline) await sleep(100);
    assert.ok(fdCount(pid) <= fdsBefore + 2, `tsw-vswitchd had ${fdsBefore} fds before and ${fdCount(pid)} after`);
    okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'dump-flows', 'br0']), 'ovs-ofctl dump-flows br0');
  });
});

// ------------------------------------------------------------------ clients that never read

const SLOW_READERS = 2;
const SLOW_REQUESTS = 60;
const SLOW_READER_KB = 15 * 1024;

for (const impl of SWITCH_IMPLS) {
  describe(`${impl}: clients that never read their replies`, { skip }, () => {
    let stack: RealOvs;
    before(async () => {
      stack = await startRealOvs({ impl, bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
    });
    after(async () => {
      await stack?.stop();
    });

    test(`${SLOW_READERS} clients asking for ${SLOW_REQUESTS} TABLE_FEATURES each cost under ${SLOW_READER_KB / 1024} MB each`, {
      timeout: 90_000,
    }, async () => {
      const pid = stack.pids.vswitchd;
      const request = encodeMessage({ version: OF13, xid: 9, kind: 'MULTIPART_REQUEST', body: { stat: 'TABLE_FEATURES', flags: 0, body: { entries: [] } } } as OfMessage);
      const base = rssKb(pid);
      const bound = base + SLOW_READERS * SLOW_READER_KB;
      const peers: Peer[] = [];
      let peak = base;
      try {
        for (let i = 0; i < SLOW_READERS; i++) {
          const p = await Peer.open(stack.mgmt('br0'), OF13);
          p.sock.pause();
          p.send(Buffer.concat(Array.from({ length: SLOW_REQUESTS }, () => request)));
          peers.push(p);
        }
        for (const end = Date.now() + 5000; Date.now() < end && peak < bound;) {
          await sleep(200);
          peak = Math.max(peak, rssKb(pid));
        }
      } finally {
        for (const p of peers) p.destroy();
      }
      // The daemon may still be working through what it read; it must come back.
      const p = await Peer.open(stack.mgmt('br0'), OF13, 60_000);
      await p.echo(OF13, 60_000);
      p.destroy();
      if (process.env.TSW_DEBUG) console.log(`slow readers: RSS ${base} kB -> ${peak} kB`);
      assert.ok(peak < bound, `RSS went from ${base} kB to ${peak} kB`);
    });
  });
}
