// Between the wire and the text: decoded actions and instructions (the
// codec's Action/Instruction of one OpenFlow version) as the version-free
// TextAction list ovs-ofctl would print for them, and back, so a parsed flow
// can be sent as a FLOW_MOD. NXM/OXM headers become field names through the
// match-field table; ofs_nbits become bit ranges; 32-bit ports become OVS's
// 16-bit port space.

import type { Action, Controller2Prop, Instruction, LearnSpec, NatRange } from '../actions.js';
import { NXAC2PT, NX_LEARN_DST_LOAD, NX_LEARN_DST_MATCH, NX_LEARN_DST_OUTPUT } from '../actions.js';
import { OfError } from '../errors.js';
import { FIELD_BY_CODE, FIELD_BY_NAME, OFPXMC_OPENFLOW_BASIC, codeFor, codeKey } from '../fields.js';
import type { Match } from '../match.js';
import type { OfMessage } from '../messages.js';
import type { FlowCommand, FlowFlag, TextFlow } from './flow.js';
import {
  formatActions, formatSubfield, parseSubfield, protocolVersion, splitTopLevel, type Protocol, type SubfieldRef, type TextAction,
} from './actions.js';
import { subfieldField, textField, type TextField } from './fields.js';
import { formatMatch, matchToSlots, parseFieldValue } from './match.js';
import { OFPP, formatEth, formatIpv4, formatIpv6, formatPort, parseEth, parseIpv6 } from './values.js';

type Of<T extends { type: string }, K extends string> = Extract<T, { type: K }>;

const ones = (bits: number) => (1n << BigInt(bits)) - 1n;

/** The protocol whose printing rules apply to actions decoded from wire `version`. */
export function protocolOfVersion(version: number): Protocol {
  const p: Record<number, Protocol> = { 1: 'OpenFlow10', 2: 'OpenFlow11', 3: 'OpenFlow12', 4: 'OpenFlow13', 5: 'OpenFlow14', 6: 'OpenFlow15' };
  return p[version] ?? 'OpenFlow15';
}

/** An OF1.1+ 32-bit port in OVS's 16-bit space; OF1.0 ports pass as they are. */
/** An OF1.1+ port in OVS's 16-bit space; one with no 16-bit form is OFPBAC_BAD_OUT_PORT, as OVS answers. */
function port16(p: number, version: number): number {
  if (version <= 1) return p;
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p >= 0xff00) throw new OfError('OFPBAC_BAD_OUT_PORT', `port ${p} has no 16-bit form`);
  return p;
}

function port32(p: number, version: number): number {
  return version > 1 && p >= OFPP.MAX ? p + 0xffff0000 : p;
}

// ---------------------------------------------------------------- fields and subfields

/** The text field of an NXM/OXM header (class, field; the hasmask and length bits are ignored). */
export function fieldOfHeader(header: number): TextField {
  const cls = header >>> 16;
  const hit = FIELD_BY_CODE.get(codeKey(cls, (header >>> 9) & 0x7f));
  const f = hit && (cls === OFPXMC_OPENFLOW_BASIC && hit.field.name === 'in_port' ? textField('in_port_oxm') : textField(hit.field.name));
  if (!f) throw new OfError('OFPBAC_BAD_ARGUMENT', `field header 0x${header.toString(16)} has no text name`);
  return f;
}

/** The NXM header OVS writes for a text field (NXM code where the field has one, else its OXM code). */
export function headerOfField(f: TextField, len?: number): number {
  const mf = FIELD_BY_NAME.get(f.tsw ?? f.name);
  if (!mf) throw new RangeError(`${f.name} has no wire code`);
  const c = codeFor(mf, 0);
  // A 4-byte header cannot name an experimenter field (NSH, ERSPAN, GTP-U); the codec's move/learn/multipath carry only those.
  if (c.experimenter !== undefined) throw new RangeError(`${f.name} has an 8-byte experimenter header, which move, learn, multipath and bundle cannot carry`);
  return ((c.cls << 16) | (c.field << 9) | (mf.variable && len !== undefined ? len : c.bytes ?? mf.bytes)) >>> 0;
}

/** The field's 4-byte OXM header in `version` (OF1.5's copy_field), or null when it only has an 8-byte experimenter one. */
function oxmHeaderOfField(f: TextField, version: number, len?: number): number | null {
  const mf = FIELD_BY_NAME.get(f.tsw ?? f.name);
  if (!mf) return null;
  const c = codeFor(mf, version);
  if (c.experimenter !== undefined) return null;
  return ((c.cls << 16) | (c.field << 9) | (mf.variable && len !== undefined ? len : c.bytes ?? mf.bytes)) >>> 0;
}

function subfield(header: number, ofs: number, n_bits: number): SubfieldRef {
  const field = fieldOfHeader(header);
  if (ofs + n_bits > field.bits) throw new OfError('OFPBAC_BAD_ARGUMENT', `${field.name}[${ofs}..${ofs + n_bits - 1}] is wider than the field`);
  return { field, ofs, n_bits };
}

/** A subfield from NXM's ofs_nbits encoding (offset << 6 | n_bits - 1). */
function subfieldOfsNbits(header: number, ofsNbits: number): SubfieldRef {
  return subfield(header, ofsNbits >> 6, (ofsNbits & 0x3f) + 1);
}

export function ofsNbits(sf: SubfieldRef): number {
  return (sf.ofs << 6) | (sf.n_bits - 1);
}

// ---------------------------------------------------------------- names of Nicira parameters

const HASH_FIELDS = ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'];
const MP_ALGORITHMS = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'];
const BUNDLE_ALGORITHMS = ['active_backup', 'hrw'];
const PACKET_IN_REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];
const CT_ALGS: Readonly<Record<number, string>> = { 21: 'ftp', 69: 'tftp' };
const NX_CT_F = { COMMIT: 1, FORCE: 2 } as const;
const NX_NAT_F = { SRC: 1, DST: 2, PERSISTENT: 4, PROTO_HASH: 8, PROTO_RANDOM: 16 } as const;
const NX_LEARN_F = { SEND_FLOW_REM: 1, DELETE_LEARNED: 2, WRITE_RESULT: 4 } as const;

function nameOf(table: readonly string[], i: number, what: string): string {
  const n = table[i];
  if (n === undefined) throw new OfError('OFPBAC_BAD_ARGUMENT', `${what} ${i}`);
  return n;
}

// ---------------------------------------------------------------- nat and learn text

/** OVS's format_NAT, without the "nat" word: "" or "(src=…,persistent)". */
function natText(flags: number, r: NatRange): string {
  if (!(flags & (NX_NAT_F.SRC | NX_NAT_F.DST))) return '';
  let s = flags & NX_NAT_F.SRC ? 'src' : 'dst';
  const v6 = (b: Uint8Array) => formatIpv6(b.reduce((n, x) => (n << 8n) | BigInt(x), 0n));
  const min = r.ipv4_min ?? (r.ipv6_min ? v6(r.ipv6_min) : undefined);
  const max = r.ipv4_max ?? (r.ipv6_max ? v6(r.ipv6_max) : undefined);
  if (min !== undefined) {
    const bracket = r.ipv6_min !== undefined && r.proto_min !== undefined;
    s += '=' + (bracket ? `[${min}]` : min);
    if (max !== undefined && max !== min) s += '-' + (bracket ? `[${max}]` : max);
    if (r.proto_min !== undefined) {
      s += `:${r.proto_min}`;
      if (r.proto_max !== undefined && r.proto_max !== r.proto_min) s += `-${r.proto_max}`;
    }
  }
  if (flags & NX_NAT_F.PERSISTENT) s += ',persistent';
  if (flags & NX_NAT_F.PROTO_HASH) s += ',hash';
  if (flags & NX_NAT_F.PROTO_RANDOM) s += ',random';
  return s;
}

/** ds_put_hex: "0x" and the bytes without leading zero bytes, "0" when all are zero. */
function putHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) {
    if (s) s += x.toString(16).padStart(2, '0');
    else if (x) s = '0x' + x.toString(16);
  }
  return s || '0';
}

function valueText(f: TextField, v: bigint): string {
  switch (f.format) {
    case 'eth': return formatEth(v);
    case 'ipv4': return formatIpv4(v);
    case 'ipv6': return formatIpv6(v);
    case 'port16': case 'port32': return formatPort(Number(v));
    case 'dec': return String(v);
    default: return '0x' + v.toString(16);
  }
}

interface LearnWire {
  idle_timeout: number; hard_timeout: number; priority: number; cookie: bigint; flags: number; table_id: number;
  fin_idle_timeout: number; fin_hard_timeout: number; specs: LearnSpec[];
}

/** OVS's learn_format, without "learn(" and ")". */
function learnText(l: LearnWire): string {
  const parts = [`table=${l.table_id}`];
  if (l.idle_timeout) parts.push(`idle_timeout=${l.idle_timeout}`);
  if (l.hard_timeout) parts.push(`hard_timeout=${l.hard_timeout}`);
  if (l.fin_idle_timeout) parts.push(`fin_idle_timeout=${l.fin_idle_timeout}`);
  if (l.fin_hard_timeout) parts.push(`fin_hard_timeout=${l.fin_hard_timeout}`);
  if (l.priority !== 0x8000) parts.push(`priority=${l.priority}`);
  if (l.flags & NX_LEARN_F.SEND_FLOW_REM) parts.push('send_flow_rem');
  if (l.flags & NX_LEARN_F.DELETE_LEARNED) parts.push('delete_learned');
  if (l.cookie) parts.push(`cookie=0x${l.cookie.toString(16)}`);
  if (l.flags & NX_LEARN_F.WRITE_RESULT) parts.push('write_result');
  for (const s of l.specs) {
    const nBytes = Math.ceil(s.n_bits / 8);
    const dst = s.dst && subfield(s.dst.field, s.dst.ofs, s.n_bits);
    if ('imm' in s.src) {
      const imm = s.src.imm.subarray(s.src.imm.length - nBytes);
      if (s.dst_type === NX_LEARN_DST_MATCH && dst) {
        if (dst.ofs === 0 && dst.n_bits === dst.field.bits) {
          parts.push(`${dst.field.name}=${valueText(dst.field, imm.reduce((n, x) => (n << 8n) | BigInt(x), 0n))}`);
        } else {
          parts.push(`${formatSubfield(dst)}=${putHex(imm)}`);
        }
      } else if (s.dst_type === NX_LEARN_DST_LOAD && dst) {
        parts.push(`load:${putHex(imm)}->${formatSubfield(dst)}`);
      }
      continue;
    }
    const src = subfield(s.src.field, s.src.ofs, s.n_bits);
    if (s.dst_type === NX_LEARN_DST_MATCH && dst) {
      const same = src.field === dst.field && src.ofs === dst.ofs;
      parts.push(formatSubfield(dst) + (same ? '' : `=${formatSubfield(src)}`));
    } else if (s.dst_type === NX_LEARN_DST_LOAD && dst) {
      parts.push(`load:${formatSubfield(src)}->${formatSubfield(dst)}`);
    } else if (s.dst_type === NX_LEARN_DST_OUTPUT) {
      parts.push(`output:${formatSubfield(src)}`);
    }
  }
  return parts.join(',');
}

// ---------------------------------------------------------------- wire → text

function controller(max_len: number, reason: number, id: number, bare: boolean): TextAction {
  // OVS prints reason "action" as no reason at all.
  const r = reason === 1 ? undefined : nameOf(PACKET_IN_REASONS, reason, 'controller reason');
  return { type: 'controller', max_len, reason: r, id, pause: false, bare };
}

/** NXAST_CONTROLLER2: properties over OVS's defaults (all bytes, id 0, reason action, no meter). */
function controller2(props: readonly Controller2Prop[]): TextAction {
  let max_len = 0xffff, id = 0, reason = 1, meter = 0, pause = false;
  let userdata: Uint8Array | undefined;
  for (const p of props) {
    if ('raw' in p) throw new OfError('OFPBPC_BAD_TYPE', `controller2 property ${p.type}`);
    switch (p.type) {
      case NXAC2PT.MAX_LEN: max_len = p.value; break;
      case NXAC2PT.CONTROLLER_ID: id = p.value; break;
      case NXAC2PT.REASON: reason = p.value; break;
      case NXAC2PT.USERDATA: userdata = p.data; break;
      case NXAC2PT.PAUSE: pause = true; break;
      case NXAC2PT.METER_ID: meter = p.value; break;
    }
  }
  const c = controller(max_len, reason, id, false) as Of<TextAction, 'controller'>;
  return { ...c, userdata, pause, meter_id: meter || undefined, v2: true };
}

/** The TextAction OVS decodes one wire action of `version` into. */
export function actionFromWire(a: Action, version: number): TextAction {
  switch (a.type) {
    case 'output': {
      const port = port16(a.port, version);
      if (port === OFPP.CONTROLLER) return controller(a.max_len, 1, 0, true);
      return { type: 'output', port, max_len: a.max_len };
    }
    case 'set_vlan_vid': return { type: 'mod_vlan_vid', vid: a.vlan_vid };
    case 'set_vlan_pcp': return { type: 'mod_vlan_pcp', pcp: a.vlan_pcp };
    case 'strip_vlan': return { type: 'strip_vlan', pop: false };
    case 'pop_vlan': return { type: 'strip_vlan', pop: true };
    case 'push_vlan': return { type: 'push_vlan', ethertype: a.ethertype };
    case 'set_dl_src': return { type: 'mod_dl_src', mac: parseEth(a.dl_addr) ?? 0n };
    case 'set_dl_dst': return { type: 'mod_dl_dst', mac: parseEth(a.dl_addr) ?? 0n };
    case 'set_nw_src': return { type: 'mod_nw_src', ip: BigInt(a.nw_addr) };
    case 'set_nw_dst': return { type: 'mod_nw_dst', ip: BigInt(a.nw_addr) };
    case 'set_nw_tos': return { type: 'mod_nw_tos', value: a.nw_tos };
    case 'set_tp_src': return { type: 'mod_tp_src', value: a.tp_port };
    case 'set_tp_dst': return { type: 'mod_tp_dst', value: a.tp_port };
    case 'set_nw_ttl': return { type: 'mod_nw_ttl', value: a.nw_ttl };
    case 'enqueue': return { type: 'enqueue', port: a.port, queue: a.queue_id };
    case 'set_mpls_ttl': return { type: 'set_mpls_ttl', value: a.mpls_ttl };
    case 'dec_mpls_ttl': return { type: 'dec_mpls_ttl' };
    case 'push_mpls': return { type: 'push_mpls', ethertype: a.ethertype };
    case 'pop_mpls': return { type: 'pop_mpls', ethertype: a.ethertype };
    case 'set_queue': case 'nx_set_queue': return { type: 'set_queue', queue: a.queue_id };
    case 'pop_queue': return { type: 'pop_queue' };
    case 'group': return { type: 'group', group: a.group_id };
    case 'meter': return { type: 'meter', meter: a.meter_id };
    case 'dec_nw_ttl': case 'nx_dec_ttl': return { type: 'dec_ttl', ids: [] };
    case 'dec_ttl_cnt_ids': return { type: 'dec_ttl', ids: [...a.cnt_ids] };
    case 'set_field': case 'reg_load2': {
      const f = textField(a.field.field === 'in_port' ? 'in_port_oxm' : a.field.field) ?? subfieldField(a.field.field);
      if (!f) throw new OfError('OFPBAC_BAD_SET_TYPE', a.field.field);
      let value = a.field.value;
      if (f.format === 'port32' && value >= 0xffffff00n) value -= 0xffff0000n;
      const len = a.field.len === undefined ? {} : { len: a.field.len };
      return a.field.mask === undefined || a.field.mask === ones(f.bits)
        ? { type: 'set_field', field: f, value, as: 'set_field', ...len }
        : { type: 'set_field', field: f, value, mask: a.field.mask, as: 'set_field', ...len };
    }
    case 'reg_load': {
      const dst = subfieldOfsNbits(a.dst, a.ofs_nbits);
      if (dst.n_bits < 64 && a.value >> BigInt(dst.n_bits)) throw new OfError('OFPBAC_BAD_ARGUMENT', 'reg_load value wider than its destination');
      return { type: 'set_field', field: dst.field, value: a.value, load: dst, as: 'load' };
    }
    case 'reg_move': return { type: 'move', src: subfield(a.src, a.src_ofs, a.n_bits), dst: subfield(a.dst, a.dst_ofs, a.n_bits) };
    case 'copy_field': return { type: 'move', src: subfield(a.src, a.src_offset, a.n_bits), dst: subfield(a.dst, a.dst_offset, a.n_bits) };
    case 'resubmit': return { type: 'resubmit', port: a.in_port, ct: false, paren: false };
    case 'resubmit_table': case 'resubmit_table_ct': {
      const table = a.table === 0xff ? undefined : a.table;
      const ct = a.type === 'resubmit_table_ct';
      return { type: 'resubmit', port: a.in_port, table, ct, paren: table !== undefined || ct };
    }
    case 'set_tunnel': return { type: 'set_tunnel', tun_id: BigInt(a.tun_id), wide: false };
    case 'set_tunnel64': return { type: 'set_tunnel', tun_id: a.tun_id, wide: true };
    case 'note': return { type: 'note', data: a.note };
    case 'exit': return { type: 'exit' };
    case 'ct_clear': return { type: 'ct_clear' };
    case 'fin_timeout': return { type: 'fin_timeout', idle: a.fin_idle_timeout, hard: a.fin_hard_timeout };
    case 'controller': return controller(a.max_len, a.reason, a.controller_id, false);
    case 'controller2': return controller2(a.properties);
    case 'nx_push_mpls': return { type: 'push_mpls', ethertype: a.ethertype };
    case 'nx_pop_mpls': return { type: 'pop_mpls', ethertype: a.ethertype };
    case 'nx_set_mpls_ttl': return { type: 'set_mpls_ttl', value: a.ttl };
    case 'nx_dec_mpls_ttl': return { type: 'dec_mpls_ttl' };
    case 'nx_set_mpls_label': return { type: 'set_mpls_label', value: a.label };
    case 'nx_set_mpls_tc': return { type: 'set_mpls_tc', value: a.tc };
    case 'nx_group': return { type: 'group', group: a.group_id };
    case 'output_trunc': return { type: 'output_trunc', port: a.port, max_len: a.max_len };
    case 'sample': return { ...a, type: 'sample', sampling_port: OFPP.NONE, direction: 0, raw: 1 };
    case 'sample2': return { ...a, type: 'sample', direction: 0, raw: 2 };
    case 'sample3': return { ...a, type: 'sample', raw: 3 };
    case 'write_metadata_nx': return { type: 'write_metadata', value: a.metadata, mask: a.mask };
    case 'conjunction': return { type: 'conjunction', id: a.id, clause: a.clause + 1, n_clauses: a.n_clauses };
    case 'output_reg': return { type: 'output_reg', src: subfieldOfsNbits(a.src, a.ofs_nbits), max_len: a.max_len };
    case 'multipath': {
      const args = `${nameOf(HASH_FIELDS, a.fields, 'hash fields')},${a.basis},${nameOf(MP_ALGORITHMS, a.algorithm, 'multipath algorithm')},${a.max_link + 1},${a.arg}`;
      return { type: 'multipath', args, dst: subfieldOfsNbits(a.dst, a.ofs_nbits) };
    }
    case 'bundle': case 'bundle_load': {
      const head = `${nameOf(HASH_FIELDS, a.fields, 'hash fields')},${a.basis},${nameOf(BUNDLE_ALGORITHMS, a.algorithm, 'bundle algorithm')},ofport`;
      const members = [...a.members];
      return a.type === 'bundle' ? { type: 'bundle', head, members } : { type: 'bundle', head, members, dst: subfieldOfsNbits(a.dst, a.ofs_nbits) };
    }
    case 'learn': return { type: 'learn', text: learnText(a) };
    case 'nat': return { type: 'nat', text: natText(a.flags, a.range) };
    case 'clone': return { type: 'clone', actions: actionsFromWire(a.actions, version) };
    case 'ct': {
      const inner = actionsFromWire(a.actions, version);
      const nat = inner[0]?.type === 'nat' ? inner.shift() as Of<TextAction, 'nat'> : undefined;
      let zone: string | undefined;
      if (a.zone_src) zone = formatSubfield(subfieldOfsNbits(a.zone_src, a.zone));
      else if (a.zone) zone = String(a.zone);
      return {
        type: 'ct', commit: (a.flags & NX_CT_F.COMMIT) !== 0, force: (a.flags & NX_CT_F.FORCE) !== 0,
        table: a.recirc_table === 0xff ? undefined : a.recirc_table, zone, alg: a.alg ? (CT_ALGS[a.alg] ?? String(a.alg)) : undefined,
        nat: nat?.text, exec: inner,
      };
    }
    default:
      throw new OfError('OFPBAC_BAD_TYPE', `${a.type} has no text form`);
  }
}

export function actionsFromWire(list: readonly Action[], version: number): TextAction[] {
  return list.map((a) => actionFromWire(a, version));
}

/** Instructions as one TextAction list: apply_actions inline, the others as their own actions. */
export function instructionsFromWire(list: readonly Instruction[], version: number): TextAction[] {
  const out: TextAction[] = [];
  for (const i of list) {
    switch (i.type) {
      case 'apply_actions': out.push(...actionsFromWire(i.actions, version)); break;
      case 'write_actions': out.push({ type: 'write_actions', actions: actionsFromWire(i.actions, version) }); break;
      case 'clear_actions': out.push({ type: 'clear_actions' }); break;
      case 'goto_table': out.push({ type: 'goto_table', table: i.table_id }); break;
      case 'write_metadata': out.push({ type: 'write_metadata', value: i.metadata, mask: i.metadata_mask }); break;
      default: {
        // The meter instruction (OF1.1-1.4) is missing from the codec's union type.
        const m = i as { type: string; meter_id?: number };
        if (m.type === 'meter' && m.meter_id !== undefined) out.push({ type: 'meter', meter: m.meter_id });
        else throw new OfError('OFPBIC_UNKNOWN_INST', `${m.type} has no text form`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- printing decoded flows

/** Text of decoded actions, as ovs-ofctl prints them for the version they came in. */
export function formatWireActions(list: readonly TextAction[], version: number): string {
  return formatActions(list, protocolOfVersion(version));
}

/** The match as ovs-ofctl prints a decoded one, "priority=N," first unless the default. */
export function formatWireMatch(match: Match, priority: number): string {
  return formatMatch(matchToSlots(match), priority);
}

// ---------------------------------------------------------------- text → wire

type Act = Record<string, unknown> & { type: string };

function unsupported(a: TextAction, p: Protocol): never {
  throw new RangeError(`${a.type} has no encoding in ${p}`);
}

/** The codec's name and value for a text field in a set_field (dl_vlan and friends are vlan_vid/vlan_pcp there). */
function oxmOf(f: TextField, value: bigint, mask?: bigint, len?: number): { field: string; value: bigint; mask?: bigint; len?: number } {
  let name = f.tsw ?? f.name;
  if (name === 'dl_vlan') { name = 'vlan_vid'; value |= 0x1000n; }
  if (name === 'dl_vlan_pcp') name = 'vlan_pcp';
  if (f.format === 'port16' || f.format === 'port32') value = BigInt(port32(Number(value), 2));
  const e = mask === undefined ? { field: name, value } : { field: name, value, mask };
  return len === undefined ? e : { ...e, len };
}

/** reg_loads of the runs of ones in `mask` (OVS's set_field_to_nxast). */
function regLoads(f: TextField, value: bigint, mask: bigint): Act[] {
  const out: Act[] = [];
  const dst = headerOfField(f);
  for (let ofs = 0; ofs < f.bits;) {
    if (!((mask >> BigInt(ofs)) & 1n)) { ofs++; continue; }
    let n = 0;
    while (ofs + n < f.bits && (mask >> BigInt(ofs + n)) & 1n) n++;
    out.push({ type: 'reg_load', ofs_nbits: (ofs << 6) | (n - 1), dst, value: (value >> BigInt(ofs)) & ones(n) });
    ofs += n;
  }
  return out;
}

const OF10_SET_FIELD: Readonly<Record<string, (v: bigint) => Act>> = {
  eth_src: (v) => ({ type: 'set_dl_src', dl_addr: formatEth(v) }),
  eth_dst: (v) => ({ type: 'set_dl_dst', dl_addr: formatEth(v) }),
  ip_src: (v) => ({ type: 'set_nw_src', nw_addr: Number(v) }),
  ip_dst: (v) => ({ type: 'set_nw_dst', nw_addr: Number(v) }),
  vlan_vid: (v) => ({ type: 'set_vlan_vid', vlan_vid: Number(v & 0xfffn) }),
  dl_vlan: (v) => ({ type: 'set_vlan_vid', vlan_vid: Number(v & 0xfffn) }),
  vlan_pcp: (v) => ({ type: 'set_vlan_pcp', vlan_pcp: Number(v) }),
  dl_vlan_pcp: (v) => ({ type: 'set_vlan_pcp', vlan_pcp: Number(v) }),
  nw_tos: (v) => ({ type: 'set_nw_tos', nw_tos: Number(v) }),
  ip_dscp: (v) => ({ type: 'set_nw_tos', nw_tos: Number(v << 2n) }),
  tcp_src: (v) => ({ type: 'set_tp_src', tp_port: Number(v) }),
  udp_src: (v) => ({ type: 'set_tp_src', tp_port: Number(v) }),
  tcp_dst: (v) => ({ type: 'set_tp_dst', tp_port: Number(v) }),
  udp_dst: (v) => ({ type: 'set_tp_dst', tp_port: Number(v) }),
};

function setFieldToWire(a: Of<TextAction, 'set_field'>, v: number): Act[] {
  const all = ones(a.field.bits);
  const value = a.load ? a.value << BigInt(a.load.ofs) : a.value;
  const mask = a.load ? ones(a.load.n_bits) << BigInt(a.load.ofs) : a.mask ?? all;
  // OF1.2-1.4 Set-Field cannot carry a mask: a partial one goes out as a load, as OVS's encode_SET_FIELD does.
  if (v >= 6 || (a.as === 'set_field' && (v < 3 || mask === all))) {
    return [{ type: v >= 3 ? 'set_field' : 'reg_load2', field: oxmOf(a.field, value, mask === all ? undefined : mask, a.len) }];
  }
  // An experimenter or variable-length field has no NXAST_REG_LOAD form: OVS sends NXAST_REG_LOAD2 (an exact
  // set_field in OF1.2+: Set-Field).
  const mf = FIELD_BY_NAME.get(a.field.tsw ?? a.field.name);
  if (mf && (codeFor(mf, 0).experimenter !== undefined || mf.variable)) {
    if (v >= 3 && mask === all && !a.load) return [{ type: 'set_field', field: oxmOf(a.field, value, undefined, a.len) }];
    return [{ type: 'reg_load2', field: oxmOf(a.field, value, mask === all ? undefined : mask, a.len) }];
  }
  if (a.load) return [{ type: 'reg_load', ofs_nbits: ofsNbits(a.load), dst: headerOfField(a.field), value: a.value }];
  if (mask === all) {
    const std = v === 1 ? OF10_SET_FIELD[a.field.name] : undefined;
    if (std) return [std(value)];
    if (v >= 3) return [{ type: 'set_field', field: oxmOf(a.field, value) }];
  }
  return regLoads(a.field, value, mask);
}

function subfieldHeader(sf: SubfieldRef): number {
  return headerOfField(sf.field, sf.len);
}

function parseNat(text: string): { flags: number; range: NatRange } {
  let flags = 0;
  const range: Record<string, unknown> = {};
  for (const part of text ? text.split(',') : []) {
    const m = /^(src|dst)(?:=(.*))?$/.exec(part);
    if (m) {
      flags |= m[1] === 'src' ? NX_NAT_F.SRC : NX_NAT_F.DST;
      if (m[2] === undefined) continue;
      const r = /^(\[[^\]]+\]|[^:[\]-]+)(?:-(\[[^\]]+\]|[^:[\]-]+))?(?::(\d+)(?:-(\d+))?)?$/.exec(m[2]);
      if (!r) throw new RangeError(`nat: bad range ${m[2]}`);
      const ip = (s: string) => s.replace(/^\[|\]$/g, '');
      const v6 = r[1].includes(':');
      const toBytes = (s: string) => {
        const n = parseIpv6(ip(s)) ?? 0n;
        return Uint8Array.from({ length: 16 }, (_, i) => Number((n >> BigInt(8 * (15 - i))) & 0xffn));
      };
      if (v6) {
        range.ipv6_min = toBytes(r[1]);
        if (r[2]) range.ipv6_max = toBytes(r[2]);
      } else {
        range.ipv4_min = r[1];
        if (r[2]) range.ipv4_max = r[2];
      }
      if (r[3]) range.proto_min = Number(r[3]);
      if (r[4]) range.proto_max = Number(r[4]);
    } else if (part === 'persistent') flags |= NX_NAT_F.PERSISTENT;
    else if (part === 'hash') flags |= NX_NAT_F.PROTO_HASH;
    else if (part === 'random') flags |= NX_NAT_F.PROTO_RANDOM;
    else throw new RangeError(`nat: unknown argument ${part}`);
  }
  return { flags, range: range as NatRange };
}

function learnToWire(text: string): Act {
  const l: Act = {
    type: 'learn', idle_timeout: 0, hard_timeout: 0, priority: 0x8000, cookie: 0n, flags: 0, table_id: 1,
    fin_idle_timeout: 0, fin_hard_timeout: 0, specs: [] as LearnSpec[],
  };
  const specs = l.specs as LearnSpec[];
  const imm = (v: bigint, nBits: number) => {
    const n = 2 * Math.ceil(nBits / 16);
    return Uint8Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * (n - 1 - i))) & 0xffn));
  };
  const sub = (s: string) => parseSubfield(s);
  for (const tok of splitTopLevel(text)) {
    const kv = /^(table|idle_timeout|hard_timeout|fin_idle_timeout|fin_hard_timeout|priority|cookie)=(.*)$/.exec(tok);
    if (kv) {
      const key = kv[1] === 'table' ? 'table_id' : kv[1];
      l[key] = key === 'cookie' ? BigInt(kv[2]) : Number(kv[2]);
      continue;
    }
    if (tok === 'send_flow_rem') { l.flags = (l.flags as number) | NX_LEARN_F.SEND_FLOW_REM; continue; }
    if (tok === 'delete_learned') { l.flags = (l.flags as number) | NX_LEARN_F.DELETE_LEARNED; continue; }
    if (tok.startsWith('load:')) {
      const [src, dstText] = tok.slice(5).split('->');
      const dst = sub(dstText);
      const d = { field: subfieldHeader(dst), ofs: dst.ofs };
      if (/^[0-9]/.test(src)) specs.push({ n_bits: dst.n_bits, dst_type: NX_LEARN_DST_LOAD, src: { imm: imm(BigInt(src), dst.n_bits) }, dst: d });
      else {
        const s = sub(src);
        specs.push({ n_bits: dst.n_bits, dst_type: NX_LEARN_DST_LOAD, src: { field: subfieldHeader(s), ofs: s.ofs }, dst: d });
      }
      continue;
    }
    if (tok.startsWith('output:')) {
      const s = sub(tok.slice(7));
      specs.push({ n_bits: s.n_bits, dst_type: NX_LEARN_DST_OUTPUT, src: { field: subfieldHeader(s), ofs: s.ofs } });
      continue;
    }
    const eq = tok.indexOf('=');
    const dst = sub(eq < 0 ? tok : tok.slice(0, eq));
    const d = { field: subfieldHeader(dst), ofs: dst.ofs };
    if (eq < 0) {
      specs.push({ n_bits: dst.n_bits, dst_type: NX_LEARN_DST_MATCH, src: d, dst: d });
    } else if (/^[0-9]/.test(tok.slice(eq + 1)) && !tok.slice(eq + 1).includes('[')) {
      const v = /\[/.test(tok.slice(0, eq)) ? BigInt(tok.slice(eq + 1)) : parseFieldValue(dst.field, tok.slice(eq + 1)).value;
      specs.push({ n_bits: dst.n_bits, dst_type: NX_LEARN_DST_MATCH, src: { imm: imm(v, dst.n_bits) }, dst: d });
    } else {
      const s = sub(tok.slice(eq + 1));
      specs.push({ n_bits: dst.n_bits, dst_type: NX_LEARN_DST_MATCH, src: { field: subfieldHeader(s), ofs: s.ofs }, dst: d });
    }
  }
  return l;
}

function indexOf(table: readonly string[], name: string, what: string): number {
  const i = table.indexOf(name);
  if (i < 0) throw new RangeError(`${what} ${name}`);
  return i;
}

/** The wire actions OVS encodes one TextAction into for protocol `p`. */
export function actionToWire(a: TextAction, p: Protocol): Act[] {
  const v = protocolVersion(p);
  const std = v === 1;
  switch (a.type) {
    case 'output': return [{ type: 'output', port: port32(a.port, v), max_len: a.max_len }];
    case 'controller': {
      const reason = a.reason === undefined ? 1 : indexOf(PACKET_IN_REASONS, a.reason, 'controller reason');
      if (a.userdata?.length || a.pause || a.meter_id || a.v2) {
        const props: Record<string, unknown>[] = [];
        if (a.max_len !== 0xffff) props.push({ type: NXAC2PT.MAX_LEN, value: a.max_len });
        if (a.id !== 0) props.push({ type: NXAC2PT.CONTROLLER_ID, value: a.id });
        if (reason !== 1) props.push({ type: NXAC2PT.REASON, value: reason });
        if (a.userdata?.length) props.push({ type: NXAC2PT.USERDATA, data: a.userdata });
        if (a.pause) props.push({ type: NXAC2PT.PAUSE });
        if (a.meter_id) props.push({ type: NXAC2PT.METER_ID, value: a.meter_id });
        return [{ type: 'controller2', properties: props }];
      }
      if (reason === 1 && a.id === 0) return [{ type: 'output', port: port32(OFPP.CONTROLLER, v), max_len: a.max_len }];
      return [{ type: 'controller', max_len: a.max_len, controller_id: a.id, reason }];
    }
    case 'enqueue': return std ? [{ type: 'enqueue', port: a.port, queue_id: a.queue }] : unsupported(a, p);
    case 'output_reg': return [{ type: 'output_reg', ofs_nbits: ofsNbits(a.src), src: subfieldHeader(a.src), max_len: a.max_len }];
    case 'mod_vlan_vid': return std ? [{ type: 'set_vlan_vid', vlan_vid: a.vid }] : [{ type: 'set_field', field: { field: 'vlan_vid', value: BigInt(a.vid | 0x1000) } }];
    case 'mod_vlan_pcp': return std ? [{ type: 'set_vlan_pcp', vlan_pcp: a.pcp }] : [{ type: 'set_field', field: { field: 'vlan_pcp', value: BigInt(a.pcp) } }];
    case 'strip_vlan': return [{ type: std ? 'strip_vlan' : 'pop_vlan' }];
    case 'push_vlan': return std ? unsupported(a, p) : [{ type: 'push_vlan', ethertype: a.ethertype }];
    case 'mod_dl_src': case 'mod_dl_dst': {
      if (std) return [{ type: a.type === 'mod_dl_src' ? 'set_dl_src' : 'set_dl_dst', dl_addr: formatEth(a.mac) }];
      return [{ type: 'set_field', field: { field: a.type === 'mod_dl_src' ? 'eth_src' : 'eth_dst', value: a.mac } }];
    }
    case 'mod_nw_src': case 'mod_nw_dst': {
      if (std) return [{ type: a.type === 'mod_nw_src' ? 'set_nw_src' : 'set_nw_dst', nw_addr: Number(a.ip) }];
      return [{ type: 'set_field', field: { field: a.type === 'mod_nw_src' ? 'ip_src' : 'ip_dst', value: a.ip } }];
    }
    case 'mod_nw_tos': return std ? [{ type: 'set_nw_tos', nw_tos: a.value }] : [{ type: 'set_field', field: { field: 'ip_dscp', value: BigInt(a.value >> 2) } }];
    case 'mod_nw_ecn': return std ? regLoads(textField('nw_ecn') as TextField, BigInt(a.value), 3n) : [{ type: 'set_field', field: { field: 'nw_ecn', value: BigInt(a.value) } }];
    case 'mod_nw_ttl': return std ? regLoads(textField('nw_ttl') as TextField, BigInt(a.value), 0xffn) : [{ type: 'set_nw_ttl', nw_ttl: a.value }];
    case 'mod_tp_src': return std ? [{ type: 'set_tp_src', tp_port: a.value }] : unsupported(a, p);
    case 'mod_tp_dst': return std ? [{ type: 'set_tp_dst', tp_port: a.value }] : unsupported(a, p);
    case 'dec_ttl':
      if (a.ids.length) return [{ type: 'dec_ttl_cnt_ids', cnt_ids: a.ids }];
      return [{ type: std ? 'nx_dec_ttl' : 'dec_nw_ttl' }];
    case 'push_mpls': case 'pop_mpls': return [{ type: std ? `nx_${a.type}` : a.type, ethertype: a.ethertype }];
    case 'set_mpls_ttl': return [std ? { type: 'nx_set_mpls_ttl', ttl: a.value } : { type: 'set_mpls_ttl', mpls_ttl: a.value }];
    case 'set_mpls_label':
      return [std ? { type: 'nx_set_mpls_label', label: a.value } : { type: 'set_field', field: { field: 'mpls_label', value: BigInt(a.value) } }];
    case 'set_mpls_tc':
      return [std ? { type: 'nx_set_mpls_tc', tc: a.value } : { type: 'set_field', field: { field: 'mpls_tc', value: BigInt(a.value) } }];
    case 'dec_mpls_ttl': return [{ type: std ? 'nx_dec_mpls_ttl' : 'dec_mpls_ttl' }];
    case 'exit': case 'pop_queue': case 'ct_clear': return [{ type: a.type }];
    case 'set_field': return setFieldToWire(a, v);
    case 'move': {
      // OF1.5 has a standard copy_field, which OVS uses there (ovs-vswitchd refuses the Nicira form in OF1.5).
      const src = v >= 6 ? oxmHeaderOfField(a.src.field, v, a.src.len) : null;
      const dst = v >= 6 ? oxmHeaderOfField(a.dst.field, v, a.dst.len) : null;
      if (src !== null && dst !== null) {
        return [{ type: 'copy_field', n_bits: a.src.n_bits, src_offset: a.src.ofs, dst_offset: a.dst.ofs, src, dst }];
      }
    }
      return [{ type: 'reg_move', n_bits: a.src.n_bits, src_ofs: a.src.ofs, dst_ofs: a.dst.ofs, src: subfieldHeader(a.src), dst: subfieldHeader(a.dst) }];
    case 'set_queue': return [{ type: std ? 'nx_set_queue' : 'set_queue', queue_id: a.queue }];
    case 'group': return [std ? { type: 'nx_group', group_id: a.group } : { type: 'group', group_id: a.group }];
    case 'meter': return v >= 6 ? [{ type: 'meter', meter_id: a.meter }] : unsupported(a, p);
    case 'resubmit':
      if (a.ct) return [{ type: 'resubmit_table_ct', in_port: a.port, table: a.table ?? 0xff }];
      if (a.table !== undefined) return [{ type: 'resubmit_table', in_port: a.port, table: a.table }];
      return [{ type: 'resubmit', in_port: a.port }];
    case 'write_metadata':
      return std ? [{ type: 'write_metadata_nx', metadata: a.value, mask: a.mask ?? ones(64) }] : unsupported(a, p);
    case 'note': return [{ type: 'note', note: a.data }];
    case 'set_tunnel': return [a.wide ? { type: 'set_tunnel64', tun_id: a.tun_id } : { type: 'set_tunnel', tun_id: Number(a.tun_id) }];
    case 'conjunction': return [{ type: 'conjunction', clause: a.clause - 1, n_clauses: a.n_clauses, id: a.id }];
    case 'multipath': {
      const [fields, basis, alg, links, arg] = a.args.split(',');
      return [{
        type: 'multipath', fields: indexOf(HASH_FIELDS, fields, 'hash fields'), basis: Number(basis), algorithm: indexOf(MP_ALGORITHMS, alg, 'multipath algorithm'),
        max_link: Number(links) - 1, arg: Number(arg), ofs_nbits: ofsNbits(a.dst), dst: subfieldHeader(a.dst),
      }];
    }
    case 'bundle': {
      const [fields, basis, alg] = a.head.split(',');
      return [{
        type: a.dst ? 'bundle_load' : 'bundle', algorithm: indexOf(BUNDLE_ALGORITHMS, alg, 'bundle algorithm'), fields: indexOf(HASH_FIELDS, fields, 'hash fields'),
        basis: Number(basis), member_type: headerOfField(textField('in_port') as TextField), ofs_nbits: a.dst ? ofsNbits(a.dst) : 0,
        dst: a.dst ? subfieldHeader(a.dst) : 0, members: a.members,
      }];
    }
    case 'learn': return [learnToWire(a.text)];
    case 'nat': return [{ type: 'nat', ...parseNat(a.text) }];
    case 'fin_timeout': return [{ type: 'fin_timeout', fin_idle_timeout: a.idle, fin_hard_timeout: a.hard }];
    case 'clone': return [{ type: 'clone', actions: actionsToWire(a.actions, p) }];
    case 'output_trunc': return [{ type: 'output_trunc', port: a.port, max_len: a.max_len }];
    case 'sample': {
      const base = { probability: a.probability, collector_set_id: a.collector_set_id, obs_domain_id: a.obs_domain_id, obs_point_id: a.obs_point_id };
      if (a.raw === 3 || a.direction !== 0) return [{ type: 'sample3', ...base, sampling_port: a.sampling_port, direction: a.direction }];
      if (a.raw === 2 || a.sampling_port !== OFPP.NONE) return [{ type: 'sample2', ...base, sampling_port: a.sampling_port, direction: 0 }];
      return [{ type: 'sample', ...base }];
    }
    case 'ct': {
      let zone_src = 0;
      let zone = 0;
      if (a.zone !== undefined && /^[0-9]/.test(a.zone)) zone = Number(a.zone);
      else if (a.zone !== undefined) {
        const sf = parseSubfield(a.zone);
        zone_src = subfieldHeader(sf);
        zone = ofsNbits(sf);
      }
      const alg = a.alg === undefined ? 0 : Number(Object.entries(CT_ALGS).find(([, n]) => n === a.alg)?.[0] ?? a.alg);
      const inner = [...(a.nat !== undefined ? [{ type: 'nat', ...parseNat(a.nat) }] : []), ...actionsToWire(a.exec, p)];
      return [{
        type: 'ct', flags: (a.commit ? NX_CT_F.COMMIT : 0) | (a.force ? NX_CT_F.FORCE : 0), zone_src, zone,
        recirc_table: a.table ?? 0xff, alg, actions: inner,
      }];
    }
    case 'goto_table': case 'write_actions': case 'clear_actions': return unsupported(a, p);
  }
}

/** An action list (no instructions) for protocol `p`. */
export function actionsToWire(list: readonly TextAction[], p: Protocol): Action[] {
  return list.flatMap((a) => actionToWire(a, p)) as unknown as Action[];
}

/** OF1.1+: the instructions a flow's actions= becomes, in OVS's order (meter, apply, clear, write, metadata, goto). */
export function instructionsToWire(list: readonly TextAction[], p: Protocol): Instruction[] {
  const v = protocolVersion(p);
  const out: Act[] = [];
  const apply: TextAction[] = [];
  let clear = false;
  let write: Act | undefined;
  let meta: Act | undefined;
  let goto: Act | undefined;
  for (const a of list) {
    if (a.type === 'meter' && v < 6) out.push({ type: 'meter', meter_id: a.meter });
    else if (a.type === 'clear_actions') clear = true;
    else if (a.type === 'write_actions') write = { type: 'write_actions', actions: actionsToWire(a.actions, p) };
    else if (a.type === 'write_metadata') meta = { type: 'write_metadata', metadata: a.value, metadata_mask: a.mask ?? ones(64) };
    else if (a.type === 'goto_table') goto = { type: 'goto_table', table_id: a.table };
    else apply.push(a);
  }
  if (apply.length) out.push({ type: 'apply_actions', actions: actionsToWire(apply, p) });
  if (clear) out.push({ type: 'clear_actions' });
  for (const i of [write, meta, goto]) if (i) out.push(i);
  return out as unknown as Instruction[];
}

// ---------------------------------------------------------------- whole flow_mods

const COMMANDS: Readonly<Record<FlowCommand, number>> = { add: 0, modify: 1, modify_strict: 2, delete: 3, delete_strict: 4 };
const FLAG_BITS: Readonly<Record<FlowFlag, number>> = { send_flow_rem: 1, check_overlap: 2, reset_counts: 4, no_packet_counts: 8, no_byte_counts: 16 };

/** OF1.2+ matches name the VLAN and DSCP fields the OXM way (vlan_vid, vlan_pcp, ip_dscp), not as NXM's vlan_tci and nw_tos. */
export function oxmNames(m: Match): Match {
  const out: Record<string, { value: bigint; mask?: bigint }> = {};
  for (const [name, fm] of Object.entries(m)) {
    if (name === 'vlan_tci') {
      const mask = fm.mask ?? 0xffffn;
      const vidMask = mask & 0x1fffn;
      if (vidMask) out.vlan_vid = vidMask === 0x1fffn ? { value: fm.value & 0x1fffn } : { value: fm.value & vidMask, mask: vidMask };
      if ((mask & 0xe000n) === 0xe000n && fm.value & 0x1000n) out.vlan_pcp = { value: (fm.value >> 13n) & 7n };
    } else if (name === 'nw_tos') {
      out.ip_dscp = { value: fm.value >> 2n };
    } else {
      out[name] = fm;
    }
  }
  return out;
}

/** The FLOW_MOD (NXT_FLOW_MOD for the NXM protocols) a parsed flow becomes in protocol `p`. */
export function flowModMessage(flow: TextFlow, p: Protocol, xid = 1): OfMessage {
  const v = protocolVersion(p);
  const withActions = flow.command !== 'delete' && flow.command !== 'delete_strict';
  const flagMask = v >= 4 ? 0x1f : v >= 3 ? 0x7 : 0x3;
  const flags = flow.flags.reduce((n, f) => n | FLAG_BITS[f], 0) & flagMask;
  const common = {
    cookie: flow.cookie, idle_timeout: flow.idle_timeout, hard_timeout: flow.hard_timeout,
    priority: flow.priority, buffer_id: 0xffffffff, flags,
  };
  if (v === 1) {
    const command = COMMANDS[flow.command] | (p.endsWith('+table_id') ? flow.table << 8 : 0);
    const body = { ...common, command, out_port: flow.out_port, match: flow.match, actions: withActions ? actionsToWire(flow.actions, p) : [] };
    return (p.startsWith('NXM')
      ? { version: 1, xid, kind: 'NXT_FLOW_MOD', body }
      : { version: 1, xid, kind: 'FLOW_MOD', body }) as OfMessage;
  }
  const table = flow.table === 0xff && flow.command === 'add' ? 0 : flow.table;
  const body = {
    ...common, cookie_mask: flow.cookie_mask, table_id: table, command: COMMANDS[flow.command], out_port: port32(flow.out_port, v),
    out_group: flow.out_group, match: oxmNames(flow.match), instructions: withActions ? instructionsToWire(flow.actions, p) : [],
    ...(v >= 5 ? { importance: flow.importance } : {}),
  };
  return { version: v, xid, kind: 'FLOW_MOD', body } as OfMessage;
}
