// The action and instruction syntax of ovs-ofctl: text into a version-free
// action list (OVS's "ofpacts") and back into the text ovs-ofctl prints after
// the flow went through the wire in a given protocol.

import { READ_ONLY_FIELDS } from '../fields.js';
import { fail } from './errors.js';
import { subfieldField, subfieldName, textField, type TextField } from './fields.js';
import { parseFieldValue } from './match.js';
import {
  OFPP, altHex, formatEth, formatIpv4, formatPort, hex, parseEth, parseInteger, parseIpv4, parsePort, parseUint,
} from './values.js';
import { formatIpMasked, formatIpv6Masked } from './match.js';

/** A field and a bit range of it. */
export interface SubfieldRef {
  readonly field: TextField;
  readonly ofs: number;
  readonly n_bits: number;
  /** A variable-length field's length in its header (a switch's mapped tun_metadata length); else the field's own. */
  readonly len?: number;
}

export type TextAction =
  | { type: 'output'; port: number; max_len: number }
  /** `v2`: came as NXAST_CONTROLLER2, which OVS sends back in that form. */
  | { type: 'controller'; max_len: number; reason?: string; id: number; userdata?: Uint8Array; pause: boolean; meter_id?: number; bare: boolean; v2?: boolean }
  | { type: 'enqueue'; port: number; queue: number }
  | { type: 'output_reg'; src: SubfieldRef; max_len: number }
  | { type: 'mod_vlan_vid'; vid: number }
  | { type: 'mod_vlan_pcp'; pcp: number }
  | { type: 'strip_vlan'; pop: boolean }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'mod_dl_src' | 'mod_dl_dst'; mac: bigint }
  | { type: 'mod_nw_src' | 'mod_nw_dst'; ip: bigint }
  | { type: 'mod_nw_tos' | 'mod_nw_ecn' | 'mod_nw_ttl' | 'mod_tp_src' | 'mod_tp_dst'; value: number }
  | { type: 'dec_ttl'; ids: number[] }
  | { type: 'push_mpls' | 'pop_mpls'; ethertype: number }
  | { type: 'set_mpls_ttl' | 'set_mpls_label' | 'set_mpls_tc'; value: number }
  | { type: 'dec_mpls_ttl' | 'exit' | 'pop_queue' | 'ct_clear' | 'clear_actions' }
  /**
   * `load` when written as load:V->F[a..b] (V is the loaded bits); `as` when decoded
   * from the wire, where OVS prints what came (set_field or reg_load) in any version.
   */
  | {
    type: 'set_field'; field: TextField; value: bigint; mask?: bigint; load?: SubfieldRef; as?: 'set_field' | 'load';
    /** Value bytes of a variable-length field (tun_metadata) as received or as the switch's mapping sets it. */
    len?: number;
  }
  | { type: 'move'; src: SubfieldRef; dst: SubfieldRef }
  | { type: 'set_queue'; queue: number }
  | { type: 'group'; group: number }
  | { type: 'meter'; meter: number }
  | { type: 'resubmit'; port: number; table?: number; ct: boolean; paren: boolean }
  | { type: 'goto_table'; table: number }
  | { type: 'write_metadata'; value: bigint; mask?: bigint }
  | { type: 'write_actions'; actions: TextAction[] }
  | { type: 'note'; data: Uint8Array }
  | { type: 'set_tunnel'; tun_id: bigint; wide: boolean }
  | { type: 'conjunction'; id: number; clause: number; n_clauses: number }
  | { type: 'multipath'; args: string; dst: SubfieldRef }
  | { type: 'bundle'; head: string; members: number[]; dst?: SubfieldRef }
  | { type: 'learn'; text: string }
  | { type: 'ct'; commit: boolean; force: boolean; table?: number; zone?: string; alg?: string; nat?: string; exec: TextAction[] }
  | { type: 'nat'; text: string }
  | { type: 'fin_timeout'; idle: number; hard: number }
  | { type: 'clone'; actions: TextAction[] }
  | { type: 'output_trunc'; port: number; max_len: number }
  /** sampling_port 0xffff: none; direction 0 default, 1 ingress, 2 egress; `raw` the NXAST_SAMPLEn it came as. */
  | {
    type: 'sample'; probability: number; collector_set_id: number; obs_domain_id: number; obs_point_id: number;
    sampling_port: number; direction: number; raw?: 1 | 2 | 3;
  };

/** The protocol a flow is encoded in before ovs-ofctl prints it back. */
export type Protocol =
  | 'OpenFlow10' | 'OpenFlow10+table_id' | 'NXM' | 'NXM+table_id'
  | 'OpenFlow11' | 'OpenFlow12' | 'OpenFlow13' | 'OpenFlow14' | 'OpenFlow15';

const PROTOCOL_VERSIONS: Readonly<Record<Protocol, number>> = {
  OpenFlow10: 1, 'OpenFlow10+table_id': 1, NXM: 1, 'NXM+table_id': 1,
  OpenFlow11: 2, OpenFlow12: 3, OpenFlow13: 4, OpenFlow14: 5, OpenFlow15: 6,
};

export function protocolVersion(p: Protocol): number {
  return PROTOCOL_VERSIONS[p];
}

/** A protocol name as ovs-ofctl prints it ("chosen protocol: NXM-table_id"; "OXM-OpenFlow13"...). */
export function protocolFromName(name: string): Protocol | undefined {
  const n = name.replace(/-table_id$/, '').replace(/^OXM-/, '');
  return n in PROTOCOL_VERSIONS ? (n as Protocol) : undefined;
}

// ---------------------------------------------------------------- tokenizing

/** Splits "a,b(c,d),e:f" at top-level commas (ofputil_parse_key_value's rules). */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if ((ch === ',' || ch === ' ' || ch === '\t') && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** "key:value", "key=value", "key(value)" or "key". */
function keyValue(tok: string): [string, string] {
  const m = /^([^:=(]*)([:=(])?(.*)$/s.exec(tok) as RegExpExecArray;
  const key = m[1];
  let value = m[3] ?? '';
  if (m[2] === '(') value = value.endsWith(')') ? value.slice(0, -1) : value;
  return [key, value];
}

// ---------------------------------------------------------------- subfields

export function parseSubfield(s: string): SubfieldRef {
  const m = /^([^[]+)(\[(.*)\])?$/.exec(s);
  const name = m ? m[1] : s;
  const f = subfieldField(name);
  if (!f) fail(`${s}: unknown field \`${name}'`);
  let start = 0;
  let end = f.bits - 1;
  if (m?.[2] && m[3] !== '') {
    const r = /^(\d+)(?:\.\.(\d+))?$/.exec(m[3]);
    if (!r) fail(`${s}: syntax error expecting [] or [<bit>] or [<start>..<end>]`);
    start = Number(r[1]);
    end = r[2] === undefined ? start : Number(r[2]);
  }
  if (start > end) fail(`${s}: starting bit ${start} is after ending bit ${end}`);
  if (start >= f.bits) fail(`${s}: starting bit ${start} is not valid because field is only ${f.bits} bits wide`);
  if (end >= f.bits) fail(`${s}: ending bit ${end} is not valid because field is only ${f.bits} bits wide`);
  return { field: f, ofs: start, n_bits: end - start + 1 };
}

export function formatSubfield(sf: SubfieldRef): string {
  const name = subfieldName(sf.field);
  if (sf.ofs === 0 && sf.n_bits === sf.field.bits) return `${name}[]`;
  if (sf.n_bits === 1) return `${name}[${sf.ofs}]`;
  return `${name}[${sf.ofs}..${sf.ofs + sf.n_bits - 1}]`;
}

// ---------------------------------------------------------------- parsing

function port(s: string, what: string): number {
  const p = parsePort(s);
  if (p === undefined) fail(`${s}: ${what} to unknown port`);
  return p;
}

function u(s: string, what: string, max: number): number {
  const v = parseInteger(s);
  if (v === undefined) fail(`invalid numeric format ${s}`);
  if (v > BigInt(max)) fail(`${what}: ${s} out of range`);
  return Number(v);
}

function parseNote(s: string): Uint8Array {
  return parseHexBytes(s, 'note');
}

/** Hex bytes, optionally separated by dots ("01.02" or "0102"). */
function parseHexBytes(s: string, what: string): Uint8Array {
  const bytes: number[] = [];
  const h = s.replace(/\./g, '');
  if (h.length % 2 || !/^[0-9a-f]*$/i.test(h)) fail(`bad hex digit in \`${what}' argument`);
  for (let i = 0; i < h.length; i += 2) bytes.push(parseInt(h.slice(i, i + 2), 16));
  return Uint8Array.from(bytes);
}

function parseController(value: string): TextAction {
  const a = {
    type: 'controller' as const, max_len: 0xffff, id: 0, pause: false, bare: false,
    reason: undefined as string | undefined, userdata: undefined as Uint8Array | undefined, meter_id: undefined as number | undefined,
  };
  if (value === '') return { ...a, bare: true };
  if (/^\d/.test(value)) return { ...a, max_len: u(value, 'max_len', 0xffff), bare: true };
  for (const tok of splitTopLevel(value)) {
    const [k, v] = keyValue(tok);
    if (k === 'reason') a.reason = v;
    else if (k === 'max_len') a.max_len = u(v, 'max_len', 0xffff);
    else if (k === 'id') a.id = u(v, 'id', 0xffff);
    else if (k === 'userdata') a.userdata = parseHexBytes(v, 'controller');
    else if (k === 'pause') a.pause = true;
    else if (k === 'meter_id') a.meter_id = u(v, 'meter_id', 0xffffffff);
    else fail(`${k}: unknown controller action argument`);
  }
  return a;
}

function parseOutputTrunc(value: string): TextAction {
  let p: number | undefined;
  let max_len = 0;
  for (const tok of splitTopLevel(value)) {
    const [k, v] = keyValue(tok);
    if (k === 'port') p = port(v, 'output');
    else if (k === 'max_len') max_len = u(v, 'max_len', 0xffffffff);
    else fail(`${k}: unknown output argument`);
  }
  if (p === undefined) fail('output: missing port');
  return { type: 'output_trunc', port: p, max_len };
}

function parseSample(value: string): TextAction {
  const a = {
    type: 'sample' as const, probability: 0, collector_set_id: 0, obs_domain_id: 0, obs_point_id: 0, sampling_port: OFPP.NONE as number, direction: 0,
  };
  for (const tok of splitTopLevel(value)) {
    const [k, v] = keyValue(tok);
    if (k === 'probability') a.probability = u(v, 'probability', 0xffff);
    else if (k === 'collector_set_id' || k === 'obs_domain_id' || k === 'obs_point_id') a[k] = u(v, k, 0xffffffff);
    else if (k === 'sampling_port') a.sampling_port = port(v, 'sampling_port');
    else if (k === 'ingress') a.direction = 1;
    else if (k === 'egress') a.direction = 2;
    else fail(`invalid key "${k}" in "sample" argument`);
  }
  if (a.probability === 0) fail('non-zero "probability" must be specified on sample');
  return a;
}

function setFieldFrom(value: string, fieldName: string): TextAction {
  const f = textField(fieldName) ?? subfieldField(fieldName);
  if (!f) fail(`${fieldName} is not a valid OXM field name`);
  if (READ_ONLY_FIELDS.has(f.name) || READ_ONLY_FIELDS.has(f.tsw ?? '')) fail(`${fieldName} is read-only`);
  const v = parseFieldValue(f, value);
  const all = (1n << BigInt(f.bits)) - 1n;
  return v.mask === all ? { type: 'set_field', field: f, value: v.value } : { type: 'set_field', field: f, value: v.value, mask: v.mask };
}

function parseOne(tok: string, out: TextAction[]): void {
  const [key, value] = keyValue(tok);
  const k = key.toLowerCase();
  const bare = parsePort(key);
  if (bare !== undefined && value === '' && /^[0-9a-z_]+$/i.test(key)) {
    if (bare === OFPP.CONTROLLER) out.push({ type: 'controller', max_len: 0xffff, id: 0, pause: false, bare: true });
    else out.push({ type: 'output', port: bare, max_len: 0 });
    return;
  }
  switch (k) {
    case 'drop': return;
    case 'output': {
      if (/^port=/.test(value)) out.push(parseOutputTrunc(value));
      else if (value.includes('[')) out.push({ type: 'output_reg', src: parseSubfield(value), max_len: 0 });
      else out.push({ type: 'output', port: port(value, 'output'), max_len: 0 });
      return;
    }
    case 'controller': out.push(parseController(value)); return;
    case 'sample': out.push(parseSample(value)); return;
    case 'enqueue': {
      const parts = value.split(/[:,]/);
      if (parts.length !== 2) fail('"enqueue" syntax is "enqueue:PORT:QUEUE" or "enqueue(PORT,QUEUE)"');
      out.push({ type: 'enqueue', port: port(parts[0], 'enqueue'), queue: u(parts[1], 'queue', 0xffffffff) });
      return;
    }
    case 'mod_vlan_vid': {
      const v = parseInteger(value);
      if (v === undefined || v > 0xfffn) fail(`${value}: not a valid VLAN VID`);
      out.push({ type: 'mod_vlan_vid', vid: Number(v) });
      return;
    }
    case 'mod_vlan_pcp': {
      const v = parseInteger(value);
      if (v === undefined || v > 7n) fail(`${value}: not a valid VLAN PCP`);
      out.push({ type: 'mod_vlan_pcp', pcp: Number(v) });
      return;
    }
    case 'strip_vlan': out.push({ type: 'strip_vlan', pop: false }); return;
    case 'pop_vlan': out.push({ type: 'strip_vlan', pop: true }); return;
    case 'push_vlan': out.push({ type: 'push_vlan', ethertype: u(value, 'ethertype', 0xffff) }); return;
    case 'mod_dl_src': case 'mod_dl_dst': {
      const mac = parseEth(value);
      if (mac === undefined) fail(`${value}: invalid Ethernet address`);
      out.push({ type: k, mac });
      return;
    }
    case 'mod_nw_src': case 'mod_nw_dst': {
      const ip = parseIpv4(value);
      if (ip === undefined) fail(`${value}: invalid IP address`);
      out.push({ type: k, ip });
      return;
    }
    case 'mod_nw_tos': {
      const v = u(value, 'tos', 0xff);
      if (v & 3) fail(`${value}: not a valid TOS`);
      out.push({ type: k, value: v });
      return;
    }
    case 'mod_nw_ecn': {
      const v = u(value, 'ecn', 0xff);
      if (v > 3) fail(`${value}: not a valid ECN`);
      out.push({ type: k, value: v });
      return;
    }
    case 'mod_nw_ttl': out.push({ type: k, value: u(value, 'ttl', 0xff) }); return;
    case 'mod_tp_src': case 'mod_tp_dst': out.push({ type: k, value: u(value, k, 0xffff) }); return;
    case 'dec_ttl': out.push({ type: 'dec_ttl', ids: value ? value.split(',').map((x) => u(x, 'id', 0xffff)) : [] }); return;
    case 'push_mpls': case 'pop_mpls': out.push({ type: k, ethertype: u(value, 'ethertype', 0xffff) }); return;
    case 'set_mpls_ttl': out.push({ type: k, value: u(value, 'ttl', 0xff) }); return;
    case 'set_mpls_label': out.push({ type: k, value: u(value, 'label', 0xfffff) }); return;
    case 'set_mpls_tc': out.push({ type: k, value: u(value, 'tc', 7) }); return;
    case 'dec_mpls_ttl': case 'exit': case 'pop_queue': case 'ct_clear': case 'clear_actions':
      out.push({ type: k });
      return;
    case 'set_field': {
      const i = value.indexOf('->');
      if (i < 0) fail(`${value}: missing \`->'`);
      out.push(setFieldFrom(value.slice(0, i), value.slice(i + 2)));
      return;
    }
    case 'load': {
      const i = value.indexOf('->');
      if (i < 0) fail(`${value}: missing \`->'`);
      const dst = parseSubfield(value.slice(i + 2));
      const v = parseInteger(value.slice(0, i));
      if (v === undefined) fail(`${value.slice(0, i)}: bad syntax for load value`);
      if (dst.n_bits < 64 && v >= 1n << BigInt(dst.n_bits)) fail(`${value}: value ${value.slice(0, i)} does not fit into ${dst.n_bits} bits`);
      out.push({ type: 'set_field', field: dst.field, value: v, load: dst });
      return;
    }
    case 'move': {
      const i = value.indexOf('->');
      if (i < 0) fail(`${value}: missing \`->'`);
      const src = parseSubfield(value.slice(0, i));
      const dst = parseSubfield(value.slice(i + 2));
      if (src.n_bits !== dst.n_bits) fail(`${value}: source field is ${src.n_bits} bits wide but destination is ${dst.n_bits} bits wide`);
      out.push({ type: 'move', src, dst });
      return;
    }
    case 'set_queue': out.push({ type: 'set_queue', queue: u(value, 'queue', 0xffffffff) }); return;
    case 'group': out.push({ type: 'group', group: u(value, 'group', 0xffffffff) }); return;
    case 'meter': out.push({ type: 'meter', meter: u(value, 'meter', 0xffffffff) }); return;
    case 'goto_table': out.push({ type: 'goto_table', table: u(value, 'table', 0xff) }); return;
    case 'resubmit': {
      const paren = tok.includes('(');
      const parts = paren ? value.split(',') : [value];
      const p = parts[0] === '' ? OFPP.IN_PORT : parsePort(parts[0]);
      if (p === undefined) fail(`${parts[0]}: resubmit to unknown port`);
      const table = parts[1] !== undefined && parts[1] !== '' ? u(parts[1], 'table', 0xff) : undefined;
      const ct = parts[2] === 'ct';
      out.push({ type: 'resubmit', port: p, table, ct, paren: paren && (table !== undefined || ct) });
      return;
    }
    case 'write_metadata': {
      const [v, m] = value.split('/');
      const val = parseUint(v, 'metadata', (1n << 64n) - 1n);
      out.push(m === undefined ? { type: 'write_metadata', value: val } : { type: 'write_metadata', value: val, mask: parseUint(m, 'metadata mask', (1n << 64n) - 1n) });
      return;
    }
    case 'write_actions': out.push({ type: 'write_actions', actions: parseActionList(value) }); return;
    case 'apply_actions': out.push(...parseActionList(value)); return;
    case 'note': out.push({ type: 'note', data: parseNote(value) }); return;
    case 'set_tunnel': case 'set_tunnel64': {
      const v = parseUint(value, 'tunnel id', (1n << 64n) - 1n);
      out.push({ type: 'set_tunnel', tun_id: v, wide: k === 'set_tunnel64' || v > 0xffffffffn });
      return;
    }
    case 'conjunction': {
      const m = /^(\d+),(\d+)\/(\d+)$/.exec(value);
      if (!m) fail(`"conjunction" syntax is "conjunction(id,i/n)"`);
      out.push({ type: 'conjunction', id: Number(m[1]), clause: Number(m[2]), n_clauses: Number(m[3]) });
      return;
    }
    case 'multipath': {
      const parts = value.split(',');
      out.push({ type: 'multipath', args: parts.slice(0, 5).join(','), dst: parseSubfield(parts[5] ?? '') });
      return;
    }
    case 'bundle': case 'bundle_load': {
      const i = value.indexOf('members:') >= 0 ? value.indexOf('members:') : value.indexOf('slaves:');
      if (i < 0) fail(`${value}: not enough arguments to bundle action`);
      const head = value.slice(0, i - 1).split(',');
      const members = value.slice(i).replace(/^[a-z]+:/, '').split(',').filter((x) => x).map((x) => port(x, 'bundle'));
      if (k === 'bundle_load') out.push({ type: 'bundle', head: head.slice(0, 4).join(','), members, dst: parseSubfield(head[4] ?? '') });
      else out.push({ type: 'bundle', head: head.join(','), members });
      return;
    }
    case 'learn': out.push({ type: 'learn', text: value }); return;
    case 'fin_timeout': {
      let idle = 0;
      let hard = 0;
      for (const t of splitTopLevel(value)) {
        const [a, b] = keyValue(t);
        if (a === 'idle_timeout') idle = u(b, a, 0xffff);
        else if (a === 'hard_timeout') hard = u(b, a, 0xffff);
        else fail(`invalid key '${a}' in 'fin_timeout' argument`);
      }
      out.push({ type: 'fin_timeout', idle, hard });
      return;
    }
    case 'clone': out.push({ type: 'clone', actions: parseActionList(value) }); return;
    case 'ct': {
      const a: Extract<TextAction, { type: 'ct' }> = { type: 'ct', commit: false, force: false, exec: [] };
      for (const t of splitTopLevel(value)) {
        const [a2, b] = keyValue(t);
        if (a2 === 'commit') a.commit = true;
        else if (a2 === 'force') a.force = true;
        else if (a2 === 'table') a.table = u(b, 'table', 0xff);
        else if (a2 === 'zone') a.zone = b;
        else if (a2 === 'alg') a.alg = b;
        else if (a2 === 'nat') a.nat = t.includes('(') ? b : '';
        else if (a2 === 'exec') a.exec = parseActionList(b);
        else fail(`invalid argument to "ct" action: \`${a2}'`);
      }
      out.push(a);
      return;
    }
    default:
      fail(`unknown action ${key}`);
  }
}

/** A comma-separated action list (no instructions). */
export function parseActionList(s: string): TextAction[] {
  const out: TextAction[] = [];
  for (const tok of splitTopLevel(s)) parseOne(tok, out);
  return out;
}

/** The `actions=` text of a flow: actions and instructions, with OVS's ordering and "drop" checks. */
export function parseActions(s: string): TextAction[] {
  const out = parseActionList(s);
  const conj = out.some((a) => a.type === 'conjunction');
  if (conj) {
    const other = out.find((a) => a.type !== 'conjunction' && a.type !== 'note');
    if (other) fail(`"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.type}" action used here)`);
  }
  return out;
}

// ---------------------------------------------------------------- printing

function formatNote(d: Uint8Array): string {
  // OVS pads the note so the action is a multiple of 8 bytes (6 bytes of header room).
  const n = Math.max(6, d.length + ((8 - ((d.length + 2) % 8)) % 8));
  const padded = new Uint8Array(n);
  padded.set(d);
  return [...padded].map((b) => b.toString(16).padStart(2, '0')).join('.');
}

/** An OF1.0 action for set_field of these fields, else undefined (then NXM reg_load). */
function of10SetField(a: Extract<TextAction, { type: 'set_field' }>): string | undefined {
  if (a.mask !== undefined || a.load) return undefined;
  switch (a.field.name) {
    case 'eth_src': return `mod_dl_src:${formatEth(a.value)}`;
    case 'eth_dst': return `mod_dl_dst:${formatEth(a.value)}`;
    case 'ip_src': return `mod_nw_src:${formatIpv4(a.value)}`;
    case 'ip_dst': return `mod_nw_dst:${formatIpv4(a.value)}`;
    case 'vlan_vid': case 'dl_vlan': return `mod_vlan_vid:${a.value & 0xfffn}`;
    case 'vlan_pcp': case 'dl_vlan_pcp': return `mod_vlan_pcp:${a.value}`;
    case 'nw_tos': return `mod_nw_tos:${a.value}`;
    case 'ip_dscp': return `mod_nw_tos:${a.value << 2n}`;
    case 'tcp_src': case 'udp_src': return `mod_tp_src:${a.value}`;
    case 'tcp_dst': case 'udp_dst': return `mod_tp_dst:${a.value}`;
    default: return undefined;
  }
}

function formatValue(f: TextField, v: bigint): string {
  switch (f.format) {
    case 'eth': return formatEth(v);
    case 'ipv4': return formatIpv4(v);
    case 'ipv6': return formatIpv6Masked(v, (1n << 128n) - 1n);
    case 'port16': case 'port32': return formatPort(Number(v));
    case 'dec': return String(v);
    // tun_metadata is printed byte-wise (OVS's ds_put_hex): zero is "0".
    default: return f.bits === 992 ? altHex(v) : hex(v);
  }
}

function formatMaskedValue(f: TextField, v: bigint, m: bigint): string {
  if (f.format === 'ipv4') return formatIpMasked(v, m);
  if (f.format === 'ipv6') return formatIpv6Masked(v, m);
  if (f.format === 'eth') return `${formatEth(v)}/${formatEth(m)}`;
  // A decimal field prints its value in decimal and the mask in hex (OVS's mf_format).
  if (f.format === 'dec') return `${v}/${hex(m)}`;
  if (f.bits === 992) return `${altHex(v)}/${altHex(m)}`;
  return `${hex(v)}/${hex(m)}`;
}

function formatLoad(dst: SubfieldRef, value: bigint): string {
  return `load:${altHex(value)}->${formatSubfield(dst)}`;
}

/** One load per run of ones in the mask, lowest first (OVS's next_load_segment). */
function formatLoads(f: TextField, value: bigint, mask: bigint): string {
  const out: string[] = [];
  for (let ofs = 0; ofs < f.bits;) {
    if (!((mask >> BigInt(ofs)) & 1n)) { ofs++; continue; }
    let n = 0;
    while (ofs + n < f.bits && (mask >> BigInt(ofs + n)) & 1n) n++;
    out.push(formatLoad({ field: f, ofs, n_bits: n }, (value >> BigInt(ofs)) & ((1n << BigInt(n)) - 1n)));
    ofs += n;
  }
  return out.join(',');
}

function formatSetField(a: Extract<TextAction, { type: 'set_field' }>, p: Protocol): string {
  const v = protocolVersion(p);
  const all = (1n << BigInt(a.field.bits)) - 1n;
  // A load's bits as a value/mask over the whole field.
  const value = a.load ? a.value << BigInt(a.load.ofs) : a.value;
  const mask = a.load ? ((1n << BigInt(a.load.n_bits)) - 1n) << BigInt(a.load.ofs) : a.mask ?? all;
  const asSetField = () => mask === all
    ? `set_field:${formatValue(a.field, value)}->${a.field.name}`
    : `set_field:${formatMaskedValue(a.field, value, mask)}->${a.field.name}`;
  if (a.as === 'set_field') return asSetField();
  if (a.as === 'load' && a.load) return formatLoad(a.load, a.value);
  // OF1.5 has only Set-Field; before it loads stay loads, and partial set_fields become them.
  if (v >= 6) return asSetField();
  if (a.load) return formatLoad(a.load, a.value);
  if (v === 1) {
    const std = of10SetField(a);
    if (std) return std;
  }
  if (mask === all && v > 1) return asSetField();
  return formatLoads(a.field, value, mask);
}

export function formatAction(a: TextAction, p: Protocol): string {
  const v = protocolVersion(p);
  switch (a.type) {
    case 'output':
      return a.port >= OFPP.MAX && a.port !== OFPP.ANY ? formatPort(a.port) : `output:${formatPort(a.port)}`;
    case 'controller': {
      const userdata = a.userdata?.length ? a.userdata : undefined;
      const meter = a.meter_id ? a.meter_id : undefined;
      if ((a.reason === undefined || a.reason === 'action') && a.id === 0 && !userdata && !a.pause && !meter) return `CONTROLLER:${a.max_len}`;
      const parts: string[] = [];
      if (a.reason && a.reason !== 'action') parts.push(`reason=${a.reason}`);
      if (a.max_len !== 0xffff) parts.push(`max_len=${a.max_len}`);
      if (a.id) parts.push(`id=${a.id}`);
      if (userdata) parts.push(`userdata=${[...userdata].map((b) => b.toString(16).padStart(2, '0')).join('.')}`);
      if (a.pause) parts.push('pause');
      if (meter) parts.push(`meter_id=${meter}`);
      return `controller(${parts.join(',')})`;
    }
    case 'output_trunc': return `output(port=${formatPort(a.port)},max_len=${a.max_len})`;
    case 'sample': {
      let t = `sample(probability=${a.probability},collector_set_id=${a.collector_set_id},obs_domain_id=${a.obs_domain_id},obs_point_id=${a.obs_point_id}`;
      if (a.sampling_port !== OFPP.NONE) t += `,sampling_port=${formatPort(a.sampling_port)}`;
      if (a.direction === 1) t += ',ingress';
      else if (a.direction === 2) t += ',egress';
      return t + ')';
    }
    case 'enqueue': return `enqueue:${formatPort(a.port)}:${a.queue}`;
    case 'output_reg': return `output:${formatSubfield(a.src)}`;
    case 'mod_vlan_vid': return v === 1 ? `mod_vlan_vid:${a.vid}` : `set_field:${a.vid | 0x1000}->vlan_vid`;
    case 'mod_vlan_pcp': return v === 1 ? `mod_vlan_pcp:${a.pcp}` : `set_field:${a.pcp}->vlan_pcp`;
    case 'strip_vlan': return v === 1 ? 'strip_vlan' : 'pop_vlan';
    case 'push_vlan': return `push_vlan:${hex(a.ethertype)}`;
    case 'mod_dl_src': return v === 1 ? `mod_dl_src:${formatEth(a.mac)}` : `set_field:${formatEth(a.mac)}->eth_src`;
    case 'mod_dl_dst': return v === 1 ? `mod_dl_dst:${formatEth(a.mac)}` : `set_field:${formatEth(a.mac)}->eth_dst`;
    case 'mod_nw_src': return v === 1 ? `mod_nw_src:${formatIpv4(a.ip)}` : `set_field:${formatIpv4(a.ip)}->ip_src`;
    case 'mod_nw_dst': return v === 1 ? `mod_nw_dst:${formatIpv4(a.ip)}` : `set_field:${formatIpv4(a.ip)}->ip_dst`;
    case 'mod_nw_tos': return v === 1 ? `mod_nw_tos:${a.value}` : `set_field:${a.value >> 2}->ip_dscp`;
    case 'mod_nw_ecn': return v === 1 ? `load:${hex(a.value)}->NXM_NX_IP_ECN[]` : `set_field:${a.value}->nw_ecn`;
    case 'mod_nw_ttl': return v === 1 ? `load:${hex(a.value)}->NXM_NX_IP_TTL[]` : `mod_nw_ttl:${a.value}`;
    case 'mod_tp_src': return `mod_tp_src:${a.value}`;
    case 'mod_tp_dst': return `mod_tp_dst:${a.value}`;
    case 'dec_ttl': return a.ids.length ? `dec_ttl(${a.ids.join(',')})` : 'dec_ttl';
    case 'push_mpls': return `push_mpls:${hex(a.ethertype)}`;
    case 'pop_mpls': return `pop_mpls:0x${a.ethertype.toString(16).padStart(4, '0')}`;
    case 'set_mpls_ttl': return `set_mpls_ttl(${a.value})`;
    case 'set_mpls_label': return `set_mpls_label(${a.value})`;
    case 'set_mpls_tc': return `set_mpls_tc(${a.value})`;
    case 'dec_mpls_ttl': case 'exit': case 'pop_queue': case 'ct_clear': case 'clear_actions': return a.type;
    case 'set_field': return formatSetField(a, p);
    case 'move': return `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`;
    case 'set_queue': return `set_queue:${a.queue}`;
    case 'group': return `group:${a.group}`;
    case 'meter': return `meter:${a.meter}`;
    case 'goto_table': return `goto_table:${a.table}`;
    case 'resubmit': {
      if (a.table === undefined && !a.ct && a.port !== OFPP.IN_PORT) return `resubmit:${formatPort(a.port)}`;
      const portText = a.port === OFPP.IN_PORT ? '' : formatPort(a.port);
      return `resubmit(${portText},${a.table ?? ''}${a.ct ? ',ct' : ''})`;
    }
    case 'write_metadata': return `write_metadata:${hex(a.value)}` + (a.mask !== undefined && a.mask !== (1n << 64n) - 1n ? `/${hex(a.mask)}` : '');
    case 'write_actions': return `write_actions(${formatActionList(a.actions, p)})`;
    case 'note': return `note:${formatNote(a.data)}`;
    case 'set_tunnel': return a.wide ? `set_tunnel64:${hex(a.tun_id)}` : `set_tunnel:${hex(a.tun_id)}`;
    case 'conjunction': return `conjunction(${a.id},${a.clause}/${a.n_clauses})`;
    case 'multipath': return `multipath(${a.args},${formatSubfield(a.dst)})`;
    case 'bundle': return a.dst
      ? `bundle_load(${a.head},${formatSubfield(a.dst)},members:${a.members.join(',')})`
      : `bundle(${a.head},members:${a.members.join(',')})`;
    case 'learn': return `learn(${a.text})`;
    case 'fin_timeout': {
      const parts: string[] = [];
      if (a.idle) parts.push(`idle_timeout=${a.idle}`);
      if (a.hard) parts.push(`hard_timeout=${a.hard}`);
      return `fin_timeout(${parts.join(',')})`;
    }
    case 'clone': return `clone(${formatActionList(a.actions, p)})`;
    case 'ct': {
      const parts: string[] = [];
      if (a.commit) parts.push('commit');
      if (a.force) parts.push('force');
      if (a.table !== undefined) parts.push(`table=${a.table}`);
      if (a.zone !== undefined) parts.push(`zone=${/^\d/.test(a.zone) ? Number(a.zone) : a.zone}`);
      if (a.exec.length) parts.push(`exec(${formatActionList(a.exec, p)})`);
      if (a.alg) parts.push(`alg=${a.alg}`);
      if (a.nat !== undefined) parts.push(a.nat ? `nat(${a.nat})` : 'nat');
      return parts.length ? `ct(${parts.join(',')})` : 'ct';
    }
    case 'nat': return `nat(${a.text})`;
  }
}

export function formatActionList(list: readonly TextAction[], p: Protocol): string {
  return list.map((a) => formatAction(a, p)).join(',');
}

/** `actions=` text: apply-actions, then OF1.1+ instructions in OVS's order; "drop" when empty. */
export function formatActions(list: readonly TextAction[], p: Protocol): string {
  if (!list.length) return 'drop';
  const v = protocolVersion(p);
  if (v === 1) return formatActionList(list, p);
  // OF1.1+ carries instructions in a fixed order: meter, apply, clear, write, write_metadata, goto.
  const order = (a: TextAction) => a.type === 'meter' && v < 6 ? 0 : a.type === 'clear_actions' ? 2 : a.type === 'write_actions' ? 3
    : a.type === 'write_metadata' ? 4 : a.type === 'goto_table' ? 5 : 1;
  return [...list].sort((x, y) => order(x) - order(y)).map((a) => formatAction(a, p)).join(',');
}
