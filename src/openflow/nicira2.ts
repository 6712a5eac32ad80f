// More Nicira extensions: the TLV (tunnel metadata) table, conntrack flushes,
// flow monitoring in its Nicira (OF1.0) and ONF (OF1.3) forms, OF1.0 groups
// (NXT_GROUP_MOD and the NXST_GROUP* statistics, in the OF1.5 group layout
// with OF1.0 actions) and IPFIX statistics.

import { actionList, instructionList, type Action, type Instruction } from './actions.js';
import { OfError } from './errors.js';
import { NXM, oxmMatch, tlvFields, type Match } from './match.js';
import {
  bytes, length16, lengthOf, list, pad, propList, struct, u16, u32, u64, u8,
  type Codec, type Prop, type RawProp, type Reader, type Shape, type StructValue, type Writer,
} from './wire.js';

export const ONF_FLOW_MONITOR = 1870;

// ---------------------------------------------------------------- TLV table

const tlvMapFields = { option_class: u16, option_type: u8, option_len: u8, index: u16, _pad: pad(2) };
export type TlvMap = StructValue<typeof tlvMapFields>;
const tlvMap = struct(tlvMapFields, { what: 'nx_tlv_map' });
export const NXTTMC = { ADD: 0, DELETE: 1, CLEAR: 2 } as const;

const tlvTableModFields = { command: u16, _pad: pad(6), maps: list(tlvMap, 'tlv maps') };
const tlvTableReplyFields = { max_option_space: u32, max_fields: u16, _reserved: pad(10), maps: list(tlvMap, 'tlv maps') };

// ---------------------------------------------------------------- conntrack flush

const ctAddr = { addr: bytes(16) };
const ctPort = { port: u16, _pad: pad(2) };
const ctU8 = { value: u8 };
export const NXT_CT_TUPLE = { SRC: 0, DST: 1, SRC_PORT: 2, DST_PORT: 3, ICMP_ID: 4, ICMP_TYPE: 5, ICMP_CODE: 6 } as const;
export type CtTupleProp =
  | Prop<0 | 1, typeof ctAddr> | Prop<2 | 3 | 4, typeof ctPort> | Prop<5 | 6, typeof ctU8> | RawProp;
const ctTuple = { _pad: pad(4), tuple: propList<CtTupleProp>([[0, ctAddr], [1, ctAddr], [2, ctPort], [3, ctPort], [4, ctPort], [5, ctU8], [6, ctU8]], 'ct tuple property') };
const ctZone = { zone_id: u16, _pad: pad(2) };
export const NXT_CT = { ORIG_TUPLE: 0, REPLY_TUPLE: 1, ZONE_ID: 2 } as const;
export type CtFlushProp = Prop<0 | 1, typeof ctTuple> | Prop<2, typeof ctZone> | RawProp;
const ctFlushFields = {
  ip_proto: u8, _pad: pad(7),
  properties: propList<CtFlushProp>([[0, ctTuple], [1, ctTuple], [2, ctZone]], 'ct flush property'),
};

// ---------------------------------------------------------------- flow monitor (NX and ONF)

/**
 * The ONF (OF1.3) structs carry an OXM ofp_match whose unpadded length is
 * also written in a match_len field earlier in the struct: written here from
 * the encoded match, ignored when reading (the match says its own length).
 */
function withOnfMatchLen<T>(inner: Codec<T>, matchLenAt: number, matchAt: number): Codec<T> {
  return {
    shape: inner.shape,
    size: inner.size,
    write: (w: Writer, v: T) => {
      const start = w.pos;
      inner.write(w, v);
      w.buf[start + matchLenAt] = w.buf[start + matchAt + 2];
      w.buf[start + matchLenAt + 1] = w.buf[start + matchAt + 3];
    },
    read: inner.read,
  };
}

const nxMonitorRequestFields = {
  id: u32, flags: u16, out_port: u16, _match_len: lengthOf('match', 2, { align: 8 }), table_id: u8, _zeros: pad(5), match: tlvFields(NXM),
};
const onfMonitorRequestFields = {
  id: u32, flags: u16, _match_len: pad(2), out_port: u32, table_id: u8, _zeros: pad(3), match: oxmMatch(4),
};
/** One NXST/ONFST flow monitor request (flags are NXFMF_*; out_port is 16-bit in OF1.0, 32-bit in OF1.3). */
export type NxFlowMonitorRequest = StructValue<typeof nxMonitorRequestFields> & { match: Match };

/** NXFME_* (the ONF values are the same). */
export const NXFME = { ADDED: 0, DELETED: 1, MODIFIED: 2, ABBREV: 3 } as const;
const nxUpdateFullFields = {
  reason: u16, priority: u16, idle_timeout: u16, hard_timeout: u16, _match_len: lengthOf('match', 2, { align: 8 }), table_id: u8,
  _pad: pad(1), cookie: u64, match: tlvFields(NXM), actions: actionList(1),
};
const onfUpdateFullFields = {
  reason: u16, priority: u16, idle_timeout: u16, hard_timeout: u16, _match_len: pad(2), table_id: u8, _pad: pad(1), cookie: u64,
  match: oxmMatch(4), instructions: instructionList(4),
};
type FullCommon = { reason: number; priority: number; idle_timeout: number; hard_timeout: number; table_id: number; cookie: bigint; match: Match };
export type NxFlowUpdate =
  | ({ event: 0 | 1 | 2 } & FullCommon & ({ actions: Action[] } | { instructions: Instruction[] }))
  | { event: 3; xid: number };

/** nx_flow_update_header (length, event) and the event's body; lengths are multiples of 8. */
function nxFlowUpdate(full: Codec<Record<string, unknown>>): Codec<NxFlowUpdate> {
  const abbrev = struct({ xid: u32 }) as unknown as Codec<Record<string, unknown>>;
  const bodyOf = (e: number) => (e === NXFME.ABBREV ? abbrev : full);
  return {
    shape: {
      t: 'union',
      options: [0, 1, 2, 3].map((event) => ({ tag: { event }, shape: bodyOf(event).shape as Shape })),
    },
    size: (v) => 4 + bodyOf(v.event).size(v as unknown as Record<string, unknown>),
    write: (w, v) => {
      const b = bodyOf(v.event);
      w.u16(4 + b.size(v as unknown as Record<string, unknown>));
      w.u16(v.event);
      b.write(w, v as unknown as Record<string, unknown>);
    },
    read: (r: Reader) => {
      const start = r.pos;
      const h = r.sub(4, 'OFPBRC_BAD_LEN', 'flow update header');
      const len = h.u16();
      const event = h.u16();
      if (len < 8 || len % 8 || start + len > r.end) throw new OfError('OFPBRC_BAD_LEN', `flow update length ${len}`);
      if (event > NXFME.ABBREV) throw new OfError('NXBRC_FM_BAD_EVENT', `flow update event ${event}`);
      const sub = r.sub(len - 4, 'OFPBRC_BAD_LEN', 'flow update');
      const v = bodyOf(event).read(sub);
      sub.expectEnd('flow update');
      return { event, ...v } as NxFlowUpdate;
    },
  };
}

/** The request and update codecs of the Nicira (OF1.0) or ONF (OF1.3) flow monitor. */
export function nxFlowMonitor(version: number): { request: Codec<NxFlowMonitorRequest>; update: Codec<NxFlowUpdate> } {
  if (version === 1) {
    return {
      request: struct(nxMonitorRequestFields, { what: 'nx_flow_monitor_request' }) as Codec<NxFlowMonitorRequest>,
      update: nxFlowUpdate(struct(nxUpdateFullFields, { what: 'nx_flow_update_full' }) as unknown as Codec<Record<string, unknown>>),
    };
  }
  return {
    request: withOnfMatchLen(struct(onfMonitorRequestFields, { what: 'onf_flow_monitor_request' }), 6, 16) as unknown as Codec<NxFlowMonitorRequest>,
    update: nxFlowUpdate(withOnfMatchLen(
      struct(onfUpdateFullFields, { what: 'onf_flow_update_full' }) as unknown as Codec<Record<string, unknown>>, 8, 20,
    )),
  };
}

// ---------------------------------------------------------------- OF1.0 groups (OF1.5 layout, OF1.0 actions)

const bucketWeight = { weight: u16, _pad: pad(2) };
const bucketWatchPort = { watch_port: u32 };
const bucketWatchGroup = { watch_group: u32 };
type NxBucketProp = Prop<0, typeof bucketWeight> | Prop<1, typeof bucketWatchPort> | Prop<2, typeof bucketWatchGroup> | RawProp;
const nxBucketFields = {
  len: length16, _action_array_len: lengthOf('actions'), bucket_id: u32, actions: actionList(1),
  properties: propList<NxBucketProp>([[0, bucketWeight], [1, bucketWatchPort], [2, bucketWatchGroup]], 'group bucket property'),
};
const nxBucket = struct(nxBucketFields, { what: 'ofp15_bucket', lenError: 'OFPGMFC_BAD_BUCKET' });
const nxGroupProps = propList<RawProp & { type: number }>([], 'group property');
export const nxGroupModFields = {
  command: u16, type: u8, _pad: pad(1), group_id: u32, _bucket_array_len: lengthOf('buckets'), _pad2: pad(2), command_bucket_id: u32,
  buckets: list(nxBucket, 'buckets'), properties: nxGroupProps,
};
export const nxGroupDesc = struct({
  length: length16, type: u8, _pad: pad(1), group_id: u32, _bucket_list_len: lengthOf('buckets'), _pad2: pad(6),
  buckets: list(nxBucket, 'buckets'), properties: nxGroupProps,
}, { what: 'ofp15_group_desc' });

// ---------------------------------------------------------------- IPFIX statistics

const ipfixStatsFields = {
  total_flows: u64, current_flows: u64, pkts: u64, ipv4_pkts: u64, ipv6_pkts: u64, error_pkts: u64, ipv4_error_pkts: u64,
  ipv6_error_pkts: u64, tx_pkts: u64, tx_errors: u64, collector_set_id: u32, _pad: pad(4),
};
export type IpfixStats = StructValue<typeof ipfixStatsFields>;
export const ipfixStats = struct(ipfixStatsFields, { what: 'nx_ipfix_stats_reply' });

// ---------------------------------------------------------------- message tables

/** Nicira messages of every version: kind → subtype and body fields. */
export function nxMessageTables2() {
  return {
    NXT_TLV_TABLE_MOD: [24, tlvTableModFields],
    NXT_TLV_TABLE_REQUEST: [25, {}],
    NXT_TLV_TABLE_REPLY: [26, tlvTableReplyFields],
    NXT_CT_FLUSH_ZONE: [29, { _zero: pad(6), zone_id: u16 }],
    NXT_CT_FLUSH: [32, ctFlushFields],
  } as const;
}

/** Flow monitor control messages: Nicira subtypes in OF1.0, ONF experimenter types in OF1.3. */
export function monitorMessageTables(version: number) {
  const base = version === 1 ? 21 : 1870;
  return {
    NXT_FLOW_MONITOR_CANCEL: [base, { id: u32 }],
    NXT_FLOW_MONITOR_PAUSED: [base + 1, {}],
    NXT_FLOW_MONITOR_RESUMED: [base + 2, {}],
  } as const;
}

type T2 = ReturnType<typeof nxMessageTables2>;
type TM = ReturnType<typeof monitorMessageTables>;
export type Nx2Bodies = { [K in keyof T2]: StructValue<T2[K][1]> } & { [K in keyof TM]: StructValue<TM[K][1]> } & {
  NXT_GROUP_MOD: StructValue<typeof nxGroupModFields>;
};
