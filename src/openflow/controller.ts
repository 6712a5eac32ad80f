// Controller-facing messages: QUEUE_GET_CONFIG (OF1.0-1.3), ROLE request,
// reply and status, GET/SET_ASYNC (OF1.3 bitmasks, OF1.4+ properties),
// TABLE_STATUS and BUNDLE_CONTROL. BUNDLE_ADD_MESSAGE and REQUESTFORWARD
// carry whole messages and live next to the message table (messages.ts).

import { tableDesc } from './mods.js';
import { length16, list, pad, propList, struct, u16, u32, u64, u8, type Prop, type RawProp, type StructValue } from './wire.js';

// ---------------------------------------------------------------- queues

const queueRate = { _pad: pad(4), rate: u16, _pad2: pad(6) };
export type QueueProp = Prop<1, typeof queueRate> | Prop<2, typeof queueRate> | RawProp;
/** ofp_queue_prop_header: property u16, len u16, pad 4, then the body (min_rate 1, max_rate 2 — OF1.0 knows only min_rate). */
export const queueProps = propList<QueueProp>([[1, queueRate], [2, queueRate]], 'queue property', 'OFPBRC_BAD_LEN');

const packetQueue10Fields = { queue_id: u32, len: length16, _pad: pad(2), properties: queueProps };
const packetQueue11Fields = { queue_id: u32, port: u32, len: length16, _pad: pad(6), properties: queueProps };
export type PacketQueue10 = StructValue<typeof packetQueue10Fields>;
export type PacketQueue11 = StructValue<typeof packetQueue11Fields>;

const queueGetConfigRequest10Fields = { port: u16, _pad: pad(2) };
const queueGetConfigRequest11Fields = { port: u32, _pad: pad(4) };
const queueGetConfigReply10Fields = { port: u16, _pad: pad(6), queues: list(struct(packetQueue10Fields, { what: 'ofp_packet_queue' }), 'queues') };
const queueGetConfigReply11Fields = { port: u32, _pad: pad(4), queues: list(struct(packetQueue11Fields, { what: 'ofp_packet_queue' }), 'queues') };
export type QueueGetConfigRequest = StructValue<typeof queueGetConfigRequest10Fields> | StructValue<typeof queueGetConfigRequest11Fields>;
export type QueueGetConfigReply = StructValue<typeof queueGetConfigReply10Fields> | StructValue<typeof queueGetConfigReply11Fields>;
export const queueGetConfigRequest10 = struct(queueGetConfigRequest10Fields, { what: 'ofp_queue_get_config_request' });
export const queueGetConfigRequest11 = struct(queueGetConfigRequest11Fields, { what: 'ofp_queue_get_config_request' });
export const queueGetConfigReply10 = struct(queueGetConfigReply10Fields, { what: 'ofp_queue_get_config_reply' });
export const queueGetConfigReply11 = struct(queueGetConfigReply11Fields, { what: 'ofp_queue_get_config_reply' });

// ---------------------------------------------------------------- roles

export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;
const roleFields = { role: u32, _pad: pad(4), generation_id: u64 };
export type RoleRequest = StructValue<typeof roleFields>;
export const role = struct(roleFields, { what: 'ofp_role_request' });

const experimenterOnlyProps = propList<RawProp & { type: number }>([], 'property');
const roleStatusFields = { role: u32, reason: u8, _pad: pad(3), generation_id: u64, properties: experimenterOnlyProps };
export type RoleStatus = StructValue<typeof roleStatusFields>;
export const roleStatus = struct(roleStatusFields, { what: 'ofp_role_status' });

// ---------------------------------------------------------------- async configuration

/** A [master/equal, slave] bitmask pair of OF1.3 ofp_async_config (bit n = reason n). */
const maskPair = struct({ master: u32, slave: u32 });
const async13Fields = { packet_in_mask: maskPair, port_status_mask: maskPair, flow_removed_mask: maskPair };
export type AsyncConfig13 = StructValue<typeof async13Fields>;
export const async13 = struct(async13Fields, { what: 'ofp_async_config' });

/** OF1.4+ async property types: 0-11 are (slave, master) pairs of packet_in, port_status, flow_removed, role_status, table_status, requestforward. */
export const OFPACPT = {
  PACKET_IN_SLAVE: 0, PACKET_IN_MASTER: 1, PORT_STATUS_SLAVE: 2, PORT_STATUS_MASTER: 3, FLOW_REMOVED_SLAVE: 4, FLOW_REMOVED_MASTER: 5,
  ROLE_STATUS_SLAVE: 6, ROLE_STATUS_MASTER: 7, TABLE_STATUS_SLAVE: 8, TABLE_STATUS_MASTER: 9, REQUESTFORWARD_SLAVE: 10, REQUESTFORWARD_MASTER: 11,
} as const;
const asyncMask = { mask: u32 };
export type AsyncProp = Prop<number, typeof asyncMask> | RawProp;
export const asyncProps = propList<AsyncProp>(Array.from({ length: 12 }, (_, i) => [i, asyncMask] as const), 'async config property');
const async14Fields = { properties: asyncProps };
export type AsyncConfig14 = StructValue<typeof async14Fields>;
export const async14 = struct(async14Fields, { what: 'ofp_async_config' });

// ---------------------------------------------------------------- TABLE_STATUS

const tableStatusFields = { reason: u8, _pad: pad(7), table: tableDesc };
export type TableStatus = StructValue<typeof tableStatusFields>;
export const tableStatus = struct(tableStatusFields, { what: 'ofp_table_status' });

// ---------------------------------------------------------------- bundles

export const OFPBCT = { OPEN_REQUEST: 0, OPEN_REPLY: 1, CLOSE_REQUEST: 2, CLOSE_REPLY: 3, COMMIT_REQUEST: 4, COMMIT_REPLY: 5, DISCARD_REQUEST: 6, DISCARD_REPLY: 7 } as const;
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;
const bundleControlFields = { bundle_id: u32, type: u16, flags: u16, properties: experimenterOnlyProps };
export type BundleControl = StructValue<typeof bundleControlFields>;
export const bundleControl = struct(bundleControlFields, { what: 'ofp_bundle_ctrl_msg' });
export { experimenterOnlyProps };
