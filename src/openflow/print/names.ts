// The name ovs-ofctl gives a message ("OFPT_FEATURES_REPLY", "OFPST_PORT reply",
// "NXT_FLOW_MOD"), found from the raw header bytes alone so that a message we
// cannot decode still gets its name, as OVS's ofpraw lookup does.

import { NX_VENDOR_ID, ONF_VENDOR_ID, type OfErrorName } from '../index.js';

const OF10_TYPES: Record<number, string> = {
  0: 'HELLO', 1: 'ERROR', 2: 'ECHO_REQUEST', 3: 'ECHO_REPLY', 5: 'FEATURES_REQUEST', 6: 'FEATURES_REPLY',
  7: 'GET_CONFIG_REQUEST', 8: 'GET_CONFIG_REPLY', 9: 'SET_CONFIG', 10: 'PACKET_IN', 11: 'FLOW_REMOVED', 12: 'PORT_STATUS',
  13: 'PACKET_OUT', 14: 'FLOW_MOD', 15: 'PORT_MOD', 18: 'BARRIER_REQUEST', 19: 'BARRIER_REPLY',
  20: 'QUEUE_GET_CONFIG_REQUEST', 21: 'QUEUE_GET_CONFIG_REPLY',
};

/** OF1.1+ type numbers: [name, first version, last version]. */
const OF11_TYPES: Record<number, [string, number, number]> = {
  0: ['HELLO', 2, 6], 1: ['ERROR', 2, 6], 2: ['ECHO_REQUEST', 2, 6], 3: ['ECHO_REPLY', 2, 6], 5: ['FEATURES_REQUEST', 2, 6],
  6: ['FEATURES_REPLY', 2, 6], 7: ['GET_CONFIG_REQUEST', 2, 6], 8: ['GET_CONFIG_REPLY', 2, 6], 9: ['SET_CONFIG', 2, 6],
  10: ['PACKET_IN', 2, 6], 11: ['FLOW_REMOVED', 2, 6], 12: ['PORT_STATUS', 2, 6], 13: ['PACKET_OUT', 2, 6], 14: ['FLOW_MOD', 2, 6],
  15: ['GROUP_MOD', 2, 6], 16: ['PORT_MOD', 2, 6], 17: ['TABLE_MOD', 2, 6], 20: ['BARRIER_REQUEST', 2, 6], 21: ['BARRIER_REPLY', 2, 6],
  22: ['QUEUE_GET_CONFIG_REQUEST', 2, 4], 23: ['QUEUE_GET_CONFIG_REPLY', 2, 4], 24: ['ROLE_REQUEST', 3, 6], 25: ['ROLE_REPLY', 3, 6],
  26: ['GET_ASYNC_REQUEST', 4, 6], 27: ['GET_ASYNC_REPLY', 4, 6], 28: ['SET_ASYNC', 4, 6], 29: ['METER_MOD', 4, 6],
  30: ['ROLE_STATUS', 5, 6], 31: ['TABLE_STATUS', 5, 6], 32: ['REQUESTFORWARD', 5, 6], 33: ['BUNDLE_CONTROL', 5, 6],
  34: ['BUNDLE_ADD_MESSAGE', 5, 6],
};

/** Statistics types: [name, first version, last version] (OF1.0 is version 1). */
const STAT_TYPES: Record<number, [string, number, number]> = {
  0: ['DESC', 1, 6], 1: ['FLOW', 1, 6], 2: ['AGGREGATE', 1, 6], 3: ['TABLE', 1, 6], 4: ['PORT', 1, 6], 5: ['QUEUE', 1, 6],
  6: ['GROUP', 2, 6], 7: ['GROUP_DESC', 2, 6], 8: ['GROUP_FEATURES', 3, 6], 9: ['METER', 4, 6], 10: ['METER_CONFIG', 4, 6],
  11: ['METER_FEATURES', 4, 6], 12: ['TABLE_FEATURES', 4, 6], 13: ['PORT_DESC', 1, 6], 14: ['TABLE_DESC', 5, 6],
  15: ['QUEUE_DESC', 5, 6], 16: ['FLOW_MONITOR', 5, 6],
};

/** Nicira message subtypes: [name, first version, last version]. */
const NXT_TYPES: Record<number, [string, number, number]> = {
  10: ['ROLE_REQUEST', 1, 6], 11: ['ROLE_REPLY', 1, 6], 12: ['SET_FLOW_FORMAT', 1, 1], 13: ['FLOW_MOD', 1, 6],
  14: ['FLOW_REMOVED', 1, 6], 15: ['FLOW_MOD_TABLE_ID', 1, 6], 16: ['SET_PACKET_IN_FORMAT', 1, 6], 17: ['PACKET_IN', 1, 6],
  18: ['FLOW_AGE', 1, 6], 19: ['SET_ASYNC_CONFIG', 1, 6], 20: ['SET_CONTROLLER_ID', 1, 6], 21: ['FLOW_MONITOR_CANCEL', 1, 3],
  22: ['FLOW_MONITOR_PAUSED', 1, 3], 23: ['FLOW_MONITOR_RESUMED', 1, 3], 24: ['TLV_TABLE_MOD', 1, 6], 25: ['TLV_TABLE_REQUEST', 1, 6],
  26: ['TLV_TABLE_REPLY', 1, 6], 27: ['SET_ASYNC_CONFIG2', 1, 4], 28: ['RESUME', 1, 6], 29: ['CT_FLUSH_ZONE', 1, 6],
  30: ['PACKET_IN2', 1, 6], 31: ['GROUP_MOD', 1, 1], 32: ['CT_FLUSH', 1, 6], 132: ['REQUESTFORWARD', 1, 3],
};
const NXST_TYPES: Record<number, [string, number, number]> = {
  0: ['FLOW', 1, 1], 1: ['AGGREGATE', 1, 1], 2: ['FLOW_MONITOR', 1, 3], 3: ['IPFIX_BRIDGE', 1, 6], 4: ['IPFIX_FLOW', 1, 6],
  7: ['GROUP', 1, 1], 8: ['GROUP_DESC', 1, 1], 9: ['GROUP_FEATURES', 1, 2],
};
const ONFT_TYPES: Record<number, string> = {
  1911: 'ROLE_STATUS', 2350: 'REQUESTFORWARD', 2300: 'BUNDLE_CONTROL', 2301: 'BUNDLE_ADD_MESSAGE',
  1870: 'FLOW_MONITOR_CANCEL', 1871: 'FLOW_MONITOR_PAUSED', 1872: 'FLOW_MONITOR_RESUMED',
};

export type RawName = { name: string } | { error: OfErrorName };

function inRange(t: [string, number, number] | undefined, v: number): string | undefined {
  return t && v >= t[1] && v <= t[2] ? t[0] : undefined;
}

/** The message's name, or the error OVS reports when it does not know the message. */
export function rawName(buf: Uint8Array): RawName {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = buf[0];
  const type = buf[1];
  // A HELLO of any version is understood, so that negotiation can fail politely.
  if (type === 0 && version !== 0) return { name: 'OFPT_HELLO' };
  if (version < 1 || version > 6) return { error: 'OFPBRC_BAD_VERSION' };
  const isStats = version === 1 ? type === 16 || type === 17 : type === 18 || type === 19;
  if (isStats) {
    const dir = (version === 1 ? type === 16 : type === 18) ? 'request' : 'reply';
    const hlen = version === 1 ? 12 : 16;
    if (buf.length < hlen) return { error: 'OFPBRC_BAD_LEN' };
    const st = dv.getUint16(8);
    if (st !== 0xffff) {
      const n = inRange(STAT_TYPES[st], version);
      return n ? { name: `OFPST_${n} ${dir}` } : { error: 'OFPBRC_BAD_STAT' };
    }
    if (buf.length < hlen + 8) return { error: 'OFPBRC_BAD_LEN' };
    const vendor = dv.getUint32(hlen);
    const sub = dv.getUint32(hlen + 4);
    if (vendor === NX_VENDOR_ID) {
      const n = inRange(NXST_TYPES[sub], version);
      return n ? { name: `NXST_${n} ${dir}` } : { error: 'OFPBRC_BAD_SUBTYPE' };
    }
    if (vendor === ONF_VENDOR_ID && version === 4 && sub === 1870) return { name: `ONFST_FLOW_MONITOR ${dir}` };
    return { error: vendor === ONF_VENDOR_ID ? 'OFPBRC_BAD_SUBTYPE' : 'OFPBRC_BAD_VENDOR' };
  }
  if (type === 4) {
    if (buf.length < 16) return { error: 'OFPBRC_BAD_LEN' };
    const vendor = dv.getUint32(8);
    const sub = dv.getUint32(12);
    if (vendor === NX_VENDOR_ID) {
      const n = inRange(NXT_TYPES[sub], version);
      return n ? { name: `NXT_${n}` } : { error: 'OFPBRC_BAD_SUBTYPE' };
    }
    if (vendor === ONF_VENDOR_ID) {
      const n = version === 4 ? ONFT_TYPES[sub] : undefined;
      return n ? { name: `ONFT_${n}` } : { error: 'OFPBRC_BAD_SUBTYPE' };
    }
    return { error: 'OFPBRC_BAD_VENDOR' };
  }
  const n = version === 1 ? OF10_TYPES[type] : inRange(OF11_TYPES[type], version);
  return n ? { name: `OFPT_${n}` } : { error: 'OFPBRC_BAD_TYPE' };
}

/** " (OF1.3) (xid=0x2):" — the version tag (none for OF1.0) and the xid. */
export function versionTag(version: number, xid: number): string {
  const v = version === 1 ? '' : version >= 2 && version <= 6 ? ` (OF1.${version - 1})` : ` (OF 0x${version.toString(16).padStart(2, '0')})`;
  return `${v} (xid=0x${(xid >>> 0).toString(16)}):`;
}
