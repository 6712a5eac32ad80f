// Sample messages of every kind and version, with values real peers send:
// the tshark and ovs-ofctl checks feed them to Wireshark and to OVS.

import {
  OfError, encodeMessage, errorReply, makeHello,
  type OfMessage, type TableFeatures, type Port10, type Port13, type Port14, type Action, type Instruction, type Match,
} from '../../src/openflow/index.js';


const mac = '02:00:00:00:00:01';
const p10: Port10 = { port_no: 1, hw_addr: mac, name: 'eth1', config: 0, state: 0, curr: 0x2c0, advertised: 0, supported: 0, peer: 0 };
const p13: Port13 = { ...p10, port_no: 0xfffffffe, name: 'br0', curr_speed: 10_000_000, max_speed: 0 };
const p14: Port14 = {
  port_no: 7, hw_addr: mac, name: 'p7', config: 1, state: 4,
  properties: [
    { type: 0, curr: 0x2c0, advertised: 0, supported: 0, peer: 0, curr_speed: 10_000_000, max_speed: 10_000_000 },
    {
      type: 1, supported: 1, tx_min_freq_lmda: 2, tx_max_freq_lmda: 3, tx_grid_freq_lmda: 4,
      rx_min_freq_lmda: 5, rx_max_freq_lmda: 6, rx_grid_freq_lmda: 7, tx_pwr_min: 8, tx_pwr_max: 9,
    },
  ],
};

export const SAMPLE_MATCH: Match = { in_port: { value: 1n }, eth_type: { value: 0x0800n }, ip_dst: { value: 0x0a000002n } };

/** The messages every version had before this file grew (kept in order: the tshark OXM and FLOW_MOD checks count on it). */
export function messagesFor(version: number): OfMessage[] {
  const port = version === 1 ? p10 : version === 4 ? p13 : p14;
  const badReq = new Uint8Array(encodeMessage({ version, xid: 9, kind: 'FEATURES_REQUEST', body: {} }));
  const list: OfMessage[] = [
    version === 1 ? makeHello(1 << 1, 1) : makeHello((1 << 1) | (1 << version), 1),
    errorReply(new OfError('OFPBRC_BAD_TYPE'), badReq),
    { version, xid: 3, kind: 'ECHO_REQUEST', body: { data: new Uint8Array(Buffer.from('ping')) } },
    { version, xid: 3, kind: 'ECHO_REPLY', body: { data: new Uint8Array(Buffer.from('ping')) } },
    version === 1
      ? { version, xid: 4, kind: 'EXPERIMENTER', body: { experimenter: 0x00002320, data: new Uint8Array(8) } }
      : { version, xid: 4, kind: 'EXPERIMENTER', body: { experimenter: 0x00002320, exp_type: 0, data: new Uint8Array(8) } },
    { version, xid: 5, kind: 'FEATURES_REQUEST', body: {} },
    version === 1
      ? { version, xid: 5, kind: 'FEATURES_REPLY', body: { datapath_id: 0x429cad97c34en, n_buffers: 0, n_tables: 254, capabilities: 0xc7, actions: 0xfff, ports: [{ ...p10, port_no: 0xfffe, name: 'br0' }, p10] } }
      : { version, xid: 5, kind: 'FEATURES_REPLY', body: { datapath_id: 0x429cad97c34en, n_buffers: 0, n_tables: 254, auxiliary_id: 0, capabilities: 0x4f, reserved: 0 } },
    { version, xid: 6, kind: 'GET_CONFIG_REQUEST', body: {} },
    { version, xid: 6, kind: 'GET_CONFIG_REPLY', body: { flags: 0, miss_send_len: 128 } },
    { version, xid: 7, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 0xffff } },
    { version, xid: 0, kind: 'PORT_STATUS', body: { reason: 2, desc: port } },
    { version, xid: 8, kind: 'BARRIER_REQUEST', body: {} },
    { version, xid: 8, kind: 'BARRIER_REPLY', body: {} },
  ];
  if (version >= 4) {
    list.push(errorReply(new OfError('NXBRC_MUST_BE_ZERO'), badReq));
  }
  if (version === 1) {
    list.push({
      version, xid: 0, kind: 'FLOW_REMOVED',
      body: {
        match: {
          in_port: { value: 3n }, eth_src: { value: 0x020000000001n }, vlan_tci: { value: 0x1064n, mask: 0x1fffn }, eth_type: { value: 0x0800n },
          nw_tos: { value: 0x20n }, nw_proto: { value: 6n }, ip_src: { value: 0x0a000000n, mask: 0xff000000n }, ip_dst: { value: 0x0a000001n }, tcp_dst: { value: 80n },
        },
        cookie: 0x1234n, priority: 100, reason: 0, duration_sec: 5, duration_nsec: 6, idle_timeout: 10, packet_count: 7n, byte_count: 700n,
      },
    });
  } else if (version <= 5) {
    list.push({
      version, xid: 0, kind: 'FLOW_REMOVED',
      body: {
        cookie: 0x1234n, priority: 100, reason: 1, table_id: 3, duration_sec: 5, duration_nsec: 6, idle_timeout: 10, hard_timeout: 20,
        packet_count: 7n, byte_count: 700n,
        match: {
          in_port: { value: 3n }, metadata: { value: 0x10n, mask: 0xf0n }, eth_dst: { value: 0x020000000002n },
          vlan_vid: { value: 0x1064n }, vlan_pcp: { value: 5n }, eth_type: { value: 0x0800n }, ip_dscp: { value: 10n }, nw_ecn: { value: 1n },
          nw_proto: { value: 17n }, ip_src: { value: 0x0a000000n, mask: 0xff000000n }, udp_dst: { value: 4789n }, tun_id: { value: 42n, mask: 0xffn },
        },
      },
    });
  }
  if (version === 1) {
    list.push({
      version, xid: 12, kind: 'FLOW_MOD',
      body: {
        match: { in_port: { value: 1n }, eth_type: { value: 0x0800n }, ip_dst: { value: 0x0a000002n } },
        cookie: 1n, command: 0, idle_timeout: 60, hard_timeout: 0, priority: 0x8000, buffer_id: 0xffffffff, out_port: 0xffff, flags: 1,
        actions: [{ type: 'set_vlan_vid', vlan_vid: 100 }, { type: 'set_dl_dst', dl_addr: mac }, { type: 'output', port: 2, max_len: 0 }],
      },
    });
  } else {
    const actions: Action[] = [
      { type: 'push_vlan', ethertype: 0x8100 },
      { type: 'set_field', field: { field: 'vlan_vid', value: 0x1064n } },
      { type: 'set_field', field: { field: 'ip_dst', value: 0x0a000002n } },
      { type: 'dec_nw_ttl' },
      { type: 'group', group_id: 5 },
      { type: 'output', port: 0xfffffffd, max_len: 0xffe5 },
    ];
    if (version >= 6) {
      // No OXM in the OF1.5 sample (see the Wireshark note below): drop set_field, add the OF1.5 meter action.
      actions.splice(1, 2);
      actions.unshift({ type: 'meter', meter_id: 1 });
    }
    const head = {
      cookie: 1n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 60, hard_timeout: 0, priority: 0x8000,
      buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 1,
    };
    // Wireshark 4.0's OF1.5 dissector throws on any OXM entry (the same bytes dissect cleanly as OF1.3/1.4),
    // so the OF1.5 sample carries an empty match; a separate assertion shows OF1.5 OXM bytes equal OF1.4's.
    const match: Match = version === 6 ? {} : SAMPLE_MATCH;
    const instructions: Instruction[] = [
      { type: 'write_metadata', metadata: 0x10n, metadata_mask: 0xf0n },
      { type: 'apply_actions', actions },
      { type: 'goto_table', table_id: 1 },
    ];
    list.push({
      version, xid: 12, kind: 'FLOW_MOD',
      body: version === 4 ? { ...head, match, instructions } : { ...head, importance: 0, match, instructions },
    });
  }
  list.push(
    { version, xid: 10, kind: 'MULTIPART_REQUEST', body: { stat: 'DESC', flags: 0, body: {} } },
    { version, xid: 10, kind: 'MULTIPART_REPLY', body: { stat: 'DESC', flags: 0, body: { mfr_desc: 'tsw', hw_desc: 'appliance', sw_desc: '0.1.0', serial_num: 'None', dp_desc: 'br0' } } },
  );
  if (version >= 4) {
    // OF1.0 PORT_DESC (type 13) is an OVS extension Wireshark does not know.
    list.push(
      { version, xid: 11, kind: 'MULTIPART_REQUEST', body: { stat: 'PORT_DESC', flags: 0, body: version >= 6 ? { port_no: 0xffffffff } : {} } },
      { version, xid: 11, kind: 'MULTIPART_REPLY', body: { stat: 'PORT_DESC', flags: 1, body: { entries: [port, port] } } },
      { version, xid: 11, kind: 'MULTIPART_REPLY', body: { stat: 'PORT_DESC', flags: 0, body: { entries: [port] } } },
    );
  }
  return list;
}


const FRAME = new Uint8Array(Buffer.from('ffffffffffff020000000001080045000014000100004000' + '66e7' + '0a0000010a000002', 'hex'));
const NO_BUFFER = 0xffffffff;
const ANY = 0xffffffff;

/** One sample of each kind added with the full message table (PACKET_IN … BUNDLE, every multipart kind, Nicira). */
export function newMessagesFor(version: number): OfMessage[] {
  const v = version;
  const out: OfMessage[] = [];
  const push = (...ms: OfMessage[]) => out.push(...ms);
  const output: Action = v === 1 ? { type: 'output', port: 2, max_len: 0 } : { type: 'output', port: 2, max_len: 0 };
  if (v === 1) {
    push(
      { version: v, xid: 0, kind: 'PACKET_IN', body: { buffer_id: NO_BUFFER, total_len: FRAME.length, in_port: 1, reason: 0, data: FRAME } },
      { version: v, xid: 20, kind: 'PACKET_OUT', body: { buffer_id: NO_BUFFER, in_port: 1, actions: [{ type: 'output', port: 2, max_len: 0 }], data: FRAME } },
      { version: v, xid: 21, kind: 'PORT_MOD', body: { port_no: 1, hw_addr: mac, config: 1, mask: 1, advertise: 0 } },
      { version: v, xid: 22, kind: 'QUEUE_GET_CONFIG_REQUEST', body: { port: 1 } },
      { version: v, xid: 22, kind: 'QUEUE_GET_CONFIG_REPLY', body: { port: 1, queues: [{ queue_id: 1, properties: [{ type: 1, rate: 500 }] }] } },
    );
  } else {
    push(
      { version: v, xid: 0, kind: 'PACKET_IN', body: { buffer_id: NO_BUFFER, total_len: FRAME.length, reason: 1, table_id: 0, cookie: 0x1234n, match: { in_port: { value: 1n } }, data: FRAME } },
      v === 6
        ? { version: v, xid: 20, kind: 'PACKET_OUT', body: { buffer_id: NO_BUFFER, match: { in_port: { value: 1n } }, actions: [output], data: FRAME } }
        : { version: v, xid: 20, kind: 'PACKET_OUT', body: { buffer_id: NO_BUFFER, in_port: 1, actions: [output], data: FRAME } },
      v === 4
        ? { version: v, xid: 21, kind: 'PORT_MOD', body: { port_no: 1, hw_addr: mac, config: 1, mask: 1, advertise: 0 } }
        : { version: v, xid: 21, kind: 'PORT_MOD', body: { port_no: 1, hw_addr: mac, config: 1, mask: 1, properties: [{ type: 0, advertise: 0x20 }] } },
      v === 4
        ? { version: v, xid: 23, kind: 'TABLE_MOD', body: { table_id: 1, config: 0 } }
        : { version: v, xid: 23, kind: 'TABLE_MOD', body: { table_id: 1, config: 4, properties: [{ type: 2, flags: 1 }] } },
      groupMod(v),
      {
        version: v, xid: 25, kind: 'METER_MOD',
        body: { command: 0, flags: 0x5, meter_id: 1, bands: [{ type: 1, rate: 1000, burst_size: 100 }, { type: 2, rate: 100, burst_size: 0, prec_level: 1 }] },
      },
      { version: v, xid: 26, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 1n } },
      { version: v, xid: 26, kind: 'ROLE_REPLY', body: { role: 2, generation_id: 1n } },
      { version: v, xid: 27, kind: 'GET_ASYNC_REQUEST', body: {} },
    );
    if (v === 4) {
      const cfg = { packet_in_mask: { master: 7, slave: 0 }, port_status_mask: { master: 7, slave: 7 }, flow_removed_mask: { master: 15, slave: 0 } };
      push(
        { version: v, xid: 27, kind: 'GET_ASYNC_REPLY', body: cfg },
        { version: v, xid: 28, kind: 'SET_ASYNC', body: cfg },
        { version: v, xid: 22, kind: 'QUEUE_GET_CONFIG_REQUEST', body: { port: 1 } },
        { version: v, xid: 22, kind: 'QUEUE_GET_CONFIG_REPLY', body: { port: 1, queues: [{ queue_id: 1, port: 1, properties: [{ type: 1, rate: 500 }, { type: 2, rate: 900 }] }] } },
      );
    } else {
      const properties = Array.from({ length: 6 }, (_, i) => ({ type: i, mask: i % 2 ? 7 : 0 }));
      push(
        { version: v, xid: 27, kind: 'GET_ASYNC_REPLY', body: { properties } },
        { version: v, xid: 28, kind: 'SET_ASYNC', body: { properties } },
        { version: v, xid: 0, kind: 'ROLE_STATUS', body: { role: 3, reason: 0, generation_id: 2n, properties: [] } },
        { version: v, xid: 0, kind: 'TABLE_STATUS', body: { reason: 3, table: { table_id: 1, config: 8, properties: [{ type: 3, vacancy_down: 10, vacancy_up: 90, vacancy: 50 }] } } },
        { version: v, xid: 0, kind: 'REQUESTFORWARD', body: { request: groupMod(v) } },
        { version: v, xid: 29, kind: 'BUNDLE_CONTROL', body: { bundle_id: 1, type: 0, flags: 1, properties: [] } },
        { version: v, xid: 29, kind: 'BUNDLE_CONTROL', body: { bundle_id: 1, type: 1, flags: 1, properties: [] } },
        { version: v, xid: 30, kind: 'BUNDLE_ADD_MESSAGE', body: { bundle_id: 1, flags: 1, message: flowModIn(v), properties: [] } },
      );
    }
  }
  if (v === 6) {
    push({
      version: v, xid: 0, kind: 'FLOW_REMOVED',
      body: {
        table_id: 0, reason: 0, priority: 100, idle_timeout: 10, hard_timeout: 0, cookie: 0x1234n, match: {},
        stats: { duration: (5n << 32n) | 6n, idle_time: 1n << 32n, packet_count: 7n, byte_count: 700n },
      },
    });
  }
  out.push(...multipartSamples(v));
  if (v === 1) out.push(...niciraSamples(v));
  return out;
}

/** An OF1.4/1.5 FLOW_MOD to put in a bundle (OVS bundles only modifications). */
function flowModIn(v: number): OfMessage {
  return {
    version: v, xid: 30, kind: 'FLOW_MOD',
    body: {
      cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 0x8000, buffer_id: NO_BUFFER,
      out_port: ANY, out_group: ANY, flags: 0, importance: 0, match: {}, instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, max_len: 0 }] }],
    },
  };
}

function groupMod(v: number): OfMessage {
  const out = [{ type: 'output' as const, port: 1, max_len: 0 }];
  return v === 6
    ? {
      version: v, xid: 24, kind: 'GROUP_MOD',
      body: {
        command: 0, type: 1, group_id: 1, command_bucket_id: 0xffffffff,
        buckets: [{ bucket_id: 0, actions: out, properties: [{ type: 0, weight: 10 }] }, { bucket_id: 1, actions: out, properties: [{ type: 0, weight: 20 }] }],
        properties: [],
      },
    }
    : {
      version: v, xid: 24, kind: 'GROUP_MOD',
      body: { command: 0, type: 1, group_id: 1, buckets: [{ weight: 10, watch_port: ANY, watch_group: ANY, actions: out }, { weight: 20, watch_port: ANY, watch_group: ANY, actions: out }] },
    };
}

function multipartSamples(v: number): OfMessage[] {
  const req = (xid: number, body: Extract<OfMessage, { kind: 'MULTIPART_REQUEST' }>['body']): OfMessage => ({ version: v, xid, kind: 'MULTIPART_REQUEST', body });
  const rep = (xid: number, body: Extract<OfMessage, { kind: 'MULTIPART_REPLY' }>['body']): OfMessage => ({ version: v, xid, kind: 'MULTIPART_REPLY', body });
  const out: OfMessage[] = [];
  const m13: Match = v === 6 ? {} : SAMPLE_MATCH;
  const apply: Instruction[] = [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, max_len: 0 }] }];
  if (v === 1) {
    const flowReq = { match: {}, table_id: 0xff, out_port: 0xffff };
    out.push(
      req(40, { stat: 'FLOW', flags: 0, body: flowReq }),
      rep(40, {
        stat: 'FLOW', flags: 0,
        body: { entries: [{ table_id: 0, match: { in_port: { value: 1n } }, duration_sec: 5, duration_nsec: 0, priority: 0x8000, idle_timeout: 0, hard_timeout: 0, cookie: 0n, packet_count: 1n, byte_count: 64n, actions: [{ type: 'output', port: 2, max_len: 0 }] }] },
      }),
      req(41, { stat: 'AGGREGATE', flags: 0, body: flowReq }),
      rep(41, { stat: 'AGGREGATE', flags: 0, body: { packet_count: 1n, byte_count: 64n, flow_count: 1 } }),
      req(42, { stat: 'TABLE', flags: 0, body: {} }),
      rep(42, { stat: 'TABLE', flags: 0, body: { entries: [{ table_id: 0, name: 'classifier', wildcards: 0x3fffff, max_entries: 1000000, active_count: 1, lookup_count: 10n, matched_count: 5n }] } }),
      req(43, { stat: 'PORT_STATS', flags: 0, body: { port_no: 0xffff } }),
      rep(43, { stat: 'PORT_STATS', flags: 0, body: { entries: [portCounters({ port_no: 1 })] } }),
      req(44, { stat: 'QUEUE_STATS', flags: 0, body: { port_no: 0xfffc, queue_id: ANY } }),
      rep(44, { stat: 'QUEUE_STATS', flags: 0, body: { entries: [{ port_no: 1, queue_id: 1, tx_bytes: 100n, tx_packets: 1n, tx_errors: 0n }] } }),
    );
    return out;
  }
  const flowReq = { table_id: 0xff, out_port: ANY, out_group: ANY, cookie: 0n, cookie_mask: 0n, match: m13 };
  const flowEntry = v === 6
    ? { table_id: 0, priority: 0x8000, idle_timeout: 0, hard_timeout: 0, flags: 0, importance: 0, cookie: 0n, match: m13, stats: { duration: 5n << 32n, packet_count: 1n, byte_count: 64n }, instructions: apply }
    : v === 5
      ? { table_id: 0, duration_sec: 5, duration_nsec: 0, priority: 0x8000, idle_timeout: 0, hard_timeout: 0, flags: 0, importance: 0, cookie: 0n, packet_count: 1n, byte_count: 64n, match: m13, instructions: apply }
      : { table_id: 0, duration_sec: 5, duration_nsec: 0, priority: 0x8000, idle_timeout: 0, hard_timeout: 0, flags: 0, cookie: 0n, packet_count: 1n, byte_count: 64n, match: m13, instructions: apply };
  const bucket = v === 6
    ? { bucket_id: 0, actions: [{ type: 'output' as const, port: 1, max_len: 0 }], properties: [{ type: 0, weight: 10 }] }
    : { weight: 10, watch_port: ANY, watch_group: ANY, actions: [{ type: 'output' as const, port: 1, max_len: 0 }] };
  const groupDesc = v === 6
    ? { type: 1, group_id: 1, buckets: [bucket], properties: [] }
    : { type: 1, group_id: 1, buckets: [bucket] };
  out.push(
    req(40, { stat: 'FLOW', flags: 0, body: flowReq }),
    rep(40, { stat: 'FLOW', flags: 0, body: { entries: [flowEntry] } } as Extract<OfMessage, { kind: 'MULTIPART_REPLY' }>['body']),
    req(41, { stat: 'AGGREGATE', flags: 0, body: flowReq }),
    rep(41, { stat: 'AGGREGATE', flags: 0, body: v === 6 ? { stats: { packet_count: 1n, byte_count: 64n, flow_count: 1n } } : { packet_count: 1n, byte_count: 64n, flow_count: 1 } }),
    req(42, { stat: 'TABLE', flags: 0, body: {} }),
    rep(42, { stat: 'TABLE', flags: 0, body: { entries: [{ table_id: 0, active_count: 1, lookup_count: 10n, matched_count: 5n }] } }),
    req(43, { stat: 'PORT_STATS', flags: 0, body: { port_no: ANY } }),
    rep(43, {
      stat: 'PORT_STATS', flags: 0,
      body: {
        entries: [v === 4
          ? { ...portCounters({ port_no: 1 }), duration_sec: 1, duration_nsec: 2 }
          : { port_no: 1, duration_sec: 1, duration_nsec: 2, ...baseCounters, properties: [{ type: 0, rx_frame_err: 0n, rx_over_err: 0n, rx_crc_err: 0n, collisions: 0n }] }],
      },
    } as Extract<OfMessage, { kind: 'MULTIPART_REPLY' }>['body']),
    req(44, { stat: 'QUEUE_STATS', flags: 0, body: { port_no: ANY, queue_id: ANY } }),
    rep(44, {
      stat: 'QUEUE_STATS', flags: 0,
      body: { entries: [v === 4 ? { port_no: 1, queue_id: 1, tx_bytes: 100n, tx_packets: 1n, tx_errors: 0n, duration_sec: 1, duration_nsec: 0 } : { port_no: 1, queue_id: 1, tx_bytes: 100n, tx_packets: 1n, tx_errors: 0n, duration_sec: 1, duration_nsec: 0, properties: [] }] },
    } as Extract<OfMessage, { kind: 'MULTIPART_REPLY' }>['body']),
    req(45, { stat: 'GROUP', flags: 0, body: { id: 0xfffffffc } }),
    rep(45, { stat: 'GROUP', flags: 0, body: { entries: [{ group_id: 1, ref_count: 0, packet_count: 1n, byte_count: 64n, duration_sec: 1, duration_nsec: 0, bucket_stats: [{ packet_count: 1n, byte_count: 64n }] }] } }),
    req(46, { stat: 'GROUP_DESC', flags: 0, body: v === 6 ? { id: 0xfffffffc } : {} }),
    rep(46, { stat: 'GROUP_DESC', flags: 0, body: { entries: [groupDesc] } } as Extract<OfMessage, { kind: 'MULTIPART_REPLY' }>['body']),
    req(47, { stat: 'GROUP_FEATURES', flags: 0, body: {} }),
    rep(47, { stat: 'GROUP_FEATURES', flags: 0, body: { types: 0xf, capabilities: 0x7, max_groups: { all: 64, select: 64, indirect: 64, ff: 64 }, actions: { all: 1, select: 1, indirect: 1, ff: 1 } } }),
    req(48, { stat: 'METER', flags: 0, body: { id: ANY } }),
    rep(48, { stat: 'METER', flags: 0, body: { entries: [{ meter_id: 1, flow_count: 0, packet_in_count: 0n, byte_in_count: 0n, duration_sec: 1, duration_nsec: 0, band_stats: [{ packet_band_count: 0n, byte_band_count: 0n }] }] } }),
    req(49, { stat: 'METER_CONFIG', flags: 0, body: { id: ANY } }),
    rep(49, { stat: 'METER_CONFIG', flags: 0, body: { entries: [{ flags: 5, meter_id: 1, bands: [{ type: 1, rate: 1000, burst_size: 100 }] }] } }),
    req(50, { stat: 'METER_FEATURES', flags: 0, body: {} }),
    rep(50, { stat: 'METER_FEATURES', flags: 0, body: { max_meter: 100, band_types: 6, capabilities: 0xf, max_bands: 1, max_color: 0 } }),
    req(51, { stat: 'TABLE_FEATURES', flags: 0, body: { entries: [] } }),
    rep(51, {
      stat: 'TABLE_FEATURES', flags: 0,
      body: {
        entries: [TABLE_FEATURES_SAMPLE],
      },
    }),
  );
  if (v >= 5) {
    out.push(
      req(52, { stat: 'TABLE_DESC', flags: 0, body: {} }),
      rep(52, { stat: 'TABLE_DESC', flags: 0, body: { entries: [{ table_id: 0, config: 0, properties: [{ type: 2, flags: 1 }] }] } }),
      req(53, { stat: 'QUEUE_DESC', flags: 0, body: { port_no: ANY, queue_id: ANY } }),
      rep(53, { stat: 'QUEUE_DESC', flags: 0, body: { entries: [{ port_no: 1, queue_id: 1, properties: [{ type: 1, rate: 100 }, { type: 2, rate: 900 }] }] } }),
      req(54, { stat: 'FLOW_MONITOR', flags: 0, body: { monitor_id: 1, out_port: ANY, out_group: ANY, flags: 0xf, table_id: 0xff, command: 0, match: m13 } }),
      rep(54, {
        stat: 'FLOW_MONITOR', flags: 0,
        body: {
          entries: [
            { event: 1, table_id: 0, reason: 0, idle_timeout: 0, hard_timeout: 0, priority: 0x8000, cookie: 0n, match: m13, instructions: apply },
            { event: 4, xid: 7 },
          ],
        },
      }),
    );
  }
  return out;
}

/** A table-features entry with every property OVS requires. */
export const TABLE_FEATURES_SAMPLE: TableFeatures = {
          table_id: 0, command: 0, name: 'classifier', metadata_match: (1n << 64n) - 1n, metadata_write: (1n << 64n) - 1n, capabilities: 0, max_entries: 1000000,
          properties: [
            { type: 0, ids: [1, 2, 3, 4, 5, 6].map((t) => ({ type: t, data: new Uint8Array(0) })) },
            { type: 2, table_ids: [1, 2, 3] },
            { type: 4, ids: [0, 22].map((t) => ({ type: t, data: new Uint8Array(0) })) },
            { type: 6, ids: [0, 25].map((t) => ({ type: t, data: new Uint8Array(0) })) },
            { type: 8, oxm_ids: [0x80000004, 0x80000a02] },
            { type: 10, oxm_ids: [0x80000004] },
            { type: 12, oxm_ids: [0x80000c02] },
            { type: 14, oxm_ids: [0x80000c02] },
          ],
        };

const baseCounters = { rx_packets: 1n, tx_packets: 2n, rx_bytes: 64n, tx_bytes: 128n, rx_dropped: 0n, tx_dropped: 0n, rx_errors: 0n, tx_errors: 0n };
function portCounters(p: { port_no: number }) {
  return { ...p, ...baseCounters, rx_frame_err: 0n, rx_over_err: 0n, rx_crc_err: 0n, collisions: 0n };
}

function niciraSamples(v: number): OfMessage[] {
  const nxMatch: Match = { in_port: { value: 1n }, eth_type: { value: 0x0800n }, reg0: { value: 5n } };
  const actions: Action[] = [
    { type: 'resubmit_table', in_port: 0xfff8, table: 3 },
    { type: 'reg_load', ofs_nbits: (0 << 6) | 7, dst: 0x00010204, value: 5n },
    { type: 'controller', max_len: 0xffff, controller_id: 3, reason: 0 },
    { type: 'output', port: 2, max_len: 0 },
  ];
  return [
    { version: v, xid: 60, kind: 'NXT_SET_FLOW_FORMAT', body: { format: 2 } },
    { version: v, xid: 61, kind: 'NXT_FLOW_MOD_TABLE_ID', body: { set: 1 } },
    { version: v, xid: 62, kind: 'NXT_SET_PACKET_IN_FORMAT', body: { format: 1 } },
    { version: v, xid: 63, kind: 'NXT_SET_CONTROLLER_ID', body: { controller_id: 3 } },
    { version: v, xid: 64, kind: 'NXT_ROLE_REQUEST', body: { role: 1 } },
    { version: v, xid: 64, kind: 'NXT_ROLE_REPLY', body: { role: 1 } },
    {
      version: v, xid: 65, kind: 'NXT_FLOW_MOD',
      body: { cookie: 0n, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 0x8000, buffer_id: NO_BUFFER, out_port: 0xffff, flags: 0, match: nxMatch, actions },
    },
    { version: v, xid: 0, kind: 'NXT_PACKET_IN', body: { buffer_id: NO_BUFFER, total_len: FRAME.length, reason: 0, table_id: 0, cookie: (1n << 64n) - 1n, match: { in_port: { value: 1n } }, data: FRAME } },
    { version: v, xid: 0, kind: 'NXT_FLOW_REMOVED', body: { cookie: 0n, priority: 0x8000, reason: 0, table_id: 1, duration_sec: 1, duration_nsec: 0, idle_timeout: 10, packet_count: 1n, byte_count: 64n, match: nxMatch } },
    {
      version: v, xid: 0, kind: 'NXT_PACKET_IN2',
      body: {
        properties: [
          { type: 0, data: FRAME }, { type: 1, value: FRAME.length }, { type: 3, value: 0 }, { type: 4, value: 0n },
          { type: 5, value: 1 }, { type: 6, match: { in_port: { value: 1n } } },
        ],
      },
    },
    { version: v, xid: 66, kind: 'MULTIPART_REQUEST', body: { stat: 'NX_FLOW', flags: 0, body: { out_port: 0xffff, table_id: 0xff, match: nxMatch } } },
    {
      version: v, xid: 66, kind: 'MULTIPART_REPLY',
      body: {
        stat: 'NX_FLOW', flags: 0,
        body: { entries: [{ table_id: 0, duration_sec: 1, duration_nsec: 0, priority: 0x8000, idle_timeout: 0, hard_timeout: 0, idle_age: 1, hard_age: 1, cookie: 0n, packet_count: 1n, byte_count: 64n, match: nxMatch, actions }] },
      },
    },
    { version: v, xid: 67, kind: 'MULTIPART_REQUEST', body: { stat: 'NX_AGGREGATE', flags: 0, body: { out_port: 0xffff, table_id: 0xff, match: {} } } },
    { version: v, xid: 67, kind: 'MULTIPART_REPLY', body: { stat: 'NX_AGGREGATE', flags: 0, body: { packet_count: 1n, byte_count: 64n, flow_count: 1 } } },
    ...nicira2Samples(v),
  ];
}

/** TLV table, conntrack flush, flow monitor (NX and ONF), OF1.0 groups, controller2 and sample2 actions. */
function nicira2Samples(v: number): OfMessage[] {
  const map = { option_class: 0xffff, option_type: 3, option_len: 4, index: 1 };
  const v4 = (a: number) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, a]);
  const out: OfMessage[] = [
    { version: v, xid: 70, kind: 'NXT_TLV_TABLE_MOD', body: { command: 0, maps: [map] } },
    { version: v, xid: 70, kind: 'NXT_TLV_TABLE_MOD', body: { command: 2, maps: [] } },
    { version: v, xid: 71, kind: 'NXT_TLV_TABLE_REQUEST', body: {} },
    { version: v, xid: 71, kind: 'NXT_TLV_TABLE_REPLY', body: { max_option_space: 256, max_fields: 64, maps: [map] } },
    { version: v, xid: 72, kind: 'NXT_CT_FLUSH_ZONE', body: { zone_id: 7 } },
    {
      version: v, xid: 73, kind: 'NXT_CT_FLUSH',
      body: {
        ip_proto: 6,
        properties: [
          { type: 0, tuple: [{ type: 0, addr: v4(1) }, { type: 1, addr: v4(2) }, { type: 2, port: 80, }, { type: 3, port: 8080 }] },
          { type: 2, zone_id: 3 },
        ],
      },
    },
    {
      version: v, xid: 74, kind: v === 1 ? 'NXT_FLOW_MOD' : 'FLOW_MOD',
      ...(v === 1
        ? {
          body: {
            cookie: 0n, command: 1, idle_timeout: 0, hard_timeout: 0, priority: 0x8000, buffer_id: 0xffffffff, out_port: 0xffff, flags: 0,
            match: { eth_type: { value: 0x0800n } }, actions: [],
          },
        }
        : {
          body: {
            cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 0x8000, buffer_id: 0xffffffff,
            out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, ...(v >= 5 ? { importance: 0 } : {}), match: {},
            instructions: [{
              type: 'apply_actions',
              actions: [
                { type: 'controller2', properties: [{ type: 1, value: 5 }, { type: 2, value: 0 }, { type: 3, data: Uint8Array.from([1, 2]) }, { type: 4 }] },
                { type: 'sample2', probability: 10, collector_set_id: 1, obs_domain_id: 2, obs_point_id: 3, sampling_port: 2, direction: 0 },
              ],
            }],
          },
        }),
    } as OfMessage,
  ];
  if (v === 1 || v === 4) {
    const request = { id: 1, flags: 0x3f, out_port: v === 1 ? 0xffff : 0xffffffff, table_id: 0xff, match: { eth_type: { value: 0x0800n } } };
    const full = {
      reason: 0, priority: 5, idle_timeout: 0, hard_timeout: 0, table_id: 2, cookie: 0x10n, match: { eth_type: { value: 0x0800n } },
      ...(v === 1 ? { actions: [{ type: 'output', port: 2, max_len: 0 }] } : { instructions: [] }),
    };
    out.push(
      { version: v, xid: 75, kind: 'MULTIPART_REQUEST', body: { stat: 'NX_FLOW_MONITOR', flags: 0, body: { body: request } } },
      {
        version: v, xid: 75, kind: 'MULTIPART_REPLY',
        body: { stat: 'NX_FLOW_MONITOR', flags: 0, body: { entries: [{ event: 0, ...full }, { event: 1, ...full, reason: 2 }, { event: 3, xid: 9 }] } },
      } as OfMessage,
      { version: v, xid: 76, kind: 'NXT_FLOW_MONITOR_CANCEL', body: { id: 1 } },
      { version: v, xid: 76, kind: 'NXT_FLOW_MONITOR_PAUSED', body: {} },
    );
  }
  if (v === 1) {
    const bucket = { bucket_id: 0, actions: [{ type: 'output', port: 1, max_len: 0 }], properties: [{ type: 0, weight: 5 }] } as const;
    out.push(
      {
        version: v, xid: 77, kind: 'NXT_GROUP_MOD',
        body: { command: 0, type: 1, group_id: 1, command_bucket_id: 0xffffffff, buckets: [bucket], properties: [] },
      } as unknown as OfMessage,
      { version: v, xid: 78, kind: 'MULTIPART_REQUEST', body: { stat: 'NX_GROUP_DESC', flags: 0, body: { body: { id: 0xfffffffc } } } },
      {
        version: v, xid: 78, kind: 'MULTIPART_REPLY',
        body: { stat: 'NX_GROUP_DESC', flags: 0, body: { entries: [{ type: 1, group_id: 1, buckets: [bucket], properties: [] }] } },
      } as unknown as OfMessage,
    );
  }
  return out;
}

/** Every sample of a version, old and new. */
export function samplesFor(version: number): OfMessage[] {
  return [...messagesFor(version), ...newMessagesFor(version)];
}
