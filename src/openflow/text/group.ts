// Groups in the ovs-ofctl syntax (add-group, mod-group, del-groups,
// insert-buckets, remove-buckets): text into a version-free group mod, that
// into GROUP_MOD for OF1.1-1.5 (or OVS's NXT_GROUP_MOD for OF1.0), and groups
// printed the way ovs-ofctl prints group mods and dump-groups lines.

import { actionList, type Action } from '../actions.js';
import { NX_VENDOR_ID, OfError } from '../errors.js';
import { FIELD_BY_NAME, codeFor } from '../fields.js';
import type { OfMessage } from '../messages.js';
import type { Bucket11, Bucket15, GroupMod11, GroupMod15 } from '../mods.js';
import {
  Reader, Writer, constant, decode, encode, lengthOf, list, pad, propList, struct, tlvList, u16, u32, u8, length16,
  type Codec, type RawProp,
} from '../wire.js';
import { fail } from './errors.js';
import { formatActionList, parseActionList, type TextAction } from './actions.js';
import { TEXT_FIELDS, textField, type TextField } from './fields.js';
import { parseFieldValue } from './match.js';
import { keyValues, strToU16, strToU32, strToU64 } from './scan.js';
import { P_ANY, P_OF10_ANY, P_OF15_UP, actionsParseProtocols, fieldMatchProtocols } from './usable.js';
import { OFPP, formatEth, formatIpv4, formatIpv6, formatPort, parsePort } from './values.js';
import { actionsFromWire, actionsToWire, protocolOfVersion } from './wire.js';

export type GroupCommand = 'add' | 'modify' | 'add_or_mod' | 'delete' | 'insert_bucket' | 'remove_bucket';

export const GROUP_COMMANDS: Readonly<Record<GroupCommand, number>> = {
  add: 0, modify: 1, delete: 2, insert_bucket: 3, remove_bucket: 5, add_or_mod: 0x8000,
};
export const GROUP_TYPES = ['all', 'select', 'indirect', 'ff'] as const;
export const OFPGT_SELECT = 1;
export const OFPGT_INDIRECT = 2;
export const OFPGT_FF = 3;
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;
export const OFPG_ANY = 0xffffffff;
/** OF1.5 bucket ids: the largest real one, and the special ids "first", "last", "all". */
export const BUCKET_MAX = 0xffffff00;
export const BUCKET_FIRST = 0xfffffffd;
export const BUCKET_LAST = 0xfffffffe;
export const BUCKET_ALL = 0xffffffff;

const NTR_VENDOR_ID = 0x0000154d;
const NTRT_SELECTION_METHOD = 1;
const NTR_MAX_SELECTION_METHOD_LEN = 16;
const NXT_GROUP_MOD = 31;

export interface TextBucket {
  /** BUCKET_ALL when not given (an id is generated when encoding for OF1.5). */
  readonly bucket_id: number;
  readonly weight: number;
  /** OVS's 16-bit port space; OFPP.ANY when unwatched. */
  readonly watch_port: number;
  readonly watch_group: number;
  readonly actions: readonly TextAction[];
}

/** One field of a hash selection method, with the mask of its bits that are hashed (all ones when none given). */
export interface SelectionField {
  readonly field: TextField;
  readonly mask: bigint;
}

export interface GroupProps {
  /** "" when none (the OF1.5 NTR selection method property). */
  readonly selection_method: string;
  readonly selection_method_param: bigint;
  readonly fields: readonly SelectionField[];
}

/** A group mod (or, with `command` 'add', a group description) independent of the OpenFlow version. */
export interface TextGroupMod {
  readonly command: GroupCommand;
  readonly group_id: number;
  /** OFPGT_*: 0 all, 1 select, 2 indirect, 3 fast failover. */
  readonly type: number;
  readonly buckets: readonly TextBucket[];
  readonly command_bucket_id: number;
  readonly props: GroupProps;
}

export const NO_GROUP_PROPS: GroupProps = { selection_method: '', selection_method_param: 0n, fields: [] };

// ---------------------------------------------------------------- parsing

const COMMAND_WORDS: readonly [string, GroupCommand][] = [
  ['add', 'add'], ['delete', 'delete'], ['modify', 'modify'], ['add_or_mod', 'add_or_mod'],
  ['insert_bucket', 'insert_bucket'], ['remove_bucket', 'remove_bucket'],
];

function parseSelectionFields(value: string, usable: { p: number }): SelectionField[] {
  const out: SelectionField[] = [];
  for (const { key, value: v, rest } of keyValues(value)) {
    const f = textField(key);
    if (!f) fail(`${rest}: unknown field ${key}`);
    if (out.some((x) => x.field === f)) fail(`${key}: duplicate field`);
    const all = (1n << BigInt(f.bits)) - 1n;
    let mask = all;
    if (v) {
      mask = parseFieldValue(f, v).value;
      if (mask === 0n) fail(`${rest}: values are wildcards here and must not be all-zeros`);
    }
    out.push({ field: f, mask });
    usable.p &= fieldMatchProtocols(f, v ? mask : (1n << BigInt(8 * Math.ceil(f.bits / 8))) - 1n);
  }
  // OVS keeps them as a bitmap over its field ids, so they come out in field-table order.
  const order = (f: TextField) => TEXT_FIELDS.indexOf(f);
  return out.sort((a, b) => order(a.field) - order(b.field));
}

function parseBucket(text: string, type: number, usable: { p: number }): TextBucket {
  let weight = type === OFPGT_SELECT ? 1 : 0;
  let bucketId = BUCKET_ALL;
  let watchPort: number = OFPP.ANY;
  let watchGroup = OFPG_ANY;
  const actions: string[] = [];
  for (const { key, value } of keyValues(text)) {
    const k = key.toLowerCase();
    if (k === 'weight') weight = strToU16(value, 'weight');
    else if (k === 'watch_port') {
      const p = parsePort(value);
      if (p === undefined || (p >= OFPP.MAX && p !== OFPP.ANY && p !== OFPP.CONTROLLER)) fail(`${value}: invalid watch_port`);
      watchPort = p;
    } else if (k === 'watch_group') {
      watchGroup = strToU32(value);
      if (watchGroup > OFPG_MAX) fail(`invalid watch_group id ${watchGroup}`);
    } else if (k === 'bucket_id') {
      bucketId = strToU32(value);
      if (bucketId > BUCKET_MAX) fail(`invalid bucket_id id ${bucketId}`);
      usable.p &= P_OF10_ANY | P_OF15_UP;
    } else if (k === 'action' || k === 'actions') actions.push(value);
    else actions.push(`${key}(${value})`);
  }
  if (!actions.length) fail('bucket must specify actions');
  if (type === OFPGT_FF && watchPort === OFPP.ANY && watchGroup === OFPG_ANY) fail('fast failover bucket requires watch_port or watch_group');
  const list = parseActionList(actions.join(','));
  // OVS's action parser starts the usable set afresh for every bucket's actions.
  usable.p = actionsParseProtocols(list, false);
  return { bucket_id: bucketId, weight, watch_port: watchPort, watch_group: watchGroup, actions: list };
}

/**
 * Parses a group in ovs-ofctl syntax. With `command` 'text', a leading command
 * word (add, delete, modify, add_or_mod, insert_bucket, remove_bucket; any
 * prefix of one) may name the command, as in add-groups files. Returns the
 * group and its usable protocols (usable.ts bits).
 */
export function parseGroupModText(text: string, command: GroupCommand | 'text' = 'add'): { group: TextGroupMod; usable: number } {
  const usable = { p: P_ANY };
  let s = text;
  let cmd: GroupCommand;
  if (command === 'text') {
    s = s.replace(/^[ \t\r\n]*/, '');
    const word = /^[^, \t\r\n]*/.exec(s)?.[0] ?? '';
    const hit = COMMAND_WORDS.find(([w]) => word.length <= w.length && w.startsWith(word));
    cmd = hit ? hit[1] : 'add';
    if (hit) s = s.slice(word.length);
  } else {
    cmd = command;
  }
  const withType = cmd === 'add' || cmd === 'modify' || cmd === 'add_or_mod';
  const withBuckets = withType || cmd === 'insert_bucket';
  const withBucketId = cmd === 'insert_bucket' || cmd === 'remove_bucket';
  if (withBucketId) usable.p &= P_OF10_ANY | P_OF15_UP;

  let groupId = OFPG_ANY;
  let type = 0;
  let hadType = false;
  let commandBucketId = BUCKET_ALL;
  let hadBucketId = false;
  let method = '';
  let param = 0n;
  let fields: SelectionField[] = [];
  const group = (buckets: TextBucket[]): TextGroupMod => ({
    command: cmd, group_id: groupId, type, buckets, command_bucket_id: commandBucketId,
    props: { selection_method: method, selection_method_param: param, fields },
  });
  if (cmd === 'delete' && s === '') {
    groupId = OFPG_ALL;
    return { group: group([]), usable: usable.p };
  }

  const b = s.indexOf('bucket=');
  let bucketText = b < 0 ? undefined : s.slice(b);
  if (b >= 0) {
    if (!withBuckets) fail('bucket is not needed');
    s = s.slice(0, b);
  }
  for (const { key, value } of keyValues(s)) {
    switch (key) {
      case 'command_bucket_id': {
        if (!withBucketId) fail('command bucket id is not needed');
        const named: Record<string, number> = { all: BUCKET_ALL, first: BUCKET_FIRST, last: BUCKET_LAST };
        commandBucketId = named[value] ?? strToU32(value);
        if (commandBucketId > BUCKET_MAX && !Object.values(named).includes(commandBucketId)) fail(`invalid command bucket id ${commandBucketId}`);
        if (commandBucketId === BUCKET_ALL && cmd !== 'remove_bucket') fail('command_bucket_id=all is not permitted');
        hadBucketId = true;
        break;
      }
      case 'group_id':
        groupId = value === 'all' ? OFPG_ALL : strToU32(value);
        if (groupId !== OFPG_ALL && groupId > OFPG_MAX) fail(`invalid group id ${groupId}`);
        break;
      case 'type': {
        if (!withType) fail('type is not needed');
        const t = value === 'fast_failover' ? OFPGT_FF : (GROUP_TYPES as readonly string[]).indexOf(value);
        if (t < 0) fail(`invalid group type ${value}`);
        type = t;
        hadType = true;
        break;
      }
      case 'selection_method':
        if (!withType) fail('selection method is not needed');
        if (value.length >= NTR_MAX_SELECTION_METHOD_LEN) fail(`selection method is longer than ${NTR_MAX_SELECTION_METHOD_LEN - 1} bytes long`);
        method = value;
        usable.p &= P_OF10_ANY | P_OF15_UP;
        break;
      case 'selection_method_param':
        if (!withType) fail('selection method param is not needed');
        param = strToU64(value);
        usable.p &= P_OF10_ANY | P_OF15_UP;
        break;
      case 'fields':
        if (!withType) fail('fields are not needed');
        fields = parseSelectionFields(value, usable);
        usable.p &= P_OF10_ANY | P_OF15_UP;
        break;
      default:
        fail(`unknown keyword ${key}`);
    }
  }
  if (groupId === OFPG_ANY) fail('must specify a group_id');
  if (withType && !hadType) fail('must specify a type');
  if (method !== 'hash' && fields.length) fail('fields may only be specified with "selection_method=hash"');
  if (!method && param !== 0n) fail('selection_method_param is only allowed with "selection_method"');
  if (withBucketId) {
    if (cmd !== 'remove_bucket' && !hadBucketId) fail('must specify a command bucket id');
  } else if (hadBucketId) {
    fail('command bucket id is not needed');
  }

  const buckets: TextBucket[] = [];
  while (bucketText !== undefined) {
    const content = bucketText.slice(bucketText.indexOf('=') + 1);
    const next = content.indexOf('bucket=');
    const bucket = parseBucket(next < 0 ? content : content.slice(0, next), type, usable);
    buckets.push(bucket);
    if (cmd !== 'insert_bucket' && type !== OFPGT_SELECT && bucket.weight) fail('Only select groups can have bucket weights.');
    bucketText = next < 0 ? undefined : content.slice(next);
  }
  if (type === OFPGT_INDIRECT && buckets.length > 1) fail('Indirect groups can have at most one bucket.');
  return { group: group(buckets), usable: usable.p };
}

/** Parses a group in ovs-ofctl syntax (see parseGroupModText). */
export function parseGroupMod(text: string, command: GroupCommand | 'text' = 'add'): TextGroupMod {
  return parseGroupModText(text, command).group;
}

// ---------------------------------------------------------------- to and from the wire

const ones = (bits: number) => (1n << BigInt(bits)) - 1n;
const port32 = (p: number) => (p >= OFPP.MAX ? p + 0xffff0000 : p);
const port16 = (p: number) => (p >= 0xffffff00 ? p - 0xffff0000 : p);

/** OF1.5 bucket ids: the given ones, and for the others the lowest ids no later bucket names (OVS's id pool). */
function bucketIds(buckets: readonly TextBucket[]): number[] {
  let pool: Set<number> | undefined;
  let next = 0;
  return buckets.map((b, i) => {
    if (b.bucket_id <= BUCKET_MAX) return b.bucket_id;
    pool ??= new Set(buckets.slice(i + 1).map((x) => x.bucket_id).filter((id) => id <= BUCKET_MAX));
    let id = next;
    if (pool.has(id)) for (id = 0; pool.has(id); id++);
    pool.add(id);
    next = id + 1;
    return id;
  });
}

/** The value bytes of a selection field (its mask), as the OXM array of the NTR property carries it. */
function selectionFieldBytes(sf: SelectionField, version: number): Uint8Array {
  const mf = FIELD_BY_NAME.get(sf.field.tsw ?? sf.field.name);
  if (!mf) throw new RangeError(`${sf.field.name} cannot be a selection field on the wire`);
  const code = codeFor(mf, version);
  const n = code.bytes ?? mf.bytes;
  const w = new Writer(n + 8);
  w.u32(((code.cls << 16) | (code.field << 9) | n) >>> 0);
  if (code.experimenter !== undefined) w.u32(code.experimenter);
  for (let i = n - 1; i >= 0; i--) w.u8(Number((sf.mask >> BigInt(8 * i)) & 0xffn));
  return w.buf.subarray(0, w.pos);
}

function selectionProp(props: GroupProps, version: number): RawProp {
  const oxms = props.fields.map((f) => selectionFieldBytes(f, version));
  const w = new Writer(36 + oxms.reduce((n, b) => n + b.length, 0));
  w.u32(NTR_VENDOR_ID);
  w.u32(NTRT_SELECTION_METHOD);
  w.u32(0);
  const name = new TextEncoder().encode(props.selection_method);
  w.bytes(name);
  w.zeros(NTR_MAX_SELECTION_METHOD_LEN - name.length);
  w.u64(props.selection_method_param);
  for (const b of oxms) w.bytes(b);
  return { type: 0xffff, data: w.buf.subarray(0, w.pos), raw: true };
}

function parseSelectionProp(data: Uint8Array): GroupProps | undefined {
  const r = Reader.of(data);
  if (data.length < 36 || r.u32() !== NTR_VENDOR_ID || r.u32() !== NTRT_SELECTION_METHOD) return undefined;
  r.u32();
  const name = r.bytes(NTR_MAX_SELECTION_METHOD_LEN);
  const end = name.indexOf(0);
  const method = new TextDecoder().decode(end < 0 ? name : name.subarray(0, end));
  const param = r.u64();
  const fields: SelectionField[] = [];
  while (r.remaining >= 4) {
    const header = r.u32();
    const cls = header >>> 16;
    const exp = cls === 0xffff ? r.u32() : undefined;
    const n = header & 0x7f;
    const mf = [...FIELD_BY_NAME.values()].find((m) => m.codes.some((c) => c.cls === cls && c.field === ((header >>> 9) & 0x7f) && c.experimenter === exp));
    const f = mf && (textField(mf.name) ?? TEXT_FIELDS.find((t) => t.tsw === mf.name));
    if (!f) throw new OfError('OFPBPC_BAD_VALUE', `selection field header 0x${header.toString(16)}`);
    let mask = 0n;
    for (const byte of r.bytes(n)) mask = (mask << 8n) | BigInt(byte);
    fields.push({ field: f, mask: mask & ones(f.bits) });
  }
  return { selection_method: method, selection_method_param: param, fields };
}

const bucketProps = propList<{ type: 0; weight: number } | { type: 1; watch_port: number } | { type: 2; watch_group: number }>(
  [[0, { weight: u16, _pad: pad(2) }], [1, { watch_port: u32 }], [2, { watch_group: u32 }]], 'group bucket property',
);
const rawGroupProps = tlvList<RawProp>(new Map(), {
  align: 8, lenError: 'OFPBPC_BAD_LEN', what: 'group property', raw: (t) => ({ ...t, raw: true }), unraw: (v) => v,
});

/** OVS's NXT_GROUP_MOD (OF1.0): the OF1.5 group mod layout, Nicira vendor header, OF1.0 actions in the buckets. */
const nxGroupMod: Codec<unknown> = struct({
  _vendor: constant(4, NX_VENDOR_ID), _subtype: constant(4, NXT_GROUP_MOD),
  command: u16, type: u8, _pad: pad(1), group_id: u32, _bucket_array_len: lengthOf('buckets'), _pad2: pad(2), command_bucket_id: u32,
  buckets: list(struct({
    len: length16, _action_array_len: lengthOf('actions'), bucket_id: u32, actions: actionList(1), properties: bucketProps,
  }, { what: 'ofp15_bucket', lenError: 'OFPGMFC_BAD_BUCKET' }), 'buckets'),
  properties: rawGroupProps,
}, { what: 'nx_group_mod' });

function bucket15(b: TextBucket, id: number, type: number, actions: Action[]): Bucket15 {
  const properties: Bucket15['properties'] = [];
  if (type === OFPGT_SELECT || b.weight) properties.push({ type: 0, weight: b.weight });
  if (b.watch_port !== OFPP.ANY) properties.push({ type: 1, watch_port: port32(b.watch_port) });
  if (b.watch_group !== OFPG_ANY) properties.push({ type: 2, watch_group: b.watch_group });
  return { bucket_id: id, actions, properties };
}

function bucketActions(b: TextBucket, version: number): Action[] {
  return actionsToWire(version > 1 ? withVlanPushes(b.actions, undefined) : b.actions, protocolOfVersion(version));
}

function body15(g: TextGroupMod, version: number): GroupMod15 {
  const ids = bucketIds(g.buckets);
  return {
    command: GROUP_COMMANDS[g.command], type: g.type, group_id: g.group_id, command_bucket_id: g.command_bucket_id,
    buckets: g.buckets.map((b, i) => bucket15(b, ids[i], g.type, bucketActions(b, version))),
    properties: g.props.selection_method ? [selectionProp(g.props, version)] : [],
  };
}

/**
 * The GROUP_MOD a group mod becomes in `version` (4-6). OF1.1-1.4 know no
 * bucket commands and no selection method; OF1.0 groups travel as
 * NXT_GROUP_MOD (see nxGroupModBytes).
 */
export function groupModMessage(g: TextGroupMod, version: number, xid = 1): OfMessage {
  if (version >= 6) return { version, xid, kind: 'GROUP_MOD', body: body15(g, version) };
  if (version < 4) throw new RangeError(`group mods in OpenFlow version ${version} are NXT_GROUP_MOD (nxGroupModBytes)`);
  if (g.command === 'insert_bucket' || g.command === 'remove_bucket') throw new RangeError(`${g.command} needs OpenFlow 1.5`);
  const body: GroupMod11 = {
    command: GROUP_COMMANDS[g.command], type: g.type, group_id: g.group_id,
    buckets: g.buckets.map((b): Bucket11 => ({
      weight: b.weight, watch_port: port32(b.watch_port), watch_group: b.watch_group, actions: bucketActions(b, version),
    })),
  };
  return { version, xid, kind: 'GROUP_MOD', body };
}

/** OVS's OF1.0 group mod, NXT_GROUP_MOD, as message bytes. */
export function nxGroupModBytes(g: TextGroupMod, xid = 1): Uint8Array {
  const body = encode(nxGroupMod, body15(g, 1));
  const w = new Writer(8 + body.length);
  w.u8(1);
  w.u8(4);
  w.u16(8 + body.length);
  w.u32(xid);
  w.bytes(body);
  return w.buf.subarray(0, w.pos);
}

function commandOf(n: number): GroupCommand {
  const hit = (Object.entries(GROUP_COMMANDS) as [GroupCommand, number][]).find(([, v]) => v === n);
  if (!hit) throw new OfError('OFPGMFC_BAD_COMMAND', `group command ${n}`);
  return hit[0];
}

type WireBucket = Bucket11 | Bucket15;

function bucketFromWire(b: WireBucket, type: number, version: number): TextBucket {
  const actions = actionsFromWire(b.actions, version);
  if (!('properties' in b)) {
    return { bucket_id: BUCKET_ALL, weight: b.weight, watch_port: port16(b.watch_port), watch_group: b.watch_group, actions };
  }
  let weight = type === OFPGT_SELECT ? 1 : 0;
  let watchPort: number = OFPP.ANY;
  let watchGroup = OFPG_ANY;
  for (const p of b.properties) {
    if (p.type === 0 && 'weight' in p) weight = p.weight;
    else if (p.type === 1 && 'watch_port' in p) watchPort = port16(p.watch_port);
    else if (p.type === 2 && 'watch_group' in p) watchGroup = p.watch_group;
  }
  return { bucket_id: b.bucket_id, weight, watch_port: watchPort, watch_group: watchGroup, actions };
}

/** A decoded group (mod body or group desc entry) of wire `version` as a TextGroupMod. */
export function groupFromWire(
  g: { command?: number; type: number; group_id: number; command_bucket_id?: number; buckets: readonly WireBucket[]; properties?: readonly RawProp[] },
  version: number,
): TextGroupMod {
  let props = NO_GROUP_PROPS;
  for (const p of g.properties ?? []) {
    if (p.type === 0xffff) props = parseSelectionProp(p.data) ?? props;
  }
  return {
    command: commandOf(g.command ?? 0), group_id: g.group_id, type: g.type,
    buckets: g.buckets.map((b) => bucketFromWire(b, g.type, version)),
    command_bucket_id: g.command_bucket_id ?? BUCKET_ALL, props,
  };
}

/** A decoded GROUP_MOD message as a TextGroupMod. */
export function groupModFromWire(msg: OfMessage): TextGroupMod {
  if (msg.kind !== 'GROUP_MOD') throw new RangeError(`not a GROUP_MOD: ${msg.kind}`);
  return groupFromWire(msg.body as GroupMod11 | GroupMod15, msg.version);
}

/** Decodes NXT_GROUP_MOD message bytes (see nxGroupModBytes). */
export function nxGroupModFromBytes(bytes: Uint8Array): TextGroupMod {
  const body = decode(nxGroupMod, bytes.subarray(8)) as GroupMod15;
  return groupFromWire(body, 1);
}

// ---------------------------------------------------------------- printing

function bucketIdText(id: number): string {
  return id === BUCKET_FIRST ? 'first' : id === BUCKET_LAST ? 'last' : id === BUCKET_ALL ? 'all' : String(id);
}

function maskText(f: TextField, m: bigint): string {
  switch (f.format) {
    case 'eth': return formatEth(m);
    case 'ipv4': return formatIpv4(m);
    case 'ipv6': return formatIpv6(m);
    case 'port16': case 'port32': return formatPort(Number(m));
    case 'dec': return String(m);
    default: return '0x' + m.toString(16);
  }
}

/**
 * A group as ovs-ofctl prints it (dump-groups lines, the body of group mods):
 * `group_id=1,type=select,selection_method=hash,fields(ip_src,ip_dst),bucket=bucket_id:0,weight:2,actions=output:1`.
 * Bucket ids appear for OF1.0 (NXT_GROUP_MOD) and OF1.5 only.
 */
export function formatGroup(g: Pick<TextGroupMod, 'group_id' | 'type' | 'buckets' | 'props'>, version: number, suppressType = false): string {
  let s = `group_id=${g.group_id}`;
  if (!suppressType) s += `,type=${GROUP_TYPES[g.type] ?? 'unknown'}`;
  const p = g.props;
  if (p.selection_method) {
    s += `,selection_method=${p.selection_method}`;
    if (p.selection_method_param) s += `,selection_method_param=${p.selection_method_param}`;
    const fields = p.fields.map((f) => f.field.name + (f.mask === ones(f.field.bits) ? '' : `=${maskText(f.field, f.mask)}`));
    if (fields.length === 1) s += `,fields=${fields[0]}`;
    else if (fields.length > 1) s += `,fields(${fields.join(',')})`;
  }
  s += ',';
  const withIds = version === 1 || version >= 6;
  const protocol = protocolOfVersion(version);
  for (const b of g.buckets) {
    s += 'bucket=';
    if (withIds) s += `bucket_id:${bucketIdText(b.bucket_id)},`;
    if (b.weight !== (g.type === OFPGT_SELECT ? 1 : 0)) s += `weight:${b.weight},`;
    if (b.watch_port !== OFPP.ANY) s += `watch_port:${formatPort(b.watch_port)},`;
    if (b.watch_group !== OFPG_ANY) s += `watch_group:${b.watch_group},`;
    s += `actions=${b.actions.length ? formatActionList(b.actions, protocol) : 'drop'},`;
  }
  return s.replace(/,$/, '');
}

const COMMAND_NAMES: Readonly<Record<GroupCommand, string>> = {
  add: 'ADD', modify: 'MOD', add_or_mod: 'ADD_OR_MOD', delete: 'DEL', insert_bucket: 'INSERT_BUCKET', remove_bucket: 'REMOVE_BUCKET',
};

/** The body ovs-ofctl prints for a group mod: "\n ADD group_id=…" (after the message name). */
export function formatGroupMod(g: TextGroupMod, version: number): string {
  const bucketCommand = g.command === 'insert_bucket' || g.command === 'remove_bucket';
  let s = `\n ${COMMAND_NAMES[g.command]} `;
  if (bucketCommand && (version === 1 || version >= 6)) s += `command_bucket_id:${bucketIdText(g.command_bucket_id)},`;
  return s + formatGroup(g, version, bucketCommand);
}

// ---------------------------------------------------------------- VLAN pushes

/**
 * OF1.1+ has no "set the VLAN, adding a tag if there is none": OVS sends
 * mod_vlan_vid/mod_vlan_pcp as push_vlan + set_field where it does not know a
 * tag is present. `hasVlan` is what the flow's match promises; undefined (group
 * buckets, which OVS never checks against a match) means never known.
 */
export function withVlanPushes(list: readonly TextAction[], hasVlan: boolean | undefined): TextAction[] {
  let vlan = hasVlan ?? false;
  const track = hasVlan !== undefined;
  const out: TextAction[] = [];
  for (const a of list) {
    if (a.type === 'mod_vlan_vid' || a.type === 'mod_vlan_pcp') {
      if (!vlan) out.push({ type: 'push_vlan', ethertype: 0x8100 });
      vlan = track;
    } else if (a.type === 'push_vlan') vlan = track;
    else if (a.type === 'strip_vlan') vlan = false;
    else if (a.type === 'set_field' && !a.load && a.field.name === 'vlan_tci') vlan = track && (a.value & 0x1000n) !== 0n;
    if (a.type === 'clone') out.push({ ...a, actions: withVlanPushes(a.actions, track ? vlan : undefined) });
    else if (a.type === 'write_actions') out.push({ ...a, actions: withVlanPushes(a.actions, track ? vlan : undefined) });
    else out.push(a);
  }
  return out;
}
