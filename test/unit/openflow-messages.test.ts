import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  OfError, OfFramer, decodeMessage, encodeMessage, errorReply, errorBodyName, errorWire, allErrorNames,
  makeHello, helloVersions, splitMultipartReply, MultipartAssembler, negotiateVersion, SUPPORTED_VERSIONS, OFPHET_VERSIONBITMAP,
  NXM_COOKIE, nxmCookie,
  type OfMessage, type Match, type Action, type Action10, type Instruction, type Port10, type Port13, type Port14, type PortProp, type HelloElement, type OfErrorName,
} from '../../src/openflow/index.js';
import { ofpToString } from '../../src/openflow/print/index.js';
import { messageArb } from './openflow-arb.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function expectOfError(fn: () => unknown, error: OfErrorName): void {
  assert.throws(fn, (e: unknown) => e instanceof OfError && e.error === error);
}

// ---------------------------------------------------------------- arbitraries

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const macA = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const nameA = fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 16 }).map((cs) => String.fromCharCode(...cs));
const dataA = (max = 64) => fc.uint8Array({ maxLength: max });

const port10A: fc.Arbitrary<Port10> = fc.record({
  port_no: u16, hw_addr: macA, name: nameA, config: u32, state: u32, curr: u32, advertised: u32, supported: u32, peer: u32,
});
const port13A: fc.Arbitrary<Port13> = fc.record({
  port_no: u32, hw_addr: macA, name: nameA, config: u32, state: u32, curr: u32, advertised: u32, supported: u32, peer: u32,
  curr_speed: u32, max_speed: u32,
});
const propA: fc.Arbitrary<PortProp> = fc.oneof(
  fc.record({ type: fc.constant(0 as const), curr: u32, advertised: u32, supported: u32, peer: u32, curr_speed: u32, max_speed: u32 }),
  fc.record({
    type: fc.constant(1 as const), supported: u32, tx_min_freq_lmda: u32, tx_max_freq_lmda: u32, tx_grid_freq_lmda: u32,
    rx_min_freq_lmda: u32, rx_max_freq_lmda: u32, rx_grid_freq_lmda: u32, tx_pwr_min: u16, tx_pwr_max: u16,
  }),
  fc.record({ type: fc.integer({ min: 2, max: 0xffff }), data: dataA(24), raw: fc.constant(true as const) }),
);
const port14A: fc.Arbitrary<Port14> = fc.record({
  port_no: u32, hw_addr: macA, name: nameA, config: u32, state: u32, properties: fc.array(propA, { maxLength: 3 }),
});

const helloElemA: fc.Arbitrary<HelloElement> = fc.oneof(
  fc.record({ type: fc.constant(OFPHET_VERSIONBITMAP), bitmaps: fc.array(u32, { maxLength: 3 }) }),
  fc.record({ type: fc.integer({ min: 2, max: 0xffff }), data: dataA(16), raw: fc.constant(true as const) }),
);

const a = <T extends string, R extends Record<string, unknown>>(type: T, rec: fc.Arbitrary<R>) => rec.map((r) => ({ type, ...r }));
const expData = fc.integer({ min: 0, max: 3 }).chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 }));

const action10A: fc.Arbitrary<Action10> = fc.oneof(
  a('output', fc.record({ port: u16, max_len: u16 })),
  a('set_vlan_vid', fc.record({ vlan_vid: u16 })),
  a('set_vlan_pcp', fc.record({ vlan_pcp: u8 })),
  a('strip_vlan', fc.constant({})),
  a('set_dl_src', fc.record({ dl_addr: macA })),
  a('set_dl_dst', fc.record({ dl_addr: macA })),
  a('set_nw_src', fc.record({ nw_addr: u32 })),
  a('set_nw_dst', fc.record({ nw_addr: u32 })),
  a('set_nw_tos', fc.record({ nw_tos: u8 })),
  a('set_tp_src', fc.record({ tp_port: u16 })),
  a('set_tp_dst', fc.record({ tp_port: u16 })),
  a('enqueue', fc.record({ port: u16, queue_id: u32 })),
  a('experimenter', fc.record({ experimenter: u32, data: expData })),
) as fc.Arbitrary<Action10>;

const setFieldA = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xfffn }).map((v) => ({ field: 'vlan_vid', value: v | 0x1000n })),
  fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }).map((v) => ({ field: 'eth_dst', value: v })),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((v) => ({ field: 'ip_dst', value: v })),
  fc.bigInt({ min: 0n, max: 0xffffn }).map((v) => ({ field: 'tcp_src', value: v })),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((v) => ({ field: 'reg5', value: v })),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => ({ field: 'tun_id', value: v })),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => ({ field: 'ipv6_src', value: v })),
);

function action13A(version: number): fc.Arbitrary<Action> {
  const kinds: fc.Arbitrary<{ type: string }>[] = [
    a('output', fc.record({ port: u32, max_len: u16 })),
    a('copy_ttl_out', fc.constant({})),
    a('copy_ttl_in', fc.constant({})),
    a('set_mpls_ttl', fc.record({ mpls_ttl: u8 })),
    a('dec_mpls_ttl', fc.constant({})),
    a('push_vlan', fc.record({ ethertype: u16 })),
    a('pop_vlan', fc.constant({})),
    a('push_mpls', fc.record({ ethertype: u16 })),
    a('pop_mpls', fc.record({ ethertype: u16 })),
    a('set_queue', fc.record({ queue_id: u32 })),
    a('group', fc.record({ group_id: u32 })),
    a('set_nw_ttl', fc.record({ nw_ttl: u8 })),
    a('dec_nw_ttl', fc.constant({})),
    a('set_field', fc.record({ field: setFieldA })),
    a('push_pbb', fc.record({ ethertype: u16 })),
    a('pop_pbb', fc.constant({})),
    a('experimenter', fc.record({ experimenter: u32, data: expData })),
  ];
  if (version >= 6) kinds.push(a('meter', fc.record({ meter_id: u32 })));
  return fc.oneof(...kinds) as fc.Arbitrary<Action>;
}

function instructionsA(version: number): fc.Arbitrary<Instruction[]> {
  const actions = fc.array(action13A(version), { maxLength: 4 });
  const kinds: fc.Arbitrary<{ type: string }>[] = [
    a('goto_table', fc.record({ table_id: u8 })),
    a('write_metadata', fc.record({ metadata: u64, metadata_mask: u64 })),
    a('write_actions', fc.record({ actions })),
    a('apply_actions', fc.record({ actions })),
    a('clear_actions', fc.constant({})),
    a('experimenter', fc.record({ experimenter: u32, data: expData })),
  ];
  if (version < 6) kinds.push(a('meter', fc.record({ meter_id: u32 })));
  return fc.uniqueArray(fc.oneof(...kinds), { selector: (i) => i.type, maxLength: 4 }) as fc.Arbitrary<Instruction[]>;
}

const match10A = fc.constantFrom<Match>(
  {},
  { in_port: { value: 3n }, eth_type: { value: 0x0800n }, nw_proto: { value: 6n }, ip_src: { value: 0x0a000000n, mask: 0xff000000n }, tcp_dst: { value: 80n } },
  { vlan_tci: { value: 0x1064n, mask: 0x1fffn }, eth_type: { value: 0x0806n }, arp_op: { value: 1n } },
);
const match13A = fc.constantFrom<Match>(
  {},
  { in_port: { value: 3n }, eth_type: { value: 0x86ddn }, ipv6_src: { value: 1n << 120n, mask: 0xffn << 120n }, reg3: { value: 5n } },
  { tun_id: { value: 7n }, eth_type: { value: 0x0800n }, nw_proto: { value: 6n }, tcp_flags: { value: 2n, mask: 0x12n } },
);

const V = [1, 4, 5, 6] as const;
const xidA = u32;

function msgA(version: number): fc.Arbitrary<OfMessage> {
  const m = <K extends OfMessage['kind']>(kind: K, body: fc.Arbitrary<Extract<OfMessage, { kind: K }>['body']>) =>
    fc.record({ version: fc.constant(version), xid: xidA, kind: fc.constant(kind), body }) as fc.Arbitrary<OfMessage>;
  const empty = fc.constant({});
  const portA = version === 1 ? port10A : version === 4 ? port13A : port14A;
  const errorA = version === 1
    ? fc.record({ type: u16, code: u16, data: dataA() })
    : fc.oneof(
      fc.record({ type: fc.integer({ min: 0, max: 0xfffe }), code: u16, data: dataA() }),
      fc.record({ type: fc.constant(0xffff), exp_code: u16, experimenter: u32, data: dataA() }),
    );
  return fc.oneof(
    m('HELLO', fc.record({ elements: fc.array(helloElemA, { maxLength: 3 }) })),
    m('ERROR', errorA),
    m('ECHO_REQUEST', fc.record({ data: dataA() })),
    m('ECHO_REPLY', fc.record({ data: dataA() })),
    m('EXPERIMENTER', version === 1
      ? fc.record({ experimenter: u32, data: dataA() })
      : fc.record({ experimenter: u32, exp_type: u32, data: dataA() })),
    m('FEATURES_REQUEST', empty),
    m('FEATURES_REPLY', version === 1
      ? fc.record({ datapath_id: u64, n_buffers: u32, n_tables: u8, capabilities: u32, actions: u32, ports: fc.array(port10A, { maxLength: 4 }) })
      : fc.record({ datapath_id: u64, n_buffers: u32, n_tables: u8, auxiliary_id: u8, capabilities: u32, reserved: u32 })),
    m('GET_CONFIG_REQUEST', empty),
    m('GET_CONFIG_REPLY', fc.record({ flags: u16, miss_send_len: u16 })),
    m('SET_CONFIG', fc.record({ flags: u16, miss_send_len: u16 })),
    m('PORT_STATUS', fc.record({ reason: u8, desc: portA as fc.Arbitrary<Port10 | Port13 | Port14> })),
    m('BARRIER_REQUEST', empty),
    m('BARRIER_REPLY', empty),
    version === 1
      ? m('FLOW_MOD', fc.record({
        match: match10A, cookie: u64, command: u16, idle_timeout: u16, hard_timeout: u16, priority: u16, buffer_id: u32, out_port: u16, flags: u16,
        actions: fc.array(action10A, { maxLength: 5 }),
      }))
      : m('FLOW_MOD', fc.record({
        cookie: u64, cookie_mask: u64, table_id: u8, command: u8, idle_timeout: u16, hard_timeout: u16, priority: u16, buffer_id: u32,
        out_port: u32, out_group: u32, flags: u16, ...(version >= 5 ? { importance: u16 } : {}), match: match13A, instructions: instructionsA(version),
      })),
    ...(version === 1
      ? [m('FLOW_REMOVED', fc.record({
        match: match10A,
        cookie: u64, priority: u16, reason: u8, duration_sec: u32, duration_nsec: u32, idle_timeout: u16, packet_count: u64, byte_count: u64,
      }))]
      : version <= 5
        ? [m('FLOW_REMOVED', fc.record({
          cookie: u64, priority: u16, reason: u8, table_id: u8, duration_sec: u32, duration_nsec: u32, idle_timeout: u16, hard_timeout: u16,
          packet_count: u64, byte_count: u64, match: match13A,
        }))]
        : []),
    m('MULTIPART_REQUEST', fc.oneof(
      fc.record({ stat: fc.constant('DESC' as const), flags: u16, body: fc.constant({}) }),
      fc.record({ stat: fc.constant('PORT_DESC' as const), flags: u16, body: version >= 6 ? fc.record({ port_no: u32 }) : fc.constant({}) }),
    )),
    m('MULTIPART_REPLY', fc.oneof(
      fc.record({
        stat: fc.constant('DESC' as const), flags: u16,
        body: fc.record({ mfr_desc: nameA, hw_desc: nameA, sw_desc: nameA, serial_num: nameA, dp_desc: nameA }),
      }),
      fc.record({ stat: fc.constant('PORT_DESC' as const), flags: u16, body: fc.record({ entries: fc.array(portA as fc.Arbitrary<Port10 | Port13 | Port14>, { maxLength: 4 }) }) }),
    )),
  );
}

// fast-check builds records without a prototype; the decoder builds plain objects.
const anyMessage = fc.constantFrom(...V).chain(msgA).map((m) => structuredClone(m));

// ---------------------------------------------------------------- round trips

test('every supported message kind round-trips in every version: decode(encode(m)) == m, encode(decode(b)) == b', () => {
  fc.assert(fc.property(anyMessage, (m) => {
    const bytes = encodeMessage(m);
    assert.equal(new DataView(bytes.buffer).getUint16(2), bytes.length);
    const back = decodeMessage(bytes);
    assert.deepEqual(back, m);
    assert.deepEqual(encodeMessage(back), bytes);
  }), { numRuns: 3000 });
});

test('fixed-size messages are exactly the sizes the specifications give', () => {
  const p10: Port10 = { port_no: 1, hw_addr: '00:00:00:00:00:01', name: 'p1', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0 };
  const p13: Port13 = { ...p10, curr_speed: 0, max_speed: 0 };
  assert.equal(encodeMessage({ version: 1, xid: 0, kind: 'PORT_STATUS', body: { reason: 0, desc: p10 } }).length, 64);
  assert.equal(encodeMessage({ version: 4, xid: 0, kind: 'PORT_STATUS', body: { reason: 0, desc: p13 } }).length, 80);
  const p14: Port14 = {
    port_no: 1, hw_addr: p10.hw_addr, name: 'p1', config: 0, state: 0,
    properties: [{ type: 0, curr: 0, advertised: 0, supported: 0, peer: 0, curr_speed: 0, max_speed: 0 }],
  };
  assert.equal(encodeMessage({ version: 5, xid: 0, kind: 'PORT_STATUS', body: { reason: 0, desc: p14 } }).length, 8 + 8 + 40 + 32);
  const fr13 = encodeMessage({ version: 4, xid: 0, kind: 'FEATURES_REPLY', body: { datapath_id: 1n, n_buffers: 0, n_tables: 254, auxiliary_id: 0, capabilities: 0, reserved: 0 } });
  assert.equal(fr13.length, 32);
  assert.equal(encodeMessage({ version: 4, xid: 0, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 128 } }).length, 12);
});

// ---------------------------------------------------------------- golden bytes (OVS-INTERFACES.md A.2)

test('golden: OVS OF1.0 FEATURES_REPLY prefix, ECHO_REPLY, BARRIER_REPLY and HELLO', () => {
  const local: Port10 = {
    port_no: 0xfffe, hw_addr: '42:9c:ad:97:c3:4e', name: 'br0', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0,
  };
  const other: Port10 = { ...local, port_no: 1, name: 'p1', hw_addr: '02:00:00:00:00:01' };
  const fr = encodeMessage({
    version: 1, xid: 2, kind: 'FEATURES_REPLY',
    body: { datapath_id: 0x0000429cad97c34en, n_buffers: 0, n_tables: 254, capabilities: 0xc7, actions: 0xfff, ports: [local, other] },
  });
  assert.equal(fr.length, 128);
  const prefix = '01060080000000020000429cad97c34e00000000fe000000000000c700000ffffffe429cad97c34e6272300000000000';
  assert.equal(hex(fr).slice(0, prefix.length), prefix);
  const back = decodeMessage(fr);
  assert.equal(back.kind, 'FEATURES_REPLY');

  const echo = decodeMessage(unhex('0103000c0000000370696e67'));
  assert.deepEqual(echo, { version: 1, xid: 3, kind: 'ECHO_REPLY', body: { data: new Uint8Array(Buffer.from('ping')) } });
  assert.deepEqual(decodeMessage(unhex('0113000800000005')), { version: 1, xid: 5, kind: 'BARRIER_REPLY', body: {} });
  assert.deepEqual(decodeMessage(unhex('0600000800000035')), { version: 6, xid: 0x35, kind: 'HELLO', body: { elements: [] } });
});

test('golden: an unknown message type gets BAD_REQUEST/BAD_TYPE with the offending bytes, exactly as OVS sends it', () => {
  const offending = unhex('0463000800000003');
  let caught: unknown;
  try { decodeMessage(offending); } catch (e) { caught = e; }
  assert.ok(caught instanceof OfError && caught.error === 'OFPBRC_BAD_TYPE');
  const reply = encodeMessage(errorReply(caught, offending));
  assert.equal(hex(reply), '0401001400000003000100010463000800000003');
  const back = decodeMessage(reply);
  assert.equal(back.kind, 'ERROR');
  if (back.kind === 'ERROR') assert.equal(errorBodyName(back.version, back.body), 'OFPBRC_BAD_TYPE');
});

test('HELLO: OVS-style bitmap element only when the versions are not 1..max; -O OpenFlow13 hello bytes', () => {
  assert.equal(hex(encodeMessage(makeHello(0x7e, 0x36))), '0600000800000036');
  assert.equal(hex(encodeMessage(makeHello(1 << 4, 1))), '04000010000000010001000800000010');
  const ours = encodeMessage(makeHello(SUPPORTED_VERSIONS));
  assert.equal(hex(ours), '060000100000000000010008' + '00000072');
  const peer = decodeMessage(ours);
  assert.ok(peer.kind === 'HELLO');
  if (peer.kind === 'HELLO') assert.equal(helloVersions(peer), SUPPORTED_VERSIONS);
});

test('version negotiation picks the highest common version', () => {
  const cases: Array<[number, number, number]> = [
    [SUPPORTED_VERSIONS, 0x7e, 6],
    [SUPPORTED_VERSIONS, 1 << 4, 4],
    [SUPPORTED_VERSIONS, 0x02, 1],
    [SUPPORTED_VERSIONS, 0x32, 5],
    [1 << 1, 0x7e, 1],
  ];
  for (const [ours, theirs, want] of cases) {
    const r = negotiateVersion(ours, makeHello(theirs));
    assert.deepEqual(r.ok && r.version, want, `${ours.toString(2)} vs ${theirs.toString(2)}`);
  }
  // A plain OF1.0 hello (ovs-ofctl default) means "1.0 only".
  const h = decodeMessage(unhex('0100000800000001'));
  assert.ok(h.kind === 'HELLO');
  if (h.kind === 'HELLO') assert.deepEqual(negotiateVersion(SUPPORTED_VERSIONS, h), { ok: true, version: 1 });
});

test('golden: negotiation failure sends HELLO_FAILED/INCOMPATIBLE with OVS\'s text, in OF1.0 when the peer is newer', () => {
  const peer = { version: 7, xid: 0x37, kind: 'HELLO' as const, body: { elements: [{ type: 1 as const, bitmaps: [0x80] }] } };
  const wire = decodeMessage(encodeMessage(peer));
  assert.ok(wire.kind === 'HELLO');
  if (wire.kind !== 'HELLO') return;
  const r = negotiateVersion(0x7e, wire);
  assert.ok(!r.ok);
  if (r.ok) return;
  assert.equal(r.reason, 'We support version 0x06 and earlier, you support version 0x07, no common versions.');
  const bytes = encodeMessage(r.error);
  assert.equal(bytes.length, 94);
  const seen = '0101005e0000000000000000576520737570706f72742076657273696f6e203078303620616e64206561726c6965722c20796f7520737570706f72742076657273696f6e20307830372c206e6f20636f';
  assert.equal(hex(bytes).slice(0, seen.length), seen);
  const ours = negotiateVersion(SUPPORTED_VERSIONS, wire);
  assert.ok(!ours.ok && ours.reason === 'We support versions 0x01, 0x04, 0x05, 0x06, you support version 0x07, no common versions.');
});

test('error tables: OF1.0 and OF1.3+ numbers, vendor and experimenter forms', () => {
  assert.deepEqual(errorWire('OFPFMFC_OVERLAP', 1), { kind: 'standard', type: 3, code: 1 });
  assert.deepEqual(errorWire('OFPFMFC_OVERLAP', 4), { kind: 'standard', type: 5, code: 3 });
  assert.deepEqual(errorWire('OFPBMC_BAD_PREREQ', 4), { kind: 'standard', type: 4, code: 9 });
  assert.deepEqual(errorWire('OFPBMC_BAD_PREREQ', 1), { kind: 'vendor', vendor: 0x2320, type: 1, code: 260 });
  assert.deepEqual(errorWire('OFPBPC_BAD_LEN', 4), { kind: 'standard', type: 13, code: 3 });
  assert.deepEqual(errorWire('OFPBPC_BAD_LEN', 5), { kind: 'standard', type: 14, code: 1 });
  assert.deepEqual(errorWire('OFPMOFC_BAD_OUT', 6), { kind: 'standard', type: 16, code: 7 });
  assert.equal(errorWire('OFPMMFC_BAD_BURST', 1), undefined);
  assert.equal(new OfError('OFPMMFC_BAD_BURST').type(4), 12);
  assert.equal(new OfError('OFPMMFC_BAD_BURST').code(4), 7);
  // Not expressible in OF1.0: becomes NXBRC_UNENCODABLE_ERROR, a Nicira vendor error.
  const off = unhex('0105000800000009');
  const r = errorReply(new OfError('OFPMMFC_BAD_BURST'), off);
  assert.equal(hex(encodeMessage(r)), '0101001c00000009b0c20000' + '00002320' + '0001' + '0209' + '0105000800000009');
  assert.equal(errorBodyName(1, r.body), 'NXBRC_UNENCODABLE_ERROR');
  // OF1.3: a Nicira error is an experimenter error.
  const e13 = errorReply(new OfError('NXBRC_MUST_BE_ZERO'), unhex('0405000800000009'));
  assert.equal(hex(encodeMessage(e13)), '0401001800000009' + 'ffff' + '0004' + '00002320' + '0405000800000009');
  assert.equal(errorBodyName(4, e13.body), 'NXBRC_MUST_BE_ZERO');
  // Every standard name maps back to itself in every version that has it.
  for (const name of allErrorNames()) {
    for (const v of [1, 4, 5, 6]) {
      const w = errorWire(name, v);
      if (!w) continue;
      const back = errorBodyName(v, errorReply(new OfError(name), off, v).body);
      assert.ok(back === name || (v <= 2 && name === 'OFPBRC_IS_SECONDARY'), `${name} v${v} -> ${back}`);
    }
  }
});

test('bad input: short, inconsistent and unsupported messages are typed errors', () => {
  expectOfError(() => decodeMessage(unhex('0105')), 'OFPBRC_BAD_LEN');
  expectOfError(() => decodeMessage(unhex('0105000900000001')), 'OFPBRC_BAD_LEN');
  expectOfError(() => decodeMessage(unhex('010500090000000100')), 'OFPBRC_BAD_LEN'); // FEATURES_REQUEST has no body
  expectOfError(() => decodeMessage(unhex('0109000a000000010000')), 'OFPBRC_BAD_LEN'); // SET_CONFIG too short
  expectOfError(() => decodeMessage(unhex('0205000800000001')), 'OFPBRC_BAD_VERSION');
  expectOfError(() => decodeMessage(unhex('0905000800000001')), 'OFPBRC_BAD_VERSION');
  expectOfError(() => decodeMessage(unhex('0440000800000001')), 'OFPBRC_BAD_TYPE');
  expectOfError(() => decodeMessage(unhex('01ff000800000001')), 'OFPBRC_BAD_TYPE');
  // An OF1.4 port whose length field overruns the message.
  const p = encodeMessage({
    version: 5, xid: 1, kind: 'PORT_STATUS',
    body: { reason: 0, desc: { port_no: 1, hw_addr: '00:00:00:00:00:01', name: 'x', config: 0, state: 0, properties: [] } },
  });
  p[16 + 5] = 0xff;
  expectOfError(() => decodeMessage(p), 'OFPBRC_BAD_LEN');
  // A property length below its header.
  const q = encodeMessage({
    version: 5, xid: 1, kind: 'PORT_STATUS',
    body: { reason: 0, desc: { port_no: 1, hw_addr: '00:00:00:00:00:01', name: 'x', config: 0, state: 0, properties: [{ type: 9, data: new Uint8Array(4), raw: true }] } },
  });
  q[16 + 40 + 3] = 2;
  expectOfError(() => decodeMessage(q), 'OFPBPC_BAD_LEN');
  // A HELLO with garbage after the header is still a HELLO (OVS only warns).
  const h = decodeMessage(unhex('0400000b00000001abcdef'));
  assert.equal(h.kind, 'HELLO');
  assert.equal(hex(encodeMessage(h)), '0400000b00000001abcdef');
});

test('framing: partial and multiple messages per chunk, in any split', () => {
  fc.assert(fc.property(fc.array(anyMessage, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (msgs, cuts) => {
    const wire = Buffer.concat(msgs.map((m) => encodeMessage(m)));
    const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
    const framer = new OfFramer();
    const got: Uint8Array[] = [];
    let last = 0;
    for (const p of [...points, wire.length]) {
      got.push(...framer.push(wire.subarray(last, p)));
      last = p;
    }
    assert.equal(framer.buffered, 0);
    assert.deepEqual(got.map((b) => decodeMessage(b)), msgs);
  }), { numRuns: 300 });
  expectOfError(() => new OfFramer().push(unhex('0100000400000000')), 'OFPBRC_BAD_LEN');
  assert.throws(() => encodeMessage({ version: 4, xid: 0, kind: 'ECHO_REQUEST', body: { data: new Uint8Array(65535 - 7) } }), RangeError);
  assert.equal(encodeMessage({ version: 4, xid: 0, kind: 'ECHO_REQUEST', body: { data: new Uint8Array(65535 - 8) } }).length, 65535);
});

test('multipart: OF1.0 STATS and OF1.3+ MULTIPART headers, unknown stats are BAD_STAT, split and reassembly', () => {
  // ovs-ofctl -O OpenFlow13 show: PORT_DESC request (type 13), 16 bytes.
  assert.equal(hex(encodeMessage({ version: 4, xid: 2, kind: 'MULTIPART_REQUEST', body: { stat: 'PORT_DESC', flags: 0, body: {} } })),
    '0412001000000002' + '000d0000' + '00000000');
  // OF1.0 (OVS extension type 13): no padding in the stats header.
  assert.equal(hex(encodeMessage({ version: 1, xid: 2, kind: 'MULTIPART_REQUEST', body: { stat: 'PORT_DESC', flags: 0, body: {} } })),
    '0110000c00000002000d0000');
  // OF1.5 adds port_no.
  assert.equal(hex(encodeMessage({ version: 6, xid: 2, kind: 'MULTIPART_REQUEST', body: { stat: 'PORT_DESC', flags: 0, body: { port_no: 0xffffffff } } })),
    '0612001800000002' + '000d0000' + '00000000' + 'ffffffff00000000');
  expectOfError(() => decodeMessage(unhex('04120010000000020063000000000000')), 'OFPBRC_BAD_STAT');
  assert.equal(encodeMessage({ version: 4, xid: 1, kind: 'MULTIPART_REPLY', body: { stat: 'DESC', flags: 0, body: { mfr_desc: 'tsw', hw_desc: '', sw_desc: '', serial_num: '', dp_desc: '' } } }).length, 16 + 1056);

  const port = (i: number): Port13 => ({
    port_no: i, hw_addr: '02:00:00:00:00:01', name: `p${i}`, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, curr_speed: 0, max_speed: 0,
  });
  const ports = Array.from({ length: 2000 }, (_, i) => port(i + 1));
  const parts = splitMultipartReply({ stat: 'PORT_DESC', flags: 0, body: { entries: ports } }, 4);
  assert.ok(parts.length > 1);
  const asm = new MultipartAssembler();
  let whole;
  parts.forEach((p, i) => {
    const bytes = encodeMessage({ version: 4, xid: 9, kind: 'MULTIPART_REPLY', body: p });
    assert.ok(bytes.length <= 65535);
    const back = decodeMessage(bytes);
    assert.ok(back.kind === 'MULTIPART_REPLY');
    if (back.kind !== 'MULTIPART_REPLY') return;
    whole = asm.push(back.xid, back.body);
    assert.equal(whole === undefined, i < parts.length - 1);
  });
  assert.deepEqual(whole, { stat: 'PORT_DESC', flags: 0, body: { entries: ports } });
  // A peer that never stops sending MORE is cut off.
  const small = new MultipartAssembler(3);
  const more = { stat: 'PORT_DESC' as const, flags: 1, body: { entries: [port(1)] } };
  small.push(1, more);
  small.push(1, more);
  small.push(1, more);
  expectOfError(() => small.push(1, more), 'OFPBRC_MULTIPART_BUFFER_OVERFLOW');
});

// ---------------------------------------------------------------- fuzz

/** xorshift32: deterministic, fast, no allocation. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

// OF_FUZZ_ITERATIONS raises the count for a long run (the 1,000,000); the unit suite does 100k.
const FUZZ_ITERATIONS = Number(process.env.OF_FUZZ_ITERATIONS ?? 100_000);

test(`fuzz: ${FUZZ_ITERATIONS} random and mutated messages only ever produce OfError`, () => {
  // Seeds: the hand-written arbitraries and every row of the message table (all kinds, multipart and Nicira included).
  const seeds = [...fc.sample(anyMessage, { numRuns: 400, seed: 42 }), ...fc.sample(messageArb(), { numRuns: 1200, seed: 43 })].map((m) => encodeMessage(m));
  const next = rng(0xc0ffee);
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < FUZZ_ITERATIONS; i++) {
    let buf: Uint8Array;
    const mode = next() % 6;
    const base = seeds[next() % seeds.length];
    if (mode === 0) {
      buf = new Uint8Array(next() % 80);
      for (let j = 0; j < buf.length; j++) buf[j] = next() & 0xff;
      if (buf.length >= 4 && next() & 1) { buf[2] = buf.length >> 8; buf[3] = buf.length & 0xff; }
      if (buf.length >= 1 && next() & 1) buf[0] = [1, 4, 5, 6][next() % 4];
    } else {
      buf = base.slice();
      const flips = 1 + (next() % 4);
      for (let j = 0; j < flips && buf.length; j++) buf[next() % buf.length] ^= 1 << (next() % 8);
      if (mode === 1 && buf.length > 8) buf = buf.slice(0, 8 + (next() % (buf.length - 8)));
      if (mode === 2 && buf.length >= 4) { buf[2] = buf.length >> 8; buf[3] = buf.length & 0xff; }
      if (mode === 3 && buf.length > 12) {
        // Corrupt an inner length-looking u16 and keep the header consistent.
        const at = 8 + (next() % (buf.length - 9));
        buf[at] = next() & 0xff; buf[at + 1] = next() & 0xff;
        buf[2] = buf.length >> 8; buf[3] = buf.length & 0xff;
      }
    }
    try {
      const m = decodeMessage(buf);
      decoded++;
      encodeMessage(m);
    } catch (e) {
      if (!(e instanceof OfError)) throw new Error(`non-OfError for ${hex(buf)}: ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(decoded > 1000 && rejected > 1000, `decoded ${decoded} rejected ${rejected}`);
});

test('an NXT_FLOW_MOD matching on NXM_NX_COOKIE decodes, prints with the cookie mask, and re-encodes byte for byte', () => {
  // `ovs-ofctl -O OpenFlow10 mod-flows br0 cookie=0x10/-1,actions=drop`, as captured in ofctl-of10.pcap.
  const bytes = Buffer.from(
    '0104004000000004000023200000000d' + 'ffffffffffffffff0001000000008000' + 'ffffffffffff0000000c000000000000' + '00013c08000000000000001000000000',
    'hex',
  );
  const m = decodeMessage(bytes);
  assert.equal(m.kind, 'NXT_FLOW_MOD');
  if (m.kind !== 'NXT_FLOW_MOD') return;
  assert.deepEqual(nxmCookie(m.body.match), { value: 0x10n });
  assert.deepEqual(Object.keys(m.body.match), []);
  assert.deepEqual(encodeMessage(m), new Uint8Array(bytes));
  assert.equal(ofpToString(bytes), 'NXT_FLOW_MOD (xid=0x4): MOD cookie:0x10/0xffffffffffffffff actions=drop\n');
  const masked = { ...m, body: { ...m.body, match: Object.assign({}, { [NXM_COOKIE]: { value: 0x10n, mask: 0xf0n } }) } } as typeof m;
  const back = decodeMessage(encodeMessage(masked));
  assert.ok(back.kind === 'NXT_FLOW_MOD');
  assert.deepEqual(nxmCookie(back.body.match), { value: 0x10n, mask: 0xf0n });
});
