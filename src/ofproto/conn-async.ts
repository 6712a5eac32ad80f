// Which asynchronous messages a connection wants (OVS's ofputil_async_cfg):
// for each message type a bitmask of reasons, one set for the master/equal
// role and one for the slave role. Defaults, the OF1.3 and Nicira bitmask
// messages, the OF1.4+ property form, and the reply to GET_ASYNC_REQUEST.

import {
  OfError, type AsyncConfig13, type AsyncConfig14, type AsyncProp, type OfMessage,
} from '../openflow/index.js';

/** Asynchronous message types, in OVS's OAM_* order (which the OF1.4 property types follow). */
export const OAM = { PACKET_IN: 0, PORT_STATUS: 1, FLOW_REMOVED: 2, ROLE_STATUS: 3, TABLE_STATUS: 4, REQUESTFORWARD: 5 } as const;
export type OamType = (typeof OAM)[keyof typeof OAM];
const N_OAM = 6;

/** Packet-in reasons as the switch knows them: the wire's 0-5 plus OVS's two private kinds of miss. */
export const PIN_REASON = {
  NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2, ACTION_SET: 3, GROUP: 4, PACKET_OUT: 5,
  /** Sent by a table-miss flow's controller action. */
  EXPLICIT_MISS: 6,
  /** No flow matched at all (only OpenFlow < 1.3 controllers want these). */
  IMPLICIT_MISS: 7,
} as const;

const OFPR10_BITS = 0x7;
const OFPR14_ACTION_BITS = (1 << PIN_REASON.ACTION_SET) | (1 << PIN_REASON.GROUP) | (1 << PIN_REASON.PACKET_OUT);
const OFPR14_BITS = OFPR10_BITS | OFPR14_ACTION_BITS;
const OFPPR_BITS = 0x7;
/** FLOW_REMOVED reasons: idle, hard, delete (1.0); + group delete (1.3); + meter delete, eviction (1.4). */
const OFPRR10_BITS = 0x7;
const OFPRR13_BITS = 0xf;
const OFPRR14_BITS = 0x3f;

/** Reasons a version may name for each message type: [OF1.0-1.3, OF1.4+]. */
const ALLOWED: ReadonlyArray<readonly [number, number]> = [
  [OFPR10_BITS, OFPR14_BITS],
  [OFPPR_BITS, OFPPR_BITS],
  [0x3f, 0x3f],
  [0x7, 0x7],
  [0x18, 0x18],
  [0x3, 0x3],
];

function allowed(oam: number, version: number): number {
  return ALLOWED[oam]![version >= 5 ? 1 : 0];
}

export interface AsyncConfig {
  /** Per OAM type: reasons wanted as master or equal. */
  readonly master: number[];
  /** Per OAM type: reasons wanted as slave. */
  readonly slave: number[];
}

export function emptyAsyncConfig(): AsyncConfig {
  return { master: new Array<number>(N_OAM).fill(0), slave: new Array<number>(N_OAM).fill(0) };
}

/** What a connection gets before it asks (OVS's ofputil_async_cfg_default). */
export function defaultAsyncConfig(version: number): AsyncConfig {
  const c = emptyAsyncConfig();
  let pin = (OFPR14_BITS & ~(1 << PIN_REASON.INVALID_TTL)) | (1 << PIN_REASON.EXPLICIT_MISS);
  if (version <= 3) pin |= 1 << PIN_REASON.IMPLICIT_MISS;
  c.master[OAM.PACKET_IN] = pin;
  c.master[OAM.PORT_STATUS] = OFPPR_BITS;
  c.slave[OAM.PORT_STATUS] = OFPPR_BITS;
  c.master[OAM.FLOW_REMOVED] = version >= 5 ? OFPRR14_BITS : version === 4 ? OFPRR13_BITS : OFPRR10_BITS;
  return c;
}

/** Stores one decoded mask, with OVS's extension of NO_MATCH to its private miss kinds. */
function putMask(c: AsyncConfig, oam: number, isMaster: boolean, mask: number, version: number): void {
  let m = mask >>> 0;
  if (oam === OAM.PACKET_IN && m & (1 << PIN_REASON.NO_MATCH)) {
    m |= 1 << PIN_REASON.EXPLICIT_MISS;
    if (version < 4) m |= 1 << PIN_REASON.IMPLICIT_MISS;
  }
  (isMaster ? c.master : c.slave)[oam] = m;
}

/**
 * The configuration a SET_ASYNC / NXT_SET_ASYNC_CONFIG message asks for.
 * The bitmask forms replace everything (unknown reason bits are ignored);
 * the OF1.4 property form changes only the properties present, starting
 * from `current`, and rejects reasons the version does not define.
 */
export function decodeSetAsync(msg: OfMessage, current: AsyncConfig): AsyncConfig {
  const v = msg.version;
  if (msg.kind === 'NXT_SET_ASYNC_CONFIG' || (msg.kind === 'SET_ASYNC' && v < 5)) {
    const b = (msg.kind === 'NXT_SET_ASYNC_CONFIG' ? msg.body.config : msg.body) as AsyncConfig13;
    const c = emptyAsyncConfig();
    const pairs: Array<[number, { master: number; slave: number }]> = [
      [OAM.PACKET_IN, b.packet_in_mask], [OAM.PORT_STATUS, b.port_status_mask], [OAM.FLOW_REMOVED, b.flow_removed_mask],
    ];
    for (const [oam, p] of pairs) {
      putMask(c, oam, true, p.master & allowed(oam, v), v);
      putMask(c, oam, false, p.slave & allowed(oam, v), v);
    }
    return c;
  }
  if (msg.kind !== 'SET_ASYNC') throw new RangeError(`decodeSetAsync: ${msg.kind}`);
  const c: AsyncConfig = { master: [...current.master], slave: [...current.slave] };
  for (const p of (msg.body as AsyncConfig14).properties) {
    if ('raw' in p || p.type >= 2 * N_OAM) throw new OfError('OFPACFC_UNSUPPORTED', `async config property type ${p.type}`);
    const oam = p.type >> 1;
    const mask = (p as { mask: number }).mask >>> 0;
    const ok = allowed(oam, v);
    if (mask & ~ok) throw new OfError('OFPACFC_INVALID', `bad value 0x${mask.toString(16)} for property ${p.type} (allowed mask 0x${ok.toString(16)})`);
    putMask(c, oam, (p.type & 1) === 1, mask, v);
  }
  return c;
}

/** Before OF1.4, allowing ACTION means allowing the reasons OF1.4 split out of it. */
export function normalizeAsync(c: AsyncConfig, version: number): AsyncConfig {
  if (version >= 5) return c;
  const out: AsyncConfig = { master: [...c.master], slave: [...c.slave] };
  for (const m of [out.master, out.slave]) {
    if (m[OAM.PACKET_IN]! & (1 << PIN_REASON.ACTION)) m[OAM.PACKET_IN] = m[OAM.PACKET_IN]! | OFPR14_ACTION_BITS;
  }
  return out;
}

/** The body of GET_ASYNC_REPLY in the connection's version. */
export function asyncReplyBody(c: AsyncConfig, version: number): AsyncConfig13 | AsyncConfig14 {
  const mask = (oam: number, isMaster: boolean) => ((isMaster ? c.master : c.slave)[oam]! & allowed(oam, version)) >>> 0;
  if (version < 5) {
    const pair = (oam: number) => ({ master: mask(oam, true), slave: mask(oam, false) });
    return { packet_in_mask: pair(OAM.PACKET_IN), port_status_mask: pair(OAM.PORT_STATUS), flow_removed_mask: pair(OAM.FLOW_REMOVED) };
  }
  const properties: AsyncProp[] = [];
  for (let type = 0; type < 2 * N_OAM; type++) properties.push({ type, mask: mask(type >> 1, (type & 1) === 1) } as AsyncProp);
  return { properties };
}
