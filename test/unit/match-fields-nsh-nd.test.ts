// The NSH, ND-extension and ERSPAN/GTP-U match fields end to end: frames
// parsed into the flow key as OVS's flow_extract does (ND reserved word and
// first link-layer option type; the NSH base, path and MD type 1 context
// headers), the codec's wire codes and value checks, the flow text as
// ovs-ofctl 3.1 writes and prints it (expected strings taken from real
// ovs-ofctl/ovs-vswitchd 3.1 dumps), and Match <-> flow key round trips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composePacket, extractFlow, getField, keyMaskToMatch, matchToKeyMask, newFlowKey } from '../../src/flow/index.js';
import {
  FIELD_BY_NAME, OfError, checkConsistency, checkPrerequisites, decode, encode, flowModMessage, flowProtocols, formatWireMatch, parseFlow, tlvFields,
  type Match,
} from '../../src/openflow/index.js';

const mac = (s: string): number[] => s.split(':').map((x) => parseInt(x, 16));
const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** An Ethernet/IPv6/ICMPv6 neighbor discovery frame (checksum left zero: extraction does not check it). */
function ndFrame(type: 135 | 136, reserved: number, options: number[][]): Uint8Array {
  const target = [0xfe, 0x80, ...Array(13).fill(0), 0x01];
  const icmp = [type, 0, 0, 0, ...be32(reserved), ...target, ...options.flat()];
  const ip6 = [0x60, 0, 0, 0, ...be16(icmp.length), 58, 255, ...Array(15).fill(0), 1, 0xff, 0x02, ...Array(13).fill(0), 1];
  return Uint8Array.from([...mac('33:33:00:00:00:01'), ...mac('00:00:00:00:00:0a'), ...be16(0x86dd), ...ip6, ...icmp]);
}

const sllOpt = (m: string) => [1, 1, ...mac(m)];
const tllOpt = (m: string) => [2, 1, ...mac(m)];
/** A nonce option (type 14), 8 bytes: not a link-layer address, so it does not set nd_options_type. */
const nonceOpt = [14, 1, 1, 2, 3, 4, 5, 6];

function keyOf(frame: Uint8Array): Uint32Array {
  const key = newFlowKey();
  extractFlow(frame, frame.length, 1, key);
  return key;
}

const f = (key: Uint32Array, name: string): bigint => getField(key, name);

test('a neighbor advertisement yields its reserved word (R/S/O flags), target, TLL and the first address option type', () => {
  const key = keyOf(ndFrame(136, 0x60000000, [nonceOpt, tllOpt('00:11:22:33:44:55')]));
  assert.equal(f(key, 'icmpv6_type'), 136n);
  assert.equal(f(key, 'nd_reserved'), 0x60000000n);
  assert.equal(f(key, 'nd_options_type'), 2n);
  assert.equal(f(key, 'nd_target'), 0xfe800000000000000000000000000001n);
  assert.equal(f(key, 'nd_tll'), 0x001122334455n);
  assert.equal(f(key, 'nd_sll'), 0n);
});

test('a neighbor solicitation takes the type of the first address option, even when a TLL follows the SLL', () => {
  const key = keyOf(ndFrame(135, 7, [sllOpt('00:00:00:00:00:0a'), tllOpt('00:00:00:00:00:0b')]));
  assert.equal(f(key, 'nd_reserved'), 7n);
  assert.equal(f(key, 'nd_options_type'), 1n);
  assert.equal(f(key, 'nd_sll'), 0x0an);
  const none = keyOf(ndFrame(135, 0, [nonceOpt]));
  assert.equal(f(none, 'nd_options_type'), 0n);
});

test('a repeated SLL option makes the ND invalid: target and addresses zero, option type and reserved word kept (as OVS)', () => {
  const key = keyOf(ndFrame(135, 9, [sllOpt('00:00:00:00:00:0a'), sllOpt('00:00:00:00:00:0c')]));
  assert.equal(f(key, 'nd_target'), 0n);
  assert.equal(f(key, 'nd_sll'), 0n);
  assert.equal(f(key, 'nd_options_type'), 1n);
  assert.equal(f(key, 'nd_reserved'), 9n);
});

test('a non-ND ICMPv6 message leaves the ND fields zero, and the next packet does not inherit them', () => {
  const key = keyOf(ndFrame(136, 0x60000000, [tllOpt('00:11:22:33:44:55')]));
  const echo = ndFrame(136, 0x12345678, []);
  echo[54] = 128;   // ICMPv6 type: echo request
  extractFlow(echo, echo.length, 1, key);
  assert.equal(f(key, 'icmpv6_type'), 128n);
  assert.equal(f(key, 'nd_reserved'), 0n);
  assert.equal(f(key, 'nd_options_type'), 0n);
});

/** An Ethernet/NSH frame: base header (version 0), service path, then `rest` (context headers, inner packet). */
function nshFrame(flags: number, ttl: number, lenWords: number, mdtype: number, np: number, spi: number, si: number, rest: number[]): Uint8Array {
  const base = [...be16((flags << 12) | (ttl << 6) | lenWords), mdtype, np, ...be32(((spi << 8) | si) >>> 0)];
  return Uint8Array.from([...mac('00:00:00:00:00:02'), ...mac('00:00:00:00:00:01'), ...be16(0x894f), ...base, ...rest]);
}

test('an NSH MD type 1 packet fills flags, TTL, MD type, next protocol, SPI, SI and the four context words', () => {
  const ctx = [...be32(0x11111111), ...be32(0x22222222), ...be32(0x33333333), ...be32(0x44444444)];
  const key = keyOf(nshFrame(2, 63, 6, 1, 3, 0x123456, 0xfe, [...ctx, ...Array(14).fill(0)]));
  const want: Record<string, bigint> = {
    eth_type: 0x894fn, nsh_flags: 2n, nsh_ttl: 63n, nsh_mdtype: 1n, nsh_np: 3n, nsh_spi: 0x123456n, nsh_si: 0xfen,
    nsh_c1: 0x11111111n, nsh_c2: 0x22222222n, nsh_c3: 0x33333333n, nsh_c4: 0x44444444n,
  };
  for (const [name, v] of Object.entries(want)) assert.equal(f(key, name), v, name);
});

test('an NSH MD type 2 packet fills the base and path fields; its TLV metadata is not parsed, so the context words stay zero', () => {
  const tlv = [0x00, 0x01, 0x02, 0x01, ...be32(0xdeadbeef)];
  const key = keyOf(nshFrame(0, 10, 4, 2, 1, 77, 3, [...tlv, 0x45]));
  assert.equal(f(key, 'nsh_mdtype'), 2n);
  assert.equal(f(key, 'nsh_ttl'), 10n);
  assert.equal(f(key, 'nsh_spi'), 77n);
  assert.equal(f(key, 'nsh_si'), 3n);
  for (let i = 1; i <= 4; i++) assert.equal(f(key, `nsh_c${i}`), 0n);
});

test('a bad NSH header (MD type 1 of the wrong length, version 1, longer than the frame) leaves the NSH fields zero', () => {
  const ctx = Array(16).fill(0xaa);
  for (const frame of [
    nshFrame(0, 5, 4, 1, 3, 9, 9, ctx),
    Uint8Array.from([...nshFrame(0, 5, 6, 1, 3, 9, 9, ctx)].map((b, i) => (i === 14 ? b | 0x40 : b))),
    nshFrame(0, 5, 20, 2, 3, 9, 9, ctx),
  ]) {
    const key = keyOf(frame);
    assert.equal(f(key, 'eth_type'), 0x894fn);
    for (const n of ['nsh_ttl', 'nsh_mdtype', 'nsh_spi', 'nsh_si', 'nsh_c1']) assert.equal(f(key, n), 0n, n);
  }
});

test('composing an NSH packet from a flow and extracting it again gives the same NSH fields', () => {
  const flow: Match = {
    eth_type: { value: 0x894fn }, nsh_flags: { value: 1n }, nsh_ttl: { value: 20n }, nsh_mdtype: { value: 1n }, nsh_np: { value: 3n },
    nsh_spi: { value: 0xabcdefn }, nsh_si: { value: 255n }, nsh_c1: { value: 1n }, nsh_c4: { value: 0xffffffffn },
  };
  const key = keyOf(composePacket(flow));
  for (const [name, fm] of Object.entries(flow)) assert.equal(f(key, name), fm.value, name);
});

// ---------------------------------------------------------------- codec

test('wire codes: NSH fields are experimenter 0x005ad650 OXMs, ND extensions ERICOXM class 0x1000, ERSPAN/GTP-U Nicira experimenter', () => {
  const code = (n: string) => FIELD_BY_NAME.get(n)!.codes[0]!;
  assert.deepEqual(code('nsh_spi'), { cls: 0xffff, field: 4, since: 0, experimenter: 0x005ad650 });
  assert.deepEqual(code('nsh_ttl'), { cls: 0xffff, field: 10, since: 0, experimenter: 0x005ad650 });
  assert.deepEqual(code('nd_reserved'), { cls: 0x1000, field: 1, since: 0 });
  assert.deepEqual(code('nd_options_type'), { cls: 0x1000, field: 2, since: 0 });
  assert.deepEqual(code('tun_erspan_idx'), { cls: 0xffff, field: 11, since: 0, experimenter: 0x2320 });
  assert.deepEqual(code('tun_gtpu_msgtype'), { cls: 0xffff, field: 16, since: 0, experimenter: 0x2320 });
  // Bytes real ovs-ofctl 3.1 sends for nsh_spi=0x5 and icmp6 ND nd_reserved=5 (OF1.3 OXM).
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  assert.equal(hex(encode(tlvFields(4), { nsh_spi: { value: 5n } })), 'ffff0808005ad65000000005');
  assert.equal(hex(encode(tlvFields(4), { nd_reserved: { value: 5n } })), '1000020400000005');
});

function decodeTlvs(hex: string): Match {
  return decode(tlvFields(4), Uint8Array.from(Buffer.from(hex, 'hex')), 'OFPBMC_BAD_LEN');
}

function expectOfError(fn: () => unknown, name: string): void {
  assert.throws(fn, (e: unknown) => e instanceof OfError && e.error === name);
}

test('OVS value checks: nsh_mdtype only 1 or 2, nsh_ttl at most 63, nsh_spi 24 bits; NSH fields need eth_type=0x894f', () => {
  expectOfError(() => decodeTlvs('ffff0405005ad65003'), 'OFPBMC_BAD_VALUE');   // nsh_mdtype=3
  expectOfError(() => decodeTlvs('ffff1405005ad65040'), 'OFPBMC_BAD_VALUE');   // nsh_ttl=64
  expectOfError(() => decodeTlvs('ffff0808005ad65001000000'), 'OFPBMC_BAD_VALUE');   // nsh_spi=0x1000000
  assert.deepEqual(decodeTlvs('ffff0405005ad65002'), { nsh_mdtype: { value: 2n } });
  expectOfError(() => checkPrerequisites({ nsh_spi: { value: 1n } }), 'OFPBMC_BAD_PREREQ');
  checkPrerequisites({ eth_type: { value: 0x894fn }, nsh_spi: { value: 1n } });
  expectOfError(() => checkPrerequisites({ eth_type: { value: 0x86ddn }, nw_proto: { value: 58n }, nd_reserved: { value: 1n } }), 'OFPBMC_BAD_PREREQ');
  // ERSPAN fields take whole bytes, as OVS stores them (tun_erspan_ver=0xff is accepted).
  assert.deepEqual(decodeTlvs('ffff180500002320ff'), { tun_erspan_ver: { value: 0xffn } });
});

// ---------------------------------------------------------------- flow text

/**
 * Each flow as typed to ovs-ofctl, and the match as ovs-ofctl 3.1 printed it
 * back from a real ovs-vswitchd (the ERSPAN/GTP-U setters keep the value as
 * the mask, the index shows only with version 1, direction and hardware id
 * only with version 2, GTP-U fields print without "tun_" and without mask,
 * NSH context words only with nsh_mdtype=1).
 */
const ROUND_TRIPS: readonly (readonly [string, string])[] = [
  ['icmp6,icmp_type=135,nd_reserved=5,nd_options_type=1', 'icmp6,icmp_type=135,nd_reserved=5,nd_options_type=1'],
  ['icmp6,icmp_type=136,nd_target=::1,nd_options_type=2', 'icmp6,icmp_type=136,nd_target=::1,nd_options_type=2'],
  ['icmp6,icmp_type=136,nd_reserved=0x60000000', 'icmp6,icmp_type=136,nd_reserved=1610612736'],
  ['icmp6,nd_reserved=3', 'icmp6'],
  ['tun_erspan_ver=1,tun_erspan_idx=0x12/0xff', 'tun_erspan_ver=1,tun_erspan_idx=0x12'],
  ['tun_erspan_ver=2,tun_erspan_dir=1,tun_erspan_hwid=0x3', 'tun_erspan_ver=2,tun_erspan_dir=1,tun_erspan_hwid=0x3'],
  ['tun_erspan_ver=0xff,tun_erspan_hwid=0xff,tun_erspan_dir=0xff', 'tun_erspan_ver=255'],
  ['tun_erspan_ver=0,tun_erspan_idx=0x5', ''],
  ['tun_gtpu_flags=0x30/0xf0,tun_gtpu_msgtype=255', 'gtpu_flags=0x30,gtpu_msgtype=255'],
  ['eth_type=0x894f,nsh_mdtype=1,nsh_c1=0x10/0xf0,nsh_c2=0x22,nsh_spi=0x123,nsh_si=255,nsh_np=3,nsh_flags=2,nsh_ttl=63',
    'dl_type=0x894f,nsh_flags=2,nsh_ttl=63,nsh_mdtype=1,nsh_np=3,nsh_spi=0x123,nsh_si=255,nsh_c1=0x10/0xf0,nsh_c2=0x22'],
  ['eth_type=0x894f,nsh_mdtype=2,nsh_c1=0x10/0xf0', 'dl_type=0x894f,nsh_mdtype=2'],
  ['eth_type=0x894f,nsh_flags=1/3,nsp=5,nsi=4,nshc3=7,nshc4=0x8/0xc', 'dl_type=0x894f,nsh_flags=0x01/0x03,nsh_spi=0x5,nsh_si=4'],
  ['eth_type=0x894f,nsh_spi=0x1000000', 'dl_type=0x894f,nsh_spi=0x0'],
];

test('every new field round-trips: flow text -> NXM and OF1.3 wire -> the text ovs-ofctl 3.1 prints, and through the flow key', () => {
  for (const [text, printed] of ROUND_TRIPS) {
    const flow = parseFlow(`${text},actions=drop`);
    for (const version of [0, 4]) {
      const m = decode(tlvFields(version), encode(tlvFields(version), flow.match), 'OFPBMC_BAD_LEN');
      assert.equal(formatWireMatch(m, 0x8000), printed, `${text} (wire ${version})`);
      // The switch's view: the match as key value/mask and back.
      const { value, mask } = matchToKeyMask(m);
      assert.equal(formatWireMatch(keyMaskToMatch(value, mask), 0x8000), printed, `${text} (flow key)`);
    }
  }
});

test('set_field on the new fields: masked NSH context and experimenter fields go out as NXAST_REG_LOAD2, ND fields as REG_LOAD in NXM', () => {
  const flow = parseFlow('eth_type=0x894f,actions=set_field:5->nsh_spi,set_field:0x1/0xf->nsh_c1,load:3->nsh_ttl');
  const nxm = flowModMessage(flow, 'NXM+table_id');
  const of13 = flowModMessage(flow, 'OpenFlow13');
  const types = (msg: ReturnType<typeof flowModMessage>) => {
    const body = msg.body as { actions?: { type: string }[]; instructions?: { actions: { type: string }[] }[] };
    return (body.actions ?? body.instructions![0]!.actions).map((a) => a.type);
  };
  assert.deepEqual(types(nxm), ['reg_load2', 'reg_load2', 'reg_load2']);
  assert.deepEqual(types(of13), ['set_field', 'reg_load2', 'reg_load2']);
  const nd = parseFlow('icmp6,icmp_type=135,actions=set_field:7->nd_reserved');
  assert.deepEqual(types(flowModMessage(nd, 'NXM+table_id')), ['reg_load']);
  for (const bad of ['icmp6,actions=set_field:7->nd_reserved', 'ip,actions=set_field:1->nsh_c1']) {
    assert.throws(() => flowProtocols(bad, parseFlow(bad)), /OFPBAC_MATCH_INCONSISTENT/, bad);
  }
  const ok = 'icmp6,icmp_type=136,actions=set_field:7->nd_options_type';
  flowProtocols(ok, parseFlow(ok));
  // The switch's own check of a FLOW_MOD from any controller.
  const spi = parseFlow('actions=set_field:5->nsh_spi').actions;
  expectOfError(() => checkConsistency(spi, {}, 4), 'OFPBAC_MATCH_INCONSISTENT');
  checkConsistency(spi, { eth_type: { value: 0x894fn } }, 4);
});

/** Whether a packet's key falls in a flow's match (what the classifier and megaflows test, word by word). */
function matches(text: string, key: Uint32Array): boolean {
  const { value, mask } = matchToKeyMask(parseFlow(`${text},actions=drop`).match);
  return value.every((v, i) => ((key[i]! & mask[i]!) >>> 0) === v);
}

test('packets match flows on the new fields: NSH path and masked context, ND reserved word and option type', () => {
  const ctx = [...be32(0x12345678), ...be32(0), ...be32(0), ...be32(0)];
  const nsh = keyOf(nshFrame(0, 63, 6, 1, 3, 0x123, 5, ctx));
  assert.ok(matches('eth_type=0x894f,nsh_spi=0x123,nsh_si=5,nsh_c1=0x10000000/0xf0000000', nsh));
  assert.ok(!matches('eth_type=0x894f,nsh_spi=0x124', nsh));
  assert.ok(!matches('eth_type=0x894f,nsh_c1=0x20000000/0xf0000000', nsh));
  const na = keyOf(ndFrame(136, 0x60000000, [tllOpt('00:11:22:33:44:55')]));
  assert.ok(matches('icmp6,icmp_type=136,nd_reserved=0x60000000,nd_options_type=2', na));
  assert.ok(!matches('icmp6,icmp_type=136,nd_reserved=0x40000000', na));
  assert.ok(!matches('icmp6,icmp_type=136,nd_options_type=1', na));
  // No tsw port fills ERSPAN/GTP-U metadata: a flow on them never matches a received packet.
  assert.ok(!matches('tun_erspan_ver=1', na));
});
