// Nicira protocol extensions (vendor 0x00002320) that ovs-ofctl uses: each
// is a vendor/experimenter message whose first body word is the vendor id and
// second the subtype, then a field table. NXM matches are carried with a
// match_len and padded to 8 bytes.

import { actionList, type Action } from './actions.js';
import { async13 } from './controller.js';
import { NXM, tlvFields, type Match } from './match.js';
import { NX_VENDOR_ID, OfError } from './errors.js';
import {
  Reader, constant, length16, lengthOf, pad, propList, rest, struct, u16, u32, u64, u8,
  type Codec, type Prop, type RawProp, type StructValue,
} from './wire.js';

const nxMatch = tlvFields(NXM);

/** Where an NXM match read from a flow_mod or flow stats request keeps its NXM_NX_COOKIE(_W) entry. */
export const NXM_COOKIE = Symbol('NXM_NX_COOKIE');
const COOKIE = 0x00013c08;
const COOKIE_W = 0x00013d10;
type CookieMatch = Match & { [NXM_COOKIE]?: { value: bigint; mask?: bigint } };

/** The cookie (and mask) an NXM match carried as NXM_NX_COOKIE(_W), if any. */
export function nxmCookie(m: Match): { value: bigint; mask?: bigint } | undefined {
  return (m as CookieMatch)[NXM_COOKIE];
}

/**
 * nx_match as NXT_FLOW_MOD and NXST_FLOW/AGGREGATE requests carry it: the
 * fields, plus an optional NXM_NX_COOKIE(_W) entry (written last, as OVS does).
 */
const nxCookieMatch: Codec<Match> = {
  shape: nxMatch.shape,
  size: (m) => {
    const c = nxmCookie(m);
    return nxMatch.size(m) + (c ? (c.mask === undefined ? 12 : 20) : 0);
  },
  write: (w, m) => {
    nxMatch.write(w, m);
    const c = nxmCookie(m);
    if (!c) return;
    w.u32(c.mask === undefined ? COOKIE : COOKIE_W);
    w.u64(c.value);
    if (c.mask !== undefined) w.u64(c.mask);
  },
  read: (r) => {
    let cookieAt = -1;
    for (let at = r.pos; at + 4 <= r.end;) {
      const h = r.dv.getUint32(at);
      if (h === COOKIE || h === COOKIE_W) {
        cookieAt = at;
        break;
      }
      at += 4 + (h & 0xff);
    }
    if (cookieAt < 0) return nxMatch.read(r);
    const h = r.dv.getUint32(cookieAt);
    const n = 4 + (h & 0xff);
    if (cookieAt + n > r.end) throw new OfError('OFPBMC_BAD_LEN', 'NXM_NX_COOKIE');
    const value = r.dv.getBigUint64(cookieAt + 4);
    const cookie = h === COOKIE ? { value } : { value, mask: r.dv.getBigUint64(cookieAt + 12) };
    const rest = new Uint8Array(r.end - r.pos - n);
    rest.set(r.buf.subarray(r.pos, cookieAt), 0);
    rest.set(r.buf.subarray(cookieAt + n, r.end), cookieAt - r.pos);
    const m = nxMatch.read(Reader.of(rest, 'OFPBMC_BAD_LEN')) as CookieMatch;
    if (nxmCookie(m) !== undefined) throw new OfError('OFPBMC_DUP_FIELD', 'NXM_NX_COOKIE');
    m[NXM_COOKIE] = cookie;
    r.pos = r.end;
    return m;
  },
};
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
    _match_len: matchLen(), _pad: pad(6), match: nxCookieMatch, actions: actionList(version),
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

/** The struct of a Nicira (or ONF) message: vendor id and subtype as constants, then the fields. */
export function nxMessage(subtype: number, fields: Record<string, Codec<unknown>>, what: string, vendor = NX_VENDOR_ID): Codec<unknown> {
  return struct({ _nx_vendor: constant(4, vendor), _nx_subtype: constant(4, subtype), ...fields }, { what });
}

// ---------------------------------------------------------------- NXST_FLOW / NXST_AGGREGATE (OF1.0 vendor statistics)

export const flowStatsRequestFields = { out_port: u16, _match_len: matchLen(), table_id: u8, _pad: pad(3), match: nxCookieMatch };
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
