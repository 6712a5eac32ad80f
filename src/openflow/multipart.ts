// MULTIPART (OF1.3+) / STATS (OF1.0) requests and replies: a small header
// (type, flags) and a body chosen by type, one table row per statistics kind.
// Replies too large for one message are split with the MORE flag and put back
// together by MultipartAssembler.

import { NX_VENDOR_ID, ONF_VENDOR_ID, OfError } from './errors.js';
import { actionList, instructionList, type Action, type Instruction } from './actions.js';
import { of10Match, oxmMatch, type Match } from './match.js';
import { groupDesc11, groupDesc15, meterConfig, tableDesc, type GroupDesc, type GroupDesc15, type MeterConfig, type TableDesc } from './mods.js';
import { ONF_FLOW_MONITOR, ipfixStats, nxFlowMonitor, nxGroupDesc, type IpfixStats, type NxFlowMonitorRequest, type NxFlowUpdate } from './nicira2.js';
import { aggregateReply, aggregateReplyFields, flowStatsRequestFields as nxFlowStatsRequestFields, nxFlowStats, type AggregateReply, type NxFlowStats, type NxFlowStatsRequest } from './nicira.js';
import { oxsStats, type OxsStats } from './packet.js';
import { portCodec, type Port } from './port.js';
import {
  constant, length16, list, pad, propList, rest, str, struct, u16, u32, u64, u8,
  type Codec, type Prop, type RawProp, type Reader, type Shape, type StructValue, type Writer,
} from './wire.js';

export const OFPMPF_REQ_MORE = 1;
export const OFPMPF_REPLY_MORE = 1;

const descFields = {
  mfr_desc: str(256),
  hw_desc: str(256),
  sw_desc: str(256),
  serial_num: str(32),
  dp_desc: str(256),
};
export type Desc = StructValue<typeof descFields>;
const desc = struct(descFields, { what: 'ofp_desc' });

export interface PortDescRequest {
  /** OF1.5 only: the port asked about (OFPP_ANY for all). */
  port_no?: number;
}
const empty = struct({});

/** A reply made of a list of entries, which is what MORE splitting and reassembly work on. */
export interface Entries<T> {
  entries: T[];
}

function entries<T>(item: Codec<T>, what: string): Codec<Entries<T>> {
  return struct({ entries: list(item, what) });
}

// ---------------------------------------------------------------- flow and aggregate

const flowRequest10Fields = { match: of10Match, table_id: u8, _pad: pad(1), out_port: u16 };
function flowRequest11Fields(version: number) {
  return {
    table_id: u8, _pad: pad(3), out_port: u32, out_group: u32, _pad2: pad(4), cookie: u64, cookie_mask: u64, match: oxmMatch(version),
  };
}
export type FlowStatsRequest10 = StructValue<typeof flowRequest10Fields>;
export type FlowStatsRequest11 = StructValue<ReturnType<typeof flowRequest11Fields>>;
export type FlowStatsRequest = FlowStatsRequest10 | FlowStatsRequest11;

const flowStats10Fields = {
  length: length16, table_id: u8, _pad: pad(1), match: of10Match, duration_sec: u32, duration_nsec: u32, priority: u16,
  idle_timeout: u16, hard_timeout: u16, _pad2: pad(6), cookie: u64, packet_count: u64, byte_count: u64, actions: actionList(1),
};
function flowStats13Fields(version: number) {
  return {
    length: length16, table_id: u8, _pad: pad(1), duration_sec: u32, duration_nsec: u32, priority: u16, idle_timeout: u16,
    hard_timeout: u16, flags: u16, _pad2: pad(4), cookie: u64, packet_count: u64, byte_count: u64,
    match: oxmMatch(version), instructions: instructionList(version),
  };
}
function flowStats14Fields(version: number) {
  const { _pad2, cookie, ...head } = flowStats13Fields(version);
  const { packet_count, byte_count, match, instructions, ...first } = head;
  return { ...first, importance: u16, _pad2: pad(2), cookie, packet_count, byte_count, match, instructions };
}
const flowDesc15Fields = {
  length: length16, _pad: pad(2), table_id: u8, _pad2: pad(1), priority: u16, idle_timeout: u16, hard_timeout: u16, flags: u16,
  importance: u16, cookie: u64, match: oxmMatch(6), stats: oxsStats, instructions: instructionList(6),
};
export type FlowStats10 = StructValue<typeof flowStats10Fields> & { actions: Action[] };
export type FlowStats13 = StructValue<ReturnType<typeof flowStats13Fields>> & { match: Match; instructions: Instruction[] };
export type FlowStats14 = StructValue<ReturnType<typeof flowStats14Fields>> & { match: Match; instructions: Instruction[] };
/** OF1.5 OFPMP_FLOW_DESC entry (counters as OXS statistics). */
export type FlowDesc15 = StructValue<typeof flowDesc15Fields>;
export type FlowStats = FlowStats10 | FlowStats13 | FlowStats14 | FlowDesc15;

export type AggregateStatsReply = AggregateReply | { stats: OxsStats };

// ---------------------------------------------------------------- tables

const tableStats10Fields = {
  table_id: u8, _pad: pad(3), name: str(32), wildcards: u32, max_entries: u32, active_count: u32, lookup_count: u64, matched_count: u64,
};
const tableStats13Fields = { table_id: u8, _pad: pad(3), active_count: u32, lookup_count: u64, matched_count: u64 };
export type TableStats = StructValue<typeof tableStats10Fields> | StructValue<typeof tableStats13Fields>;

/** An instruction or action id in a table-features property: type, length, and any experimenter bytes. */
const featureId = struct({ type: u16, _len: length16, data: rest }, { what: 'table feature id', lenError: 'OFPBPC_BAD_LEN' });
const idsProp = { ids: list(featureId, 'ids') };
const tablesProp = { table_ids: list(u8, 'table ids') };
const oxmIdsProp = { oxm_ids: list(u32, 'oxm ids') };
export const OFPTFPT = {
  INSTRUCTIONS: 0, INSTRUCTIONS_MISS: 1, NEXT_TABLES: 2, NEXT_TABLES_MISS: 3, WRITE_ACTIONS: 4, WRITE_ACTIONS_MISS: 5,
  APPLY_ACTIONS: 6, APPLY_ACTIONS_MISS: 7, MATCH: 8, WILDCARDS: 10, WRITE_SETFIELD: 12, WRITE_SETFIELD_MISS: 13,
  APPLY_SETFIELD: 14, APPLY_SETFIELD_MISS: 15, TABLE_SYNC_FROM: 16, EXPERIMENTER: 0xfffe, EXPERIMENTER_MISS: 0xffff,
} as const;
export type TableFeatureProp =
  | Prop<0 | 1 | 4 | 5 | 6 | 7, typeof idsProp>
  | Prop<2 | 3 | 16, typeof tablesProp>
  | Prop<8 | 10 | 12 | 13 | 14 | 15, typeof oxmIdsProp>
  | RawProp;
const tableFeatureProps = propList<TableFeatureProp>([
  ...[0, 1, 4, 5, 6, 7].map((t) => [t, idsProp] as const),
  ...[2, 3, 16].map((t) => [t, tablesProp] as const),
  ...[8, 10, 12, 13, 14, 15].map((t) => [t, oxmIdsProp] as const),
], 'table feature property', 'OFPBPC_BAD_LEN');
const tableFeaturesFields = {
  length: length16, table_id: u8, command: u8, _pad: pad(4), name: str(32), metadata_match: u64, metadata_write: u64,
  capabilities: u32, max_entries: u32, properties: tableFeatureProps,
};
export type TableFeatures = StructValue<typeof tableFeaturesFields>;
const tableFeatures = struct(tableFeaturesFields, { what: 'ofp_table_features', lenError: 'OFPBPC_BAD_LEN' });

// ---------------------------------------------------------------- ports and queues

const portStatsRequest10Fields = { port_no: u16, _pad: pad(6) };
const portStatsRequest11Fields = { port_no: u32, _pad: pad(4) };
const counters = {
  rx_packets: u64, tx_packets: u64, rx_bytes: u64, tx_bytes: u64, rx_dropped: u64, tx_dropped: u64, rx_errors: u64, tx_errors: u64,
};
const etherCounters = { rx_frame_err: u64, rx_over_err: u64, rx_crc_err: u64, collisions: u64 };
const portStats10Fields = { port_no: u16, _pad: pad(6), ...counters, ...etherCounters };
const portStats13Fields = { port_no: u32, _pad: pad(4), ...counters, ...etherCounters, duration_sec: u32, duration_nsec: u32 };
const portStatsEthernet = { _pad: pad(4), ...etherCounters };
const portStatsOptical = {
  _pad: pad(4), flags: u32, tx_freq_lmda: u32, tx_offset: u32, tx_grid_span: u32, rx_freq_lmda: u32, rx_offset: u32, rx_grid_span: u32,
  tx_pwr: u16, rx_pwr: u16, bias_current: u16, temperature: u16,
};
export type PortStatsProp = Prop<0, typeof portStatsEthernet> | Prop<1, typeof portStatsOptical> | RawProp;
const portStats14Fields = {
  length: length16, _pad: pad(2), port_no: u32, duration_sec: u32, duration_nsec: u32, ...counters,
  properties: propList<PortStatsProp>([[0, portStatsEthernet], [1, portStatsOptical]], 'port stats property'),
};
export type PortStatsRequest = StructValue<typeof portStatsRequest10Fields> | StructValue<typeof portStatsRequest11Fields>;
export type PortStats = StructValue<typeof portStats10Fields> | StructValue<typeof portStats13Fields> | StructValue<typeof portStats14Fields>;

const queueRequest10Fields = { port_no: u16, _pad: pad(2), queue_id: u32 };
const queueRequest11Fields = { port_no: u32, queue_id: u32 };
const queueCounters = { tx_bytes: u64, tx_packets: u64, tx_errors: u64 };
const queueStats10Fields = { port_no: u16, _pad: pad(2), queue_id: u32, ...queueCounters };
const queueStats13Fields = { port_no: u32, queue_id: u32, ...queueCounters, duration_sec: u32, duration_nsec: u32 };
const experimenterProps = propList<RawProp & { type: number }>([], 'property');
const queueStats14Fields = {
  length: length16, _pad: pad(6), port_no: u32, queue_id: u32, ...queueCounters, duration_sec: u32, duration_nsec: u32,
  properties: experimenterProps,
};
export type QueueStatsRequest = StructValue<typeof queueRequest10Fields> | StructValue<typeof queueRequest11Fields>;
export type QueueStats = StructValue<typeof queueStats10Fields> | StructValue<typeof queueStats13Fields> | StructValue<typeof queueStats14Fields>;

const queueDescRate = { rate: u16, _pad: pad(2) };
export type QueueDescProp = Prop<1 | 2, typeof queueDescRate> | RawProp;
const queueDescFields = {
  port_no: u32, queue_id: u32, len: length16, _pad: pad(6),
  properties: propList<QueueDescProp>([[1, queueDescRate], [2, queueDescRate]], 'queue desc property'),
};
export type QueueDesc = StructValue<typeof queueDescFields>;

// ---------------------------------------------------------------- groups and meters

const idRequestFields = { id: u32, _pad: pad(4) };
export type IdRequest = StructValue<typeof idRequestFields>;
const idRequest = struct(idRequestFields);
const bucketCounter = struct({ packet_count: u64, byte_count: u64 });
const groupStatsFields = {
  length: length16, _pad: pad(2), group_id: u32, ref_count: u32, _pad2: pad(4), packet_count: u64, byte_count: u64,
  duration_sec: u32, duration_nsec: u32, bucket_stats: list(bucketCounter, 'bucket stats'),
};
export type GroupStats = StructValue<typeof groupStatsFields>;
const fourU32 = struct({ all: u32, select: u32, indirect: u32, ff: u32 });
const groupFeaturesFields = { types: u32, capabilities: u32, max_groups: fourU32, actions: fourU32 };
export type GroupFeatures = StructValue<typeof groupFeaturesFields>;

const bandCounter = struct({ packet_band_count: u64, byte_band_count: u64 });
const meterStatsFields = {
  meter_id: u32, len: length16, _pad: pad(6), flow_count: u32, packet_in_count: u64, byte_in_count: u64,
  duration_sec: u32, duration_nsec: u32, band_stats: list(bandCounter, 'band stats'),
};
export type MeterStats = StructValue<typeof meterStatsFields>;
const meterFeaturesFields = { max_meter: u32, band_types: u32, capabilities: u32, max_bands: u8, max_color: u8, _pad: pad(2) };
export type MeterFeatures = StructValue<typeof meterFeaturesFields>;

// ---------------------------------------------------------------- flow monitor (OF1.4+)

function flowMonitorRequestFields(version: number) {
  return { monitor_id: u32, out_port: u32, out_group: u32, flags: u16, table_id: u8, command: u8, match: oxmMatch(version) };
}
export type FlowMonitorRequest = StructValue<ReturnType<typeof flowMonitorRequestFields>>;

export const OFPFME = { INITIAL: 0, ADDED: 1, REMOVED: 2, MODIFIED: 3, ABBREV: 4, PAUSED: 5, RESUMED: 6 } as const;
function flowUpdateFullFields(version: number) {
  return {
    table_id: u8, reason: u8, idle_timeout: u16, hard_timeout: u16, priority: u16, _zeros: pad(4), cookie: u64,
    match: oxmMatch(version), instructions: instructionList(version),
  };
}
const flowUpdateAbbrevFields = { xid: u32 };
const flowUpdatePausedFields = { _zeros: pad(4) };
export type FlowUpdate =
  | ({ event: 0 | 1 | 2 | 3 } & StructValue<ReturnType<typeof flowUpdateFullFields>>)
  | ({ event: 4 } & StructValue<typeof flowUpdateAbbrevFields>)
  | ({ event: 5 | 6 } & Record<string, never>);

/** ofp_flow_update_header (length, event) and the event's body. */
function flowUpdate(version: number): Codec<FlowUpdate> {
  const bodies = new Map<number, Codec<Record<string, unknown>>>();
  const full = struct(flowUpdateFullFields(version)) as unknown as Codec<Record<string, unknown>>;
  for (const e of [0, 1, 2, 3]) bodies.set(e, full);
  bodies.set(4, struct(flowUpdateAbbrevFields) as unknown as Codec<Record<string, unknown>>);
  bodies.set(5, struct(flowUpdatePausedFields) as unknown as Codec<Record<string, unknown>>);
  bodies.set(6, struct(flowUpdatePausedFields) as unknown as Codec<Record<string, unknown>>);
  const bodyOf = (e: number) => {
    const b = bodies.get(e);
    if (!b) throw new RangeError(`flow update event ${e}`);
    return b;
  };
  return {
    shape: { t: 'union', options: [...bodies].map(([event, c]) => ({ tag: { event }, shape: c.shape as Shape })) },
    size: (v) => 4 + bodyOf(v.event).size(v as unknown as Record<string, unknown>),
    write: (w, v) => {
      const n = 4 + bodyOf(v.event).size(v as unknown as Record<string, unknown>);
      w.u16(n);
      w.u16(v.event);
      bodyOf(v.event).write(w, v as unknown as Record<string, unknown>);
    },
    read: (r) => {
      const start = r.pos;
      const len = r.u16();
      const event = r.u16();
      if (len < 4 || start + len > r.end) throw new OfError('OFPBRC_BAD_LEN', `flow update length ${len}`);
      const body = bodies.get(event);
      if (!body) throw new OfError('OFPMOFC_BAD_FLAGS', `flow update event ${event}`);
      const sub = r.sub(len - 4, 'OFPBRC_BAD_LEN', 'flow update');
      const v = body.read(sub);
      sub.expectEnd('flow update');
      return { event, ...v } as FlowUpdate;
    },
  };
}

// ---------------------------------------------------------------- experimenter statistics

const experimenter10Fields = { experimenter: u32, data: rest };
const experimenter11Fields = { experimenter: u32, exp_type: u32, data: rest };
export type ExperimenterStats = StructValue<typeof experimenter10Fields> | StructValue<typeof experimenter11Fields>;

/**
 * Vendor statistics: vendor, subtype, then the body. OF1.0's Nicira header has
 * 4 bytes of padding after the subtype; the OF1.3 ONF experimenter header has none.
 */
function nxStat<F extends Record<string, Codec<unknown>>>(subtype: number, fields: F, vendor = NX_VENDOR_ID): Codec<StructValue<F>> {
  const head = { _nx_vendor: constant(4, vendor), _nx_subtype: constant(4, subtype) };
  const all = vendor === NX_VENDOR_ID ? { ...head, _nx_pad: pad(4), ...fields } : { ...head, ...fields };
  return struct(all) as unknown as Codec<StructValue<F>>;
}

function vendorListRow(stat: MultipartKind, subtype: number, request: Codec<unknown>, item: Codec<unknown>, what: string, vendor = NX_VENDOR_ID): StatRow {
  return {
    stat, type: 0xffff, nx: subtype, vendor, entry: { reply: item },
    request: nxStat(subtype, { body: request }, vendor) as unknown as Codec<unknown>,
    reply: nxStat(subtype, { entries: list(item, what) }, vendor),
  };
}

// ---------------------------------------------------------------- the table

/** Statistics kind → request body and reply body. Names are the OF1.3 OFPMP_* names (NX_* for Nicira's). */
export interface MultipartBodies {
  DESC: { request: Record<string, never>; reply: Desc };
  FLOW: { request: FlowStatsRequest; reply: Entries<FlowStats> };
  AGGREGATE: { request: FlowStatsRequest; reply: AggregateStatsReply };
  TABLE: { request: Record<string, never>; reply: Entries<TableStats> };
  PORT_STATS: { request: PortStatsRequest; reply: Entries<PortStats> };
  QUEUE_STATS: { request: QueueStatsRequest; reply: Entries<QueueStats> };
  GROUP: { request: IdRequest; reply: Entries<GroupStats> };
  GROUP_DESC: { request: Record<string, never> | IdRequest; reply: Entries<GroupDesc> };
  GROUP_FEATURES: { request: Record<string, never>; reply: GroupFeatures };
  METER: { request: IdRequest; reply: Entries<MeterStats> };
  METER_CONFIG: { request: IdRequest; reply: Entries<MeterConfig> };
  METER_FEATURES: { request: Record<string, never>; reply: MeterFeatures };
  TABLE_FEATURES: { request: Entries<TableFeatures>; reply: Entries<TableFeatures> };
  PORT_DESC: { request: PortDescRequest; reply: Entries<Port> };
  TABLE_DESC: { request: Record<string, never>; reply: Entries<TableDesc> };
  QUEUE_DESC: { request: { port_no: number; queue_id: number }; reply: Entries<QueueDesc> };
  FLOW_MONITOR: { request: FlowMonitorRequest; reply: Entries<FlowUpdate> };
  EXPERIMENTER: { request: ExperimenterStats; reply: ExperimenterStats };
  NX_FLOW: { request: NxFlowStatsRequest; reply: Entries<NxFlowStats> };
  NX_AGGREGATE: { request: NxFlowStatsRequest; reply: AggregateReply };
  /** NXST_FLOW_MONITOR (OF1.0) and ONFST_FLOW_MONITOR (OF1.3): one request (OVS sends one), update entries. */
  NX_FLOW_MONITOR: { request: { body: NxFlowMonitorRequest }; reply: Entries<NxFlowUpdate> };
  NX_IPFIX_BRIDGE: { request: Record<string, never>; reply: Entries<IpfixStats> };
  NX_IPFIX_FLOW: { request: Record<string, never>; reply: Entries<IpfixStats> };
  /** OF1.0's Nicira group statistics, in the OF1.5 layouts. */
  NX_GROUP: { request: { body: IdRequest }; reply: Entries<GroupStats> };
  NX_GROUP_DESC: { request: { body: IdRequest }; reply: Entries<GroupDesc15> };
  NX_GROUP_FEATURES: { request: Record<string, never>; reply: GroupFeatures };
}
export type MultipartKind = keyof MultipartBodies;

export type MultipartRequest = {
  [K in MultipartKind]: { stat: K; flags: number; body: MultipartBodies[K]['request'] };
}[MultipartKind];
export type MultipartReply = {
  [K in MultipartKind]: { stat: K; flags: number; body: MultipartBodies[K]['reply'] };
}[MultipartKind];

interface StatRow {
  readonly stat: MultipartKind;
  readonly type: number;
  readonly request: Codec<unknown>;
  readonly reply: Codec<unknown>;
  /** For list bodies: one entry's codec (used to split by size), per direction. */
  readonly entry?: { request?: Codec<unknown>; reply?: Codec<unknown> };
  /** Vendor statistics: the subtype under `vendor` (NX_VENDOR_ID when not given). */
  readonly nx?: number;
  readonly vendor?: number;
}

function listRow(stat: MultipartKind, type: number, request: Codec<unknown>, item: Codec<unknown>, what: string): StatRow {
  return { stat, type, request, reply: entries(item, what), entry: { reply: item } };
}

const rowCache = new Map<number, StatRow[]>();

function statRows(version: number): StatRow[] {
  const cached = rowCache.get(version);
  if (cached) return cached;
  const v10 = version === 1;
  const portDescRequest: Codec<PortDescRequest> = version >= 6
    ? struct({ port_no: u32, _pad: pad(4) }) as Codec<PortDescRequest>
    : empty as Codec<PortDescRequest>;
  const flowRequest = v10 ? struct(flowRequest10Fields, { what: 'ofp_flow_stats_request' }) : struct(flowRequest11Fields(version), { what: 'ofp_flow_stats_request' });
  const flowEntry = v10 ? struct(flowStats10Fields, { what: 'ofp_flow_stats' })
    : version === 4 ? struct(flowStats13Fields(version), { what: 'ofp_flow_stats' })
      : version === 5 ? struct(flowStats14Fields(version), { what: 'ofp_flow_stats' })
        : struct(flowDesc15Fields, { what: 'ofp_flow_desc' });
  const rows: StatRow[] = [
    { stat: 'DESC', type: 0, request: empty, reply: desc },
    listRow('FLOW', 1, flowRequest, flowEntry, 'flow stats'),
    { stat: 'AGGREGATE', type: 2, request: flowRequest, reply: version >= 6 ? struct({ stats: oxsStats }) : aggregateReply },
    listRow('TABLE', 3, empty, v10 ? struct(tableStats10Fields) : struct(tableStats13Fields), 'table stats'),
    listRow('PORT_STATS', 4, v10 ? struct(portStatsRequest10Fields) : struct(portStatsRequest11Fields),
      v10 ? struct(portStats10Fields) : version === 4 ? struct(portStats13Fields) : struct(portStats14Fields, { what: 'ofp_port_stats' }), 'port stats'),
    listRow('QUEUE_STATS', 5, v10 ? struct(queueRequest10Fields) : struct(queueRequest11Fields),
      v10 ? struct(queueStats10Fields) : version === 4 ? struct(queueStats13Fields) : struct(queueStats14Fields, { what: 'ofp_queue_stats' }), 'queue stats'),
    // OF1.0 has no PORT_DESC; type 13 there is an OVS extension that ovs-ofctl uses.
    listRow('PORT_DESC', 13, portDescRequest, portCodec(version), 'ports'),
    { stat: 'EXPERIMENTER', type: 0xffff, request: struct(v10 ? experimenter10Fields : experimenter11Fields), reply: struct(v10 ? experimenter10Fields : experimenter11Fields) },
  ];
  if (v10) {
    const nxItem = nxFlowStats(version);
    rows.push(
      { stat: 'NX_FLOW', type: 0xffff, nx: 0, request: nxStat(0, nxFlowStatsRequestFields), reply: nxStat(0, { entries: list(nxItem, 'nx flow stats') }), entry: { reply: nxItem } },
      { stat: 'NX_AGGREGATE', type: 0xffff, nx: 1, request: nxStat(1, nxFlowStatsRequestFields), reply: nxStat(1, aggregateReplyFields) },
      vendorListRow('NX_FLOW_MONITOR', 2, nxFlowMonitor(1).request, nxFlowMonitor(1).update, 'flow updates'),
      { stat: 'NX_IPFIX_BRIDGE', type: 0xffff, nx: 3, request: nxStat(3, {}), reply: nxStat(3, { entries: list(ipfixStats, 'ipfix stats') }), entry: { reply: ipfixStats } },
      { stat: 'NX_IPFIX_FLOW', type: 0xffff, nx: 4, request: nxStat(4, {}), reply: nxStat(4, { entries: list(ipfixStats, 'ipfix stats') }), entry: { reply: ipfixStats } },
      vendorListRow('NX_GROUP', 7, idRequest, struct(groupStatsFields, { what: 'ofp_group_stats' }), 'group stats'),
      vendorListRow('NX_GROUP_DESC', 8, idRequest, nxGroupDesc, 'group desc'),
      { stat: 'NX_GROUP_FEATURES', type: 0xffff, nx: 9, request: nxStat(9, {}), reply: nxStat(9, groupFeaturesFields) },
    );
  } else {
    const tf = tableFeatures;
    rows.push(
      listRow('GROUP', 6, idRequest, struct(groupStatsFields, { what: 'ofp_group_stats' }), 'group stats'),
      listRow('GROUP_DESC', 7, version >= 6 ? idRequest : empty, version >= 6 ? groupDesc15 : groupDesc11(version), 'group desc'),
      { stat: 'GROUP_FEATURES', type: 8, request: empty, reply: struct(groupFeaturesFields) },
      listRow('METER', 9, idRequest, struct(meterStatsFields, { what: 'ofp_meter_stats' }), 'meter stats'),
      listRow('METER_CONFIG', 10, idRequest, meterConfig, 'meter config'),
      { stat: 'METER_FEATURES', type: 11, request: empty, reply: struct(meterFeaturesFields) },
      { stat: 'TABLE_FEATURES', type: 12, request: entries(tf, 'table features'), reply: entries(tf, 'table features'), entry: { request: tf, reply: tf } },
    );
    if (version === 4) {
      const m = nxFlowMonitor(4);
      rows.push(vendorListRow('NX_FLOW_MONITOR', ONF_FLOW_MONITOR, m.request, m.update, 'flow updates', ONF_VENDOR_ID));
    }
    if (version >= 5) {
      rows.push(
        listRow('TABLE_DESC', 14, empty, tableDesc, 'table desc'),
        listRow('QUEUE_DESC', 15, struct(queueRequest11Fields), struct(queueDescFields, { what: 'ofp_queue_desc' }), 'queue desc'),
        listRow('FLOW_MONITOR', 16, struct(flowMonitorRequestFields(version), { what: 'ofp_flow_monitor_request' }), flowUpdate(version), 'flow updates'),
      );
    }
  }
  rowCache.set(version, rows);
  return rows;
}

/** Every statistics kind of a version with its type number and body codecs (tests generate from it). */
export function multipartRows(version: number): ReadonlyArray<{ stat: MultipartKind; request: Codec<unknown>; reply: Codec<unknown> }> {
  return statRows(version);
}

/** The MULTIPART/STATS body codec for one version and direction. */
export function multipartCodec(version: number, dir: 'request' | 'reply'): Codec<MultipartRequest | MultipartReply> {
  const rows = statRows(version);
  const byType = new Map(rows.filter((r) => r.nx === undefined).map((r) => [r.type, r]));
  const byNx = new Map(rows.filter((r) => r.nx !== undefined).map((r) => [`${r.vendor ?? NX_VENDOR_ID}:${r.nx}`, r]));
  const byStat = new Map(rows.map((r) => [r.stat, r]));
  // OF1.0's ofp_stats_* header has no padding; OF1.1+ pads to 8.
  const headerPad = version === 1 ? 0 : 4;
  const rowFor = (stat: MultipartKind): StatRow => {
    const r = byStat.get(stat);
    if (!r) throw new RangeError(`multipart ${stat} does not exist in version ${version}`);
    return r;
  };
  return {
    shape: {
      t: 'union',
      options: rows.map((r) => ({ tag: { stat: r.stat }, shape: { t: 'struct', fields: [['flags', u16.shape as Shape], ['body', r[dir].shape as Shape]] } as Shape })),
    },
    size: (v) => 4 + headerPad + rowFor(v.stat)[dir].size(v.body),
    write: (w: Writer, v) => {
      const r = rowFor(v.stat);
      w.u16(r.type);
      w.u16(v.flags);
      w.zeros(headerPad);
      r[dir].write(w, v.body);
    },
    read: (r: Reader) => {
      const type = r.u16();
      const flags = r.u16();
      r.take(headerPad, 'multipart padding');
      let row = byType.get(type);
      if (type === 0xffff && r.remaining >= 8) {
        row = byNx.get(`${r.dv.getUint32(r.pos)}:${r.dv.getUint32(r.pos + 4)}`) ?? row;
      }
      if (!row) throw new OfError('OFPBRC_BAD_STAT', `multipart type ${type} in version ${version}`);
      return { stat: row.stat, flags, body: row[dir].read(r) } as MultipartRequest | MultipartReply;
    },
  };
}

/**
 * Splits a list reply (or a TABLE_FEATURES request) into parts that each fit
 * `maxBody` bytes of body, all but the last flagged MORE. Other bodies come
 * back unchanged. The default leaves room for the header, the multipart
 * header and the Nicira stats header.
 */
export function splitMultipartReply<M extends MultipartReply | MultipartRequest>(
  reply: M, version: number, maxBody = 0xffff - 24, dir: 'request' | 'reply' = 'reply',
): M[] {
  const item = statRows(version).find((r) => r.stat === reply.stat)?.entry?.[dir];
  if (!item || !('entries' in reply.body)) return [reply];
  return [...multipartParts(reply.stat, reply.flags, reply.body.entries as Iterable<unknown>, version, maxBody, dir)] as M[];
}

/**
 * The parts of a list reply whose entries come from `entries`, made as they
 * are consumed: a caller that sends each part before asking for the next
 * holds one part's entries at a time, however many there are in all.
 */
export function* multipartParts(
  stat: MultipartReply['stat'] | MultipartRequest['stat'], flags: number, entries: Iterable<unknown>, version: number,
  maxBody = 0xffff - 24, dir: 'request' | 'reply' = 'reply',
): Generator<MultipartReply | MultipartRequest> {
  const item = statRows(version).find((r) => r.stat === stat)?.entry?.[dir];
  if (!item) throw new RangeError(`multipart ${stat} has no list body in version ${version}`);
  const part = (es: unknown[], more: boolean) => ({
    stat, flags: more ? flags | OFPMPF_REPLY_MORE : flags & ~OFPMPF_REPLY_MORE, body: { entries: es },
  }) as MultipartReply | MultipartRequest;
  let current: unknown[] = [];
  let size = 0;
  for (const e of entries) {
    const n = item.size(e);
    if (n > maxBody) throw new RangeError('a single multipart entry exceeds the message limit');
    if (size + n > maxBody && current.length) {
      yield part(current, true);
      current = [];
      size = 0;
    }
    current.push(e);
    size += n;
  }
  yield part(current, false);
}

/**
 * Puts MORE-flagged replies back together, per xid. push() returns the whole
 * reply once the part without MORE arrives, and undefined before.
 */
export class MultipartAssembler {
  private readonly pending = new Map<number, MultipartReply | MultipartRequest>();
  private readonly parts = new Map<number, number>();

  /** `maxParts` bounds what a peer can make us hold for one xid (OFPBRC_MULTIPART_BUFFER_OVERFLOW beyond it). */
  constructor(private readonly maxParts = 4096) {}

  push<M extends MultipartReply | MultipartRequest>(xid: number, part: M): M | undefined {
    const n = (this.parts.get(xid) ?? 0) + 1;
    if (n > this.maxParts) {
      this.pending.delete(xid);
      this.parts.delete(xid);
      throw new OfError('OFPBRC_MULTIPART_BUFFER_OVERFLOW', `multipart xid ${xid}: more than ${this.maxParts} parts`);
    }
    this.parts.set(xid, n);
    const prev = this.pending.get(xid);
    let merged = part;
    if (prev) {
      if (prev.stat !== part.stat || !('entries' in prev.body) || !('entries' in part.body)) {
        this.pending.delete(xid);
        this.parts.delete(xid);
        throw new OfError('OFPBRC_BAD_STAT', `multipart xid ${xid}: ${part.stat} continues a ${prev.stat} reply`);
      }
      merged = { stat: part.stat, flags: part.flags, body: { entries: [...prev.body.entries, ...part.body.entries] } } as M;
    }
    if (part.flags & OFPMPF_REPLY_MORE) {
      this.pending.set(xid, merged);
      return undefined;
    }
    this.pending.delete(xid);
    this.parts.delete(xid);
    return merged as M;
  }
}
