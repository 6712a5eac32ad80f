// Nicira protocol extensions (vendor 0x00002320) that ovs-ofctl uses: each
// is a vendor/experimenter message whose first body word is the vendor id and
// second the subtype, then a field table. NXM matches are carried with a
// match_len and padded to 8 bytes.

import { actionList, type Action } from './actions.js';
import { async13 } from './controller.js';
import { NXM, tlvFields, type Match } from './match.js';
import { NX_VENDOR_ID } from './errors.js';
import {
  constant, length16, lengthOf, pad, propList, rest, struct, u16, u32, u64, u8,
  type Codec, type Prop, type RawProp, type StructValue,
} from './wire.js';

const nxMatch = tlvFields(NXM);
/** match_len + pad(n) + match padded to 8, as every NX message lays it out. */
const matchLen = () => lengthOf('match', 2, { align: 8 });

export const NXFF_OPENFLOW10 = 0;
export const NXFF_NXM = 2;
export const NXPIF_STANDARD = 0;
export const NXPIF_NXT_PACKET_IN = 1;
export const NXPIF_NXT_PACKET_IN2 = 2;

function flowModFields(version: number) {
  return {
    cookie: u64, command: u16, idle_timeout: u16, hard_timeout: u16, priority: u16, buffer_id: u32, out_port: u16, flags: u16,
    _match_len: matchLen(), _pad: pad(6), match: nxMatch, actions: actionList(version),
  };
}
const flowRemovedFields = {
  cookie: u64, priority: u16, reason: u8, table_id: u8, duration_sec: u32, duration_nsec: u32, idle_timeout: u16,
  _match_len: matchLen(), packet_count: u64, byte_count: u64, match: nxMatch,
};
const packetInFields = {
  buffer_id: u32, total_len: u16, reason: u8, table_id: u8, cookie: u64, _match_len: matchLen(), _pad: pad(6), match: nxMatch,
  _pad2: pad(2), data: rest,
};

const pi2Packet = { data: rest };
const pi2U32 = { value: u32 };
const pi2U8 = { value: u8 };
const pi2Cookie = { _pad: pad(4), value: u64 };
const pi2Metadata = { match: nxMatch };
export type PacketIn2Prop =
  | Prop<0, typeof pi2Packet> | Prop<1 | 2, typeof pi2U32> | Prop<3 | 5, typeof pi2U8> | Prop<4, typeof pi2Cookie>
  | Prop<6, typeof pi2Metadata> | Prop<7, typeof pi2Packet> | RawProp;
const packetIn2Props = propList<PacketIn2Prop>(
  [[0, pi2Packet], [1, pi2U32], [2, pi2U32], [3, pi2U8], [4, pi2Cookie], [5, pi2U8], [6, pi2Metadata], [7, pi2Packet]],
  'packet_in2 property', 'OFPBPC_BAD_LEN',
);

/** Nicira message kind → subtype and body fields (after vendor and subtype). */
export function nxMessageTables(version: number) {
  return {
    NXT_ROLE_REQUEST: [10, { role: u32 }],
    NXT_ROLE_REPLY: [11, { role: u32 }],
    NXT_SET_FLOW_FORMAT: [12, { format: u32 }],
    NXT_FLOW_MOD: [13, flowModFields(version)],
    NXT_FLOW_REMOVED: [14, flowRemovedFields],
    NXT_FLOW_MOD_TABLE_ID: [15, { set: u8, _pad: pad(7) }],
    NXT_SET_PACKET_IN_FORMAT: [16, { format: u32 }],
    NXT_PACKET_IN: [17, packetInFields],
    NXT_FLOW_AGE: [18, {}],
    NXT_SET_ASYNC_CONFIG: [19, { config: async13 }],
    NXT_SET_CONTROLLER_ID: [20, { _zero: pad(6), controller_id: u16 }],
    NXT_PACKET_IN2: [30, { properties: packetIn2Props }],
  } as const;
}

type Tables = ReturnType<typeof nxMessageTables>;
/** Nicira message bodies by kind. */
export type NxBodies = { [K in keyof Tables]: StructValue<Tables[K][1]> };
export type NxFlowMod = NxBodies['NXT_FLOW_MOD'] & { match: Match; actions: Action[] };

/** The struct of a Nicira message: vendor id and subtype as constants, then the fields. */
export function nxMessage(subtype: number, fields: Record<string, Codec<unknown>>, what: string): Codec<unknown> {
  return struct({ _nx_vendor: constant(4, NX_VENDOR_ID), _nx_subtype: constant(4, subtype), ...fields }, { what });
}

// ---------------------------------------------------------------- NXST_FLOW / NXST_AGGREGATE (OF1.0 vendor statistics)

export const flowStatsRequestFields = { out_port: u16, _match_len: matchLen(), table_id: u8, _pad: pad(3), match: nxMatch };
export type NxFlowStatsRequest = StructValue<typeof flowStatsRequestFields>;
export const nxFlowStatsRequest = struct(flowStatsRequestFields, { what: 'nx_flow_stats_request' });

function flowStatsFields(version: number) {
  return {
    length: length16, table_id: u8, _pad: pad(1), duration_sec: u32, duration_nsec: u32, priority: u16, idle_timeout: u16,
    hard_timeout: u16, _match_len: matchLen(), idle_age: u16, hard_age: u16, cookie: u64, packet_count: u64, byte_count: u64,
    match: nxMatch, actions: actionList(version),
  };
}
export type NxFlowStats = StructValue<ReturnType<typeof flowStatsFields>> & { actions: Action[] };
export const nxFlowStats = (v: number) => struct(flowStatsFields(v), { what: 'nx_flow_stats' });

export const aggregateReplyFields = { packet_count: u64, byte_count: u64, flow_count: u32, _pad: pad(4) };
export type AggregateReply = StructValue<typeof aggregateReplyFields>;
export const aggregateReply = struct(aggregateReplyFields, { what: 'ofp_aggregate_stats_reply' });
