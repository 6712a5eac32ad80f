// OpenFlow messages: one table row per (message kind, versions) giving the
// header type number and the body's field table. encodeMessage and
// decodeMessage are the only two functions that walk it.

import { NX_VENDOR_ID, NXET_VENDOR, ONF_VENDOR_ID, OfError, OFPET_EXPERIMENTER, errorName, type ErrorWire, type OfErrorName } from './errors.js';
import { actionList, instructionList, type Action10 } from './actions.js';
import { of10Match, oxmMatch, type Match } from './match.js';
import { multipartCodec, type MultipartReply, type MultipartRequest } from './multipart.js';
import {
  flowRemoved15, packetIn10, packetIn13, packetOut10, packetOut11, packetOut15,
  type FlowRemoved15, type PacketIn, type PacketOut,
} from './packet.js';
import {
  groupMod11, groupMod15, meterMod, portMod10, portMod11, portMod14, tableMod11, tableMod14,
  type GroupMod, type MeterMod, type PortMod, type TableMod,
} from './mods.js';
import {
  async13, async14, bundleControl, experimenterOnlyProps, queueGetConfigReply10, queueGetConfigReply11, queueGetConfigRequest10,
  queueGetConfigRequest11, role, roleStatus, tableStatus,
  type AsyncConfig13, type AsyncConfig14, type BundleControl, type QueueGetConfigReply, type QueueGetConfigRequest,
  type RoleRequest, type RoleStatus, type TableStatus,
} from './controller.js';
import { nxMessage, nxMessageTables, type NxBodies } from './nicira.js';
import { monitorMessageTables, nxGroupModFields, nxMessageTables2, type Nx2Bodies } from './nicira2.js';
import { port10, portCodec, type Port, type Port10 } from './port.js';
import {
  Reader, Writer, list, pad, padTo, rest, struct, tlvList, u16, u32, u64, u8,
  type Codec, type RawTlv, type Shape, type StructValue, type ValueOf,
} from './wire.js';

export const OFP10_VERSION = 1;
export const OFP13_VERSION = 4;
export const OFP14_VERSION = 5;
export const OFP15_VERSION = 6;
/** The versions this codec speaks, as a version bitmap (bit n = wire version n). */
export const SUPPORTED_VERSIONS = (1 << OFP10_VERSION) | (1 << OFP13_VERSION) | (1 << OFP14_VERSION) | (1 << OFP15_VERSION);

export const OFP_HEADER_LEN = 8;
export const OFP_MAX_MSG_LEN = 0xffff;

const ALL = [1, 4, 5, 6] as const;
const OF13_UP = [4, 5, 6] as const;

// ---------------------------------------------------------------- bodies

export const OFPHET_VERSIONBITMAP = 1;

export type HelloElement =
  | { readonly type: typeof OFPHET_VERSIONBITMAP; readonly bitmaps: number[] }
  | (RawTlv & { readonly raw: true });

const helloElements = tlvList<HelloElement>(
  new Map([[OFPHET_VERSIONBITMAP, struct({ bitmaps: list(u32, 'version bitmap') }) as Codec<HelloElement>]]),
  { align: 8, lenError: 'OFPBRC_BAD_LEN', what: 'hello element', raw: (t) => ({ ...t, raw: true }), unraw: (v) => ('raw' in v ? v : undefined) },
);

export interface Hello {
  readonly elements: HelloElement[];
  /** Bytes that did not parse as elements; OVS tolerates them in a HELLO, so do we. */
  readonly unparsed?: Uint8Array;
}

const hello: Codec<Hello> = {
  shape: { t: 'named', name: 'hello' },
  size: (v) => helloElements.size(v.elements) + (v.unparsed?.length ?? 0),
  write: (w, v) => {
    helloElements.write(w, v.elements);
    if (v.unparsed) w.bytes(v.unparsed);
  },
  read: (r) => {
    const start = r.pos;
    try {
      return { elements: helloElements.read(r) };
    } catch (e) {
      if (!(e instanceof OfError)) throw e;
      r.pos = start;
      return { elements: [], unparsed: r.bytes(r.remaining) };
    }
  },
};

const errorStdFields = { type: u16, code: u16, data: rest };
const errorExpFields = { type: u16, exp_code: u16, experimenter: u32, data: rest };
export type ErrorStd = StructValue<typeof errorStdFields>;
export type ErrorExp = StructValue<typeof errorExpFields>;
/** OFPT_ERROR. OF1.2+ type 0xffff is the experimenter form. */
export type ErrorBody = ErrorStd | ErrorExp;

const errorStd = struct(errorStdFields, { what: 'ofp_error_msg' });
const errorExp = struct(errorExpFields, { what: 'ofp_error_experimenter_msg' });

function isErrorExp(v: ErrorBody): v is ErrorExp {
  return 'experimenter' in v;
}

const error12: Codec<ErrorBody> = {
  shape: { t: 'named', name: 'error12' },
  size: (v) => (isErrorExp(v) ? errorExp.size(v) : errorStd.size(v)),
  write: (w, v) => {
    if (isErrorExp(v)) errorExp.write(w, v);
    else if (v.type === OFPET_EXPERIMENTER) throw new RangeError('error type 0xffff needs exp_code and experimenter');
    else errorStd.write(w, v);
  },
  read: (r) => {
    if (r.remaining >= 2 && r.dv.getUint16(r.pos) === OFPET_EXPERIMENTER) return errorExp.read(r);
    return errorStd.read(r);
  },
};

const echoFields = { data: rest };
export type Echo = StructValue<typeof echoFields>;
const echo = struct(echoFields);

const vendor10Fields = { experimenter: u32, data: rest };
const experimenter13Fields = { experimenter: u32, exp_type: u32, data: rest };
export type Experimenter = StructValue<typeof vendor10Fields> | StructValue<typeof experimenter13Fields>;

const empty = struct({});
export type Empty = Record<string, never>;

const featuresReply10Fields = {
  datapath_id: u64,
  n_buffers: u32,
  n_tables: u8,
  _pad: pad(3),
  capabilities: u32,
  actions: u32,
  ports: list(port10, 'ports'),
};
const featuresReply13Fields = {
  datapath_id: u64,
  n_buffers: u32,
  n_tables: u8,
  auxiliary_id: u8,
  _pad: pad(2),
  capabilities: u32,
  reserved: u32,
};
export type FeaturesReply10 = StructValue<typeof featuresReply10Fields> & { ports: Port10[] };
export type FeaturesReply13 = StructValue<typeof featuresReply13Fields>;
export type FeaturesReply = FeaturesReply10 | FeaturesReply13;

const switchConfigFields = { flags: u16, miss_send_len: u16 };
export type SwitchConfig = StructValue<typeof switchConfigFields>;
const switchConfig = struct(switchConfigFields, { what: 'ofp_switch_config' });

const flowRemoved10Fields = {
  match: of10Match,
  cookie: u64,
  priority: u16,
  reason: u8,
  _pad: pad(1),
  duration_sec: u32,
  duration_nsec: u32,
  idle_timeout: u16,
  _pad2: pad(2),
  packet_count: u64,
  byte_count: u64,
};
function flowRemoved13Fields(version: number) {
  return {
    cookie: u64,
    priority: u16,
    reason: u8,
    table_id: u8,
    duration_sec: u32,
    duration_nsec: u32,
    idle_timeout: u16,
    hard_timeout: u16,
    packet_count: u64,
    byte_count: u64,
    match: oxmMatch(version),
  };
}
export type FlowRemoved10 = StructValue<typeof flowRemoved10Fields> & { match: Match };
export type FlowRemoved13 = StructValue<ReturnType<typeof flowRemoved13Fields>> & { match: Match };
/** OFPT_FLOW_REMOVED (OF1.0, OF1.1-1.4, and OF1.5 with OXS statistics). */
export type FlowRemoved = FlowRemoved10 | FlowRemoved13 | FlowRemoved15;

export const OFPFC_ADD = 0;
export const OFPFC_MODIFY = 1;
export const OFPFC_MODIFY_STRICT = 2;
export const OFPFC_DELETE = 3;
export const OFPFC_DELETE_STRICT = 4;

const flowMod10Fields = {
  match: of10Match,
  cookie: u64,
  command: u16,
  idle_timeout: u16,
  hard_timeout: u16,
  priority: u16,
  buffer_id: u32,
  out_port: u16,
  flags: u16,
  actions: actionList(1) as Codec<Action10[]>,
};
function flowMod13Fields(version: number) {
  return {
    cookie: u64,
    cookie_mask: u64,
    table_id: u8,
    command: u8,
    idle_timeout: u16,
    hard_timeout: u16,
    priority: u16,
    buffer_id: u32,
    out_port: u32,
    out_group: u32,
    flags: u16,
    _pad: pad(2),
    match: oxmMatch(version),
    instructions: instructionList(version),
  };
}
function flowMod14Fields(version: number) {
  const { _pad, match, instructions, ...head } = flowMod13Fields(version);
  return { ...head, importance: u16, match, instructions };
}
export type FlowMod10 = StructValue<typeof flowMod10Fields>;
export type FlowMod13 = StructValue<ReturnType<typeof flowMod13Fields>>;
export type FlowMod14 = StructValue<ReturnType<typeof flowMod14Fields>>;
/** OFPT_FLOW_MOD: OF1.0 (ofp_match + actions), OF1.3 (OXM + instructions), OF1.4/1.5 (adds importance). */
export type FlowMod = FlowMod10 | FlowMod13 | FlowMod14;

export const OFPPR_ADD = 0;
export const OFPPR_DELETE = 1;
export const OFPPR_MODIFY = 2;
export interface PortStatus {
  readonly reason: number;
  readonly desc: Port;
}
function portStatus(version: number): Codec<PortStatus> {
  return struct({ reason: u8, _pad: pad(7), desc: portCodec(version) }, { what: 'ofp_port_status' });
}

/** A whole message inside another (BUNDLE_ADD_MESSAGE, REQUESTFORWARD): its own header says its length. */
const innerMessage: Codec<OfMessage> = {
  shape: { t: 'named', name: 'message' },
  size: (m) => encodeMessage(m).length,
  write: (w, m) => w.bytes(encodeMessage(m)),
  read: (r) => {
    if (r.remaining < OFP_HEADER_LEN) throw new OfError('OFPBFC_MSG_BAD_LEN', 'inner message shorter than a header');
    const len = r.dv.getUint16(r.pos + 2);
    if (len < OFP_HEADER_LEN || len > r.remaining) throw new OfError('OFPBFC_MSG_BAD_LEN', `inner message length ${len}`);
    return decodeMessage(r.bytes(len));
  },
};

export interface BundleAdd {
  readonly bundle_id: number;
  readonly flags: number;
  readonly message: OfMessage;
  readonly properties: ValueOf<typeof experimenterOnlyProps>;
}

/** OFPT_BUNDLE_ADD_MESSAGE: the message, then (padded to 8, only when present) properties. */
const bundleAdd: Codec<BundleAdd> = {
  shape: {
    t: 'struct',
    fields: [['bundle_id', u32.shape as Shape], ['flags', u16.shape as Shape], ['message', innerMessage.shape as Shape], ['properties', experimenterOnlyProps.shape as Shape]],
  },
  size: (v) => {
    const n = 8 + innerMessage.size(v.message);
    return v.properties.length ? padTo(n, 8) + experimenterOnlyProps.size(v.properties) : n;
  },
  write: (w, v) => {
    const start = w.pos;
    w.u32(v.bundle_id);
    w.zeros(2);
    w.u16(v.flags);
    innerMessage.write(w, v.message);
    if (v.properties.length) {
      const n = w.pos - start;
      w.zeros(padTo(n, 8) - n);
      experimenterOnlyProps.write(w, v.properties);
    }
  },
  read: (r) => {
    const start = r.pos;
    const bundle_id = r.u32();
    r.take(2);
    const flags = r.u16();
    const message = innerMessage.read(r);
    let properties: BundleAdd['properties'] = [];
    if (r.remaining > 0) {
      const n = r.pos - start;
      r.take(padTo(n, 8) - n, 'bundle padding');
      properties = experimenterOnlyProps.read(r);
    }
    return { bundle_id, flags, message, properties };
  },
};

const requestForward = struct({ request: innerMessage }, { what: 'ofp_requestforward' });

// ---------------------------------------------------------------- the table

/** Message kind → body type. Kinds are the OF1.3 names; OF1.0 VENDOR is EXPERIMENTER. */
export interface MessageBodies {
  HELLO: Hello;
  ERROR: ErrorBody;
  ECHO_REQUEST: Echo;
  ECHO_REPLY: Echo;
  EXPERIMENTER: Experimenter;
  FEATURES_REQUEST: Empty;
  FEATURES_REPLY: FeaturesReply;
  GET_CONFIG_REQUEST: Empty;
  GET_CONFIG_REPLY: SwitchConfig;
  SET_CONFIG: SwitchConfig;
  PORT_STATUS: PortStatus;
  FLOW_REMOVED: FlowRemoved;
  FLOW_MOD: FlowMod;
  BARRIER_REQUEST: Empty;
  BARRIER_REPLY: Empty;
  /** OF1.0 STATS_REQUEST / OF1.3+ MULTIPART_REQUEST. */
  MULTIPART_REQUEST: MultipartRequest;
  MULTIPART_REPLY: MultipartReply;
  PACKET_IN: PacketIn;
  PACKET_OUT: PacketOut;
  PORT_MOD: PortMod;
  TABLE_MOD: TableMod;
  GROUP_MOD: GroupMod;
  METER_MOD: MeterMod;
  QUEUE_GET_CONFIG_REQUEST: QueueGetConfigRequest;
  QUEUE_GET_CONFIG_REPLY: QueueGetConfigReply;
  ROLE_REQUEST: RoleRequest;
  ROLE_REPLY: RoleRequest;
  ROLE_STATUS: RoleStatus;
  GET_ASYNC_REQUEST: Empty;
  /** OF1.3 bitmask pairs, OF1.4+ properties. */
  GET_ASYNC_REPLY: AsyncConfig13 | AsyncConfig14;
  SET_ASYNC: AsyncConfig13 | AsyncConfig14;
  TABLE_STATUS: TableStatus;
  REQUESTFORWARD: { request: OfMessage };
  BUNDLE_CONTROL: BundleControl;
  BUNDLE_ADD_MESSAGE: BundleAdd;
  NXT_ROLE_REQUEST: NxBodies['NXT_ROLE_REQUEST'];
  NXT_ROLE_REPLY: NxBodies['NXT_ROLE_REPLY'];
  NXT_SET_FLOW_FORMAT: NxBodies['NXT_SET_FLOW_FORMAT'];
  NXT_FLOW_MOD: NxBodies['NXT_FLOW_MOD'];
  NXT_FLOW_REMOVED: NxBodies['NXT_FLOW_REMOVED'];
  NXT_FLOW_MOD_TABLE_ID: NxBodies['NXT_FLOW_MOD_TABLE_ID'];
  NXT_SET_PACKET_IN_FORMAT: NxBodies['NXT_SET_PACKET_IN_FORMAT'];
  NXT_PACKET_IN: NxBodies['NXT_PACKET_IN'];
  NXT_FLOW_AGE: NxBodies['NXT_FLOW_AGE'];
  NXT_SET_ASYNC_CONFIG: NxBodies['NXT_SET_ASYNC_CONFIG'];
  NXT_SET_CONTROLLER_ID: NxBodies['NXT_SET_CONTROLLER_ID'];
  NXT_PACKET_IN2: NxBodies['NXT_PACKET_IN2'];
  NXT_TLV_TABLE_MOD: Nx2Bodies['NXT_TLV_TABLE_MOD'];
  NXT_TLV_TABLE_REQUEST: Nx2Bodies['NXT_TLV_TABLE_REQUEST'];
  NXT_TLV_TABLE_REPLY: Nx2Bodies['NXT_TLV_TABLE_REPLY'];
  NXT_CT_FLUSH_ZONE: Nx2Bodies['NXT_CT_FLUSH_ZONE'];
  NXT_CT_FLUSH: Nx2Bodies['NXT_CT_FLUSH'];
  /** OF1.0 only: OF1.5's group_mod layout with OF1.0 actions. */
  NXT_GROUP_MOD: Nx2Bodies['NXT_GROUP_MOD'];
  /** NXT (OF1.0) or ONFT (OF1.3) flow monitor control. */
  NXT_FLOW_MONITOR_CANCEL: Nx2Bodies['NXT_FLOW_MONITOR_CANCEL'];
  NXT_FLOW_MONITOR_PAUSED: Nx2Bodies['NXT_FLOW_MONITOR_PAUSED'];
  NXT_FLOW_MONITOR_RESUMED: Nx2Bodies['NXT_FLOW_MONITOR_RESUMED'];
}
export type MessageKind = keyof MessageBodies;

export type OfMessage = {
  [K in MessageKind]: { version: number; xid: number; kind: K; body: MessageBodies[K] };
}[MessageKind];

/** The message of kind K (for narrowing helpers). */
export type MessageOf<K extends MessageKind> = Extract<OfMessage, { kind: K }>;

/** One layout of one message kind: header type, the versions that use it, the body codec. */
export interface MessageRow {
  readonly kind: MessageKind;
  readonly type: number;
  readonly versions: readonly number[];
  readonly body: Codec<unknown>;
  /** Vendor messages: the (vendor, subtype) that selects this row among experimenter messages. */
  readonly exp?: { readonly vendor: number; readonly subtype: number };
}
type Row = MessageRow;

function row<K extends MessageKind>(kind: K, type: number, versions: readonly number[], body: Codec<MessageBodies[K]>): Row {
  return { kind, type, versions, body };
}

function nxRows(): Row[] {
  const out: Row[] = [];
  const add = (v: number, vendor: number, tables: Record<string, readonly [number, Record<string, Codec<unknown>>]>) => {
    for (const [kind, [subtype, fields]] of Object.entries(tables)) {
      out.push({ kind: kind as MessageKind, type: 4, versions: [v], body: nxMessage(subtype, fields, kind, vendor), exp: { vendor, subtype } });
    }
  };
  for (const v of ALL) {
    const { NXT_SET_FLOW_FORMAT, ...rest } = nxMessageTables(v);
    // NXT_SET_FLOW_FORMAT and NXT_GROUP_MOD exist only in OF1.0 (OVS: "NXT 1.0 (12)", "NXT 1.0 (31)").
    add(v, NX_VENDOR_ID, v === 1 ? { NXT_SET_FLOW_FORMAT, NXT_GROUP_MOD: [31, nxGroupModFields], ...rest } : rest);
    add(v, NX_VENDOR_ID, nxMessageTables2());
    // Flow monitor control: Nicira messages in OF1.0, ONF experimenter messages in OF1.3, OFPT/multipart from OF1.4.
    if (v === 1) add(v, NX_VENDOR_ID, monitorMessageTables(v));
    if (v === 4) add(v, ONF_VENDOR_ID, monitorMessageTables(v));
  }
  return out;
}

/**
 * An ONF experimenter message carrying a later version's body: OpenFlow 1.3
 * gets 1.4's bundles this way (ONF extension 230, as OVS implements it).
 */
function onfMessage<T>(subtype: number, inner: Codec<T>): Codec<T> {
  return {
    shape: inner.shape,
    size: (v) => 8 + inner.size(v),
    write: (w, v) => {
      w.u32(ONF_VENDOR_ID);
      w.u32(subtype);
      inner.write(w, v);
    },
    read: (r) => {
      r.u32();
      r.u32();
      return inner.read(r);
    },
  };
}

function onfBundleRows(): Row[] {
  return [
    { kind: 'BUNDLE_CONTROL', type: 4, versions: [4], body: onfMessage(2300, bundleControl), exp: { vendor: ONF_VENDOR_ID, subtype: 2300 } },
    { kind: 'BUNDLE_ADD_MESSAGE', type: 4, versions: [4], body: onfMessage(2301, bundleAdd), exp: { vendor: ONF_VENDOR_ID, subtype: 2301 } },
  ] as Row[];
}

/** HELLO and ERROR must be understood in any version, so that negotiation can fail politely. */
const ANY_VERSION = [1, 2, 3, 4, 5, 6] as const;

const ROWS: Row[] = [
  row('HELLO', 0, ANY_VERSION, hello),
  row('ERROR', 1, [1, 2], errorStd),
  row('ERROR', 1, [3, 4, 5, 6], error12),
  row('ECHO_REQUEST', 2, ALL, echo),
  row('ECHO_REPLY', 3, ALL, echo),
  row('EXPERIMENTER', 4, [1], struct(vendor10Fields, { what: 'ofp_vendor_header' })),
  row('EXPERIMENTER', 4, OF13_UP, struct(experimenter13Fields, { what: 'ofp_experimenter_header' })),
  row('FEATURES_REQUEST', 5, ALL, empty),
  row('FEATURES_REPLY', 6, [1], struct(featuresReply10Fields, { what: 'ofp_switch_features' })),
  row('FEATURES_REPLY', 6, OF13_UP, struct(featuresReply13Fields, { what: 'ofp_switch_features' })),
  row('GET_CONFIG_REQUEST', 7, ALL, empty),
  row('GET_CONFIG_REPLY', 8, ALL, switchConfig),
  row('SET_CONFIG', 9, ALL, switchConfig),
  row('FLOW_REMOVED', 11, [1], struct(flowRemoved10Fields, { what: 'ofp_flow_removed' })),
  ...[4, 5].map((v) => row('FLOW_REMOVED', 11, [v], struct(flowRemoved13Fields(v), { what: 'ofp_flow_removed' }))),
  ...ALL.map((v) => row('PORT_STATUS', 12, [v], portStatus(v))),
  row('FLOW_MOD', 14, [1], struct(flowMod10Fields, { what: 'ofp_flow_mod' })),
  row('FLOW_MOD', 14, [4], struct(flowMod13Fields(4), { what: 'ofp_flow_mod' })),
  ...[5, 6].map((v) => row('FLOW_MOD', 14, [v], struct(flowMod14Fields(v), { what: 'ofp_flow_mod' }))),
  ...ALL.map((v) => row('MULTIPART_REQUEST', v === 1 ? 16 : 18, [v], multipartCodec(v, 'request') as Codec<MultipartRequest>)),
  ...ALL.map((v) => row('MULTIPART_REPLY', v === 1 ? 17 : 19, [v], multipartCodec(v, 'reply') as Codec<MultipartReply>)),
  row('BARRIER_REQUEST', 18, [1], empty),
  row('BARRIER_REPLY', 19, [1], empty),
  row('BARRIER_REQUEST', 20, OF13_UP, empty),
  row('BARRIER_REPLY', 21, OF13_UP, empty),
  row('FLOW_REMOVED', 11, [6], flowRemoved15),
  row('PACKET_IN', 10, [1], packetIn10),
  ...OF13_UP.map((v) => row('PACKET_IN', 10, [v], packetIn13(v))),
  row('PACKET_OUT', 13, [1], packetOut10),
  ...[4, 5].map((v) => row('PACKET_OUT', 13, [v], packetOut11(v))),
  row('PACKET_OUT', 13, [6], packetOut15(6)),
  row('PORT_MOD', 15, [1], portMod10),
  row('PORT_MOD', 16, [4], portMod11),
  row('PORT_MOD', 16, [5, 6], portMod14),
  row('TABLE_MOD', 17, [4], tableMod11),
  row('TABLE_MOD', 17, [5, 6], tableMod14),
  ...[4, 5].map((v) => row('GROUP_MOD', 15, [v], groupMod11(v))),
  row('GROUP_MOD', 15, [6], groupMod15),
  row('METER_MOD', 29, OF13_UP, meterMod),
  row('QUEUE_GET_CONFIG_REQUEST', 20, [1], queueGetConfigRequest10),
  row('QUEUE_GET_CONFIG_REPLY', 21, [1], queueGetConfigReply10),
  row('QUEUE_GET_CONFIG_REQUEST', 22, [4], queueGetConfigRequest11),
  row('QUEUE_GET_CONFIG_REPLY', 23, [4], queueGetConfigReply11),
  row('ROLE_REQUEST', 24, OF13_UP, role),
  row('ROLE_REPLY', 25, OF13_UP, role),
  row('GET_ASYNC_REQUEST', 26, OF13_UP, empty),
  row('GET_ASYNC_REPLY', 27, [4], async13),
  row('SET_ASYNC', 28, [4], async13),
  row('GET_ASYNC_REPLY', 27, [5, 6], async14),
  row('SET_ASYNC', 28, [5, 6], async14),
  row('ROLE_STATUS', 30, [5, 6], roleStatus),
  row('TABLE_STATUS', 31, [5, 6], tableStatus),
  row('REQUESTFORWARD', 32, [5, 6], requestForward),
  row('BUNDLE_CONTROL', 33, [5, 6], bundleControl),
  row('BUNDLE_ADD_MESSAGE', 34, [5, 6], bundleAdd),
  ...nxRows(),
  ...onfBundleRows(),
];

/** Every row of the message table (tests generate messages from it). */
export function messageRows(): readonly MessageRow[] {
  return ROWS;
}

const HELLO_ROW = ROWS[0];
const byType = new Map<number, Row>();
const byKind = new Map<string, Row>();
const byExp = new Map<string, Row>();
for (const r of ROWS) {
  for (const v of r.versions) {
    if (r.exp) byExp.set(`${v}:${r.exp.vendor}:${r.exp.subtype}`, r);
    else byType.set(v * 256 + r.type, r);
    byKind.set(`${v}:${r.kind}`, r);
  }
}

export function isSupportedVersion(v: number): boolean {
  return v < 32 && (SUPPORTED_VERSIONS & (1 << v)) !== 0;
}

/** The header type number of `kind` in `version`, if that version has it. */
export function messageType(kind: MessageKind, version: number): number | undefined {
  return byKind.get(`${version}:${kind}`)?.type;
}

export interface OfHeader {
  readonly version: number;
  readonly type: number;
  readonly length: number;
  readonly xid: number;
}

/** Reads the 8-byte header at the start of `buf` (which must hold at least 8 bytes). */
export function decodeHeader(buf: Uint8Array): OfHeader {
  const r = Reader.of(buf);
  return { version: r.u8(), type: r.u8(), length: r.u16(), xid: r.u32() };
}

/** Encodes a message; the header length is computed. */
export function encodeMessage(m: OfMessage): Uint8Array {
  const spec = m.kind === 'HELLO' && m.version >= 1 && m.version <= 255 ? HELLO_ROW : byKind.get(`${m.version}:${m.kind}`);
  if (!spec) throw new RangeError(`${m.kind} does not exist in OpenFlow version 0x${m.version.toString(16).padStart(2, '0')}`);
  const n = OFP_HEADER_LEN + spec.body.size(m.body);
  if (n > OFP_MAX_MSG_LEN) throw new RangeError(`${m.kind}: ${n} bytes exceeds the 65535-byte message limit`);
  const w = new Writer(n);
  w.u8(m.version);
  w.u8(spec.type);
  w.u16(n);
  w.u32(m.xid >>> 0);
  spec.body.write(w, m.body);
  return w.buf;
}

/**
 * Decodes exactly one message. Throws only OfError: BAD_LEN when the header
 * length disagrees with the buffer or the body, BAD_VERSION, BAD_TYPE, and the
 * body's own errors.
 */
export function decodeMessage(buf: Uint8Array): OfMessage {
  if (buf.length < OFP_HEADER_LEN) throw new OfError('OFPBRC_BAD_LEN', `message of ${buf.length} bytes is shorter than the header`);
  const h = decodeHeader(buf);
  if (h.length !== buf.length) throw new OfError('OFPBRC_BAD_LEN', `header says ${h.length} bytes, got ${buf.length}`);
  // A HELLO of any version must decode: negotiation has to see what the peer offers.
  let spec = h.type === 0 && h.version !== 0 ? HELLO_ROW : byType.get(h.version * 256 + h.type);
  // Vendor messages: the vendor id and subtype (the first two body words) pick a known layout.
  if (spec?.kind === 'EXPERIMENTER' && buf.length >= OFP_HEADER_LEN + 8) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    spec = byExp.get(`${h.version}:${dv.getUint32(8)}:${dv.getUint32(12)}`) ?? spec;
  }
  if (!spec) {
    if (!isSupportedVersion(h.version)) throw new OfError('OFPBRC_BAD_VERSION', `version 0x${h.version.toString(16)}`);
    throw new OfError('OFPBRC_BAD_TYPE', `type ${h.type} in version 0x${h.version.toString(16)}`);
  }
  const r = new Reader(buf, OFP_HEADER_LEN, buf.length);
  const body = spec.body.read(r);
  r.expectEnd(spec.kind);
  return { version: h.version, xid: h.xid, kind: spec.kind, body } as OfMessage;
}

// ---------------------------------------------------------------- errors on the wire

/**
 * The OFPT_ERROR answering `offending` (a whole received message, or as much
 * of it as exists) with `err`, in the request's version and xid as OVS does.
 * Errors the version cannot express go out as Nicira vendor/experimenter errors.
 */
export function errorReply(err: OfError, offending: Uint8Array, version?: number, xid?: number): MessageOf<'ERROR'> {
  const hv = offending.length >= 1 ? offending[0] : OFP10_VERSION;
  const v = version ?? (isSupportedVersion(hv) ? hv : OFP10_VERSION);
  const x = xid ?? (offending.length >= 8 ? new DataView(offending.buffer, offending.byteOffset).getUint32(4) : 0);
  const w = err.wire(v);
  // Leave room for the header and the largest error prefix (12 bytes) in 65535.
  const data = offending.subarray(0, OFP_MAX_MSG_LEN - OFP_HEADER_LEN - 12);
  let body: ErrorBody;
  if (w.kind === 'standard') {
    body = { type: w.type, code: w.code, data: new Uint8Array(data) };
  } else if (w.kind === 'experimenter') {
    body = { type: OFPET_EXPERIMENTER, exp_code: w.expCode, experimenter: w.experimenter, data: new Uint8Array(data) };
  } else {
    const d = new Uint8Array(8 + data.length);
    const dv = new DataView(d.buffer);
    dv.setUint32(0, w.vendor);
    dv.setUint16(4, w.type);
    dv.setUint16(6, w.code);
    d.set(data, 8);
    body = { type: NXET_VENDOR, code: 0, data: d };
  }
  return { version: v, xid: x, kind: 'ERROR', body };
}

/** The symbolic name of a received error (undefined when not in the table), unwrapping OF1.0 vendor errors. */
export function errorBodyName(version: number, body: ErrorBody): OfErrorName | undefined {
  let w: ErrorWire;
  if ('experimenter' in body) {
    w = { kind: 'experimenter', experimenter: body.experimenter, expCode: body.exp_code };
  } else if (body.type === NXET_VENDOR && version <= 2 && body.data.length >= 8) {
    const dv = new DataView(body.data.buffer, body.data.byteOffset, body.data.byteLength);
    w = { kind: 'vendor', vendor: dv.getUint32(0), type: dv.getUint16(4), code: dv.getUint16(6) };
  } else {
    w = { kind: 'standard', type: body.type, code: body.code };
  }
  return errorName(version, w);
}
