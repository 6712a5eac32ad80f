// OpenFlow messages: one table row per (message kind, versions) giving the
// header type number and the body's field table. encodeMessage and
// decodeMessage are the only two functions that walk it.

import { NXET_VENDOR, OfError, OFPET_EXPERIMENTER, errorName, type ErrorWire, type OfErrorName } from './errors.js';
import { actionList, instructionList, type Action10 } from './actions.js';
import { of10Match, oxmMatch, type Match } from './match.js';
import { multipartCodec, type MultipartReply, type MultipartRequest } from './multipart.js';
import { port10, portCodec, type Port, type Port10 } from './port.js';
import {
  Reader, Writer, list, pad, rest, struct, tlvList, u16, u32, u64, u8,
  type Codec, type RawTlv, type StructValue,
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
/** OFPT_FLOW_REMOVED (OF1.0, OF1.3, OF1.4; OF1.5's OXS statistics form is not here yet). */
export type FlowRemoved = FlowRemoved10 | FlowRemoved13;

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
}
export type MessageKind = keyof MessageBodies;

export type OfMessage = {
  [K in MessageKind]: { version: number; xid: number; kind: K; body: MessageBodies[K] };
}[MessageKind];

/** The message of kind K (for narrowing helpers). */
export type MessageOf<K extends MessageKind> = Extract<OfMessage, { kind: K }>;

interface Row {
  readonly kind: MessageKind;
  readonly type: number;
  readonly versions: readonly number[];
  readonly body: Codec<unknown>;
}

function row<K extends MessageKind>(kind: K, type: number, versions: readonly number[], body: Codec<MessageBodies[K]>): Row {
  return { kind, type, versions, body };
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
];

const HELLO_ROW = ROWS[0];
const byType = new Map<number, Row>();
const byKind = new Map<string, Row>();
for (const r of ROWS) {
  for (const v of r.versions) {
    byType.set(v * 256 + r.type, r);
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
  const spec = h.type === 0 && h.version !== 0 ? HELLO_ROW : byType.get(h.version * 256 + h.type);
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
