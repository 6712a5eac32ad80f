// PACKET_IN as each connection wants it: OF1.0 (in_port only), OF1.3+
// (cookie, table and the pipeline metadata as an OXM match), Nicira
// NXT_PACKET_IN (NXM metadata) or NXT_PACKET_IN2 (properties, userdata).
// Like OVS, the switch buffers nothing: buffer_id is always NO_BUFFER and
// the whole frame goes out (OVS ignores max_len and miss_send_len for
// unbuffered packets; so does the OpenFlow spec for OFPCML_NO_BUFFER).

import { port10To11, port11To10, type Match, type OfMessage, type PacketIn2Prop } from '../openflow/index.js';
import { PIN_REASON } from './conn-async.js';

export const NO_BUFFER = 0xffffffff;
const COOKIE_NONE = 0xffffffffffffffffn;
/** Room for the largest packet-in header and metadata under the 64 KiB message limit. */
const MAX_DATA = 0xffff - 1024;

export type PacketInFormat = 'standard' | 'nxt_packet_in' | 'nxt_packet_in2';

export interface PacketInData {
  /** PIN_REASON value (the private miss kinds included). */
  reason: number;
  tableId: number;
  cookie: bigint;
  metadata: Match;
  frame: Uint8Array;
  userdata?: Uint8Array;
}

/** The reason number a version puts on the wire (OVS's encode_packet_in_reason). */
export function wireReason(reason: number, version: number): number {
  switch (reason) {
    case PIN_REASON.ACTION_SET:
    case PIN_REASON.GROUP:
    case PIN_REASON.PACKET_OUT:
      return version < 5 ? PIN_REASON.ACTION : reason;
    case PIN_REASON.EXPLICIT_MISS:
      return version < 4 ? PIN_REASON.ACTION : PIN_REASON.NO_MATCH;
    case PIN_REASON.IMPLICIT_MISS:
      return PIN_REASON.NO_MATCH;
    default:
      return reason;
  }
}

/** The metadata with in_port in OF1.1+ numbering, whichever numbering the pipeline used. */
function metadata32(m: Match): Match {
  const p = m.in_port;
  if (!p) return m;
  const v = Number(p.value);
  if (v < 0xff00 || v > 0xffff) return m;
  return { ...m, in_port: { value: BigInt(port10To11(v)) } };
}

export function packetInMessage(version: number, format: PacketInFormat, pin: PacketInData): OfMessage {
  const frame = pin.frame.length > MAX_DATA ? pin.frame.subarray(0, MAX_DATA) : pin.frame;
  const reason = wireReason(pin.reason, version);
  const match = metadata32(pin.metadata);
  const totalLen = Math.min(pin.frame.length, 0xffff);
  if (format === 'nxt_packet_in2') {
    const props: PacketIn2Prop[] = [{ type: 0, data: frame }];
    if (frame.length !== pin.frame.length) props.push({ type: 1, value: pin.frame.length });
    props.push({ type: 3, value: pin.tableId });
    if (pin.cookie !== COOKIE_NONE) props.push({ type: 4, value: pin.cookie });
    props.push({ type: 5, value: reason }, { type: 6, match });
    if (pin.userdata?.length) props.push({ type: 7, data: pin.userdata });
    return { version, xid: 0, kind: 'NXT_PACKET_IN2', body: { properties: props } } as OfMessage;
  }
  if (format === 'nxt_packet_in') {
    return {
      version, xid: 0, kind: 'NXT_PACKET_IN',
      body: { buffer_id: NO_BUFFER, total_len: totalLen, reason, table_id: pin.tableId, cookie: pin.cookie, match, data: frame },
    } as OfMessage;
  }
  if (version === 1) {
    const inPort = port11To10(Number(match.in_port?.value ?? 0xfffffffd)) ?? 0xfffd;
    return {
      version, xid: 0, kind: 'PACKET_IN',
      body: { buffer_id: NO_BUFFER, total_len: totalLen, in_port: inPort, reason, data: frame },
    } as OfMessage;
  }
  return {
    version, xid: 0, kind: 'PACKET_IN',
    body: { buffer_id: NO_BUFFER, total_len: totalLen, reason, table_id: pin.tableId, cookie: pin.cookie, match, data: frame },
  } as OfMessage;
}

/** The frame OVS's fail-open sends controllers every 2 s to show it is alive: a RARP from a random Nicira MAC. */
export function bogusRarp(): Uint8Array {
  const mac = [0x00, 0x23, 0x20, (Math.random() * 256) & 0x7f, (Math.random() * 256) | 0, (Math.random() * 256) | 0];
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(mac, 6);
  f.set([0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03], 12);
  f.set(mac, 22);
  f.set(mac, 32);
  return f;
}
