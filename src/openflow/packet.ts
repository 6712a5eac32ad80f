// PACKET_IN, PACKET_OUT and FLOW_REMOVED bodies, and OF1.5's OXS statistics
// (ofp_stats), which FLOW_REMOVED and the OF1.5 flow statistics share.

import { OfError } from './errors.js';
import { actionList, type Action, type Action10 } from './actions.js';
import { oxmMatch, type Match } from './match.js';
import { lengthOf, pad, padTo, rest, struct, u16, u32, u64, u8, type Codec, type StructValue } from './wire.js';

// ---------------------------------------------------------------- OXS

export const OFPXSC_OPENFLOW_BASIC = 0x8002;

/** OXS field → (number, bytes). Duration and idle time are seconds << 32 | nanoseconds. */
const OXS_FIELDS = { duration: [0, 8], idle_time: [1, 8], flow_count: [3, 4], packet_count: [4, 8], byte_count: [5, 8] } as const;
export type OxsField = keyof typeof OXS_FIELDS;
/** OF1.5 statistics: present fields in wire order. */
export type OxsStats = Partial<Record<OxsField, bigint>>;
const OXS_BY_NUMBER = new Map<number, readonly [OxsField, number]>(Object.entries(OXS_FIELDS).map(([k, [n, b]]) => [n, [k as OxsField, b] as const]));

/** ofp_stats: reserved u16, length u16 (header and entries), OXS entries, padded to 8. */
export const oxsStats: Codec<OxsStats> = {
  shape: { t: 'named', name: 'oxsStats' },
  size: (v) => padTo(4 + Object.keys(v).reduce((n, k) => n + 4 + OXS_FIELDS[k as OxsField][1], 0), 8),
  write: (w, v) => {
    const n = 4 + Object.keys(v).reduce((m, k) => m + 4 + OXS_FIELDS[k as OxsField][1], 0);
    w.u16(0);
    w.u16(n);
    for (const [k, x] of Object.entries(v) as Array<[OxsField, bigint]>) {
      const [field, bytes] = OXS_FIELDS[k];
      w.u32(((OFPXSC_OPENFLOW_BASIC << 16) | (field << 9) | bytes) >>> 0);
      if (bytes === 8) w.u64(x);
      else w.u32(Number(x));
    }
    w.zeros(padTo(n, 8) - n);
  },
  read: (r) => {
    const h = r.sub(4, 'OFPBRC_BAD_LEN', 'ofp_stats header');
    h.u16();
    const len = h.u16();
    if (len < 4) throw new OfError('OFPBRC_BAD_LEN', `ofp_stats length ${len}`);
    const body = r.sub(len - 4, 'OFPBRC_BAD_LEN', 'ofp_stats');
    const out: OxsStats = {};
    while (body.remaining > 0) {
      const hdr = body.u32();
      const cls = hdr >>> 16;
      const hit = OXS_BY_NUMBER.get((hdr >>> 9) & 0x7f);
      if (cls !== OFPXSC_OPENFLOW_BASIC || !hit || (hdr & 0xff) !== hit[1] || hdr & 0x100) {
        throw new OfError('OFPBRC_BAD_LEN', `unknown OXS header 0x${hdr.toString(16)}`);
      }
      if (hit[0] in out) throw new OfError('OFPBRC_BAD_LEN', `duplicate OXS field ${hit[0]}`);
      out[hit[0]] = hit[1] === 8 ? body.u64() : BigInt(body.u32());
    }
    r.take(padTo(len, 8) - len, 'ofp_stats padding');
    return out;
  },
};

// ---------------------------------------------------------------- PACKET_IN

const packetIn10Fields = { buffer_id: u32, total_len: u16, in_port: u16, reason: u8, _pad: pad(1), data: rest };
function packetIn13Fields(version: number) {
  return {
    buffer_id: u32, total_len: u16, reason: u8, table_id: u8, cookie: u64, match: oxmMatch(version), _pad: pad(2), data: rest,
  };
}
export type PacketIn10 = StructValue<typeof packetIn10Fields>;
export type PacketIn13 = StructValue<ReturnType<typeof packetIn13Fields>> & { match: Match };
/** OFPT_PACKET_IN: OF1.0 (in_port), OF1.3+ (OXM match, cookie, table). */
export type PacketIn = PacketIn10 | PacketIn13;
export const packetIn10 = struct(packetIn10Fields, { what: 'ofp_packet_in' });
export const packetIn13 = (v: number) => struct(packetIn13Fields(v), { what: 'ofp_packet_in' });

// ---------------------------------------------------------------- PACKET_OUT

const packetOut10Fields = {
  buffer_id: u32, in_port: u16, _actions_len: lengthOf('actions'), actions: actionList(1) as Codec<Action10[]>, data: rest,
};
function packetOut11Fields(version: number) {
  return { buffer_id: u32, in_port: u32, _actions_len: lengthOf('actions'), _pad: pad(6), actions: actionList(version), data: rest };
}
function packetOut15Fields(version: number) {
  return { buffer_id: u32, _actions_len: lengthOf('actions'), _pad: pad(2), match: oxmMatch(version), actions: actionList(version), data: rest };
}
export type PacketOut10 = StructValue<typeof packetOut10Fields>;
export type PacketOut11 = StructValue<ReturnType<typeof packetOut11Fields>> & { actions: Action[] };
export type PacketOut15 = StructValue<ReturnType<typeof packetOut15Fields>> & { actions: Action[]; match: Match };
/** OFPT_PACKET_OUT: OF1.0 (16-bit in_port), OF1.1-1.4 (32-bit in_port), OF1.5 (in_port and metadata as a match). */
export type PacketOut = PacketOut10 | PacketOut11 | PacketOut15;
export const packetOut10 = struct(packetOut10Fields, { what: 'ofp_packet_out' });
export const packetOut11 = (v: number) => struct(packetOut11Fields(v), { what: 'ofp_packet_out' });
export const packetOut15 = (v: number) => struct(packetOut15Fields(v), { what: 'ofp_packet_out' });

// ---------------------------------------------------------------- FLOW_REMOVED

const flowRemoved15Fields = {
  table_id: u8, reason: u8, priority: u16, idle_timeout: u16, hard_timeout: u16, cookie: u64, match: oxmMatch(6), stats: oxsStats,
};
export type FlowRemoved15 = StructValue<typeof flowRemoved15Fields>;
export const flowRemoved15 = struct(flowRemoved15Fields, { what: 'ofp_flow_removed' });
