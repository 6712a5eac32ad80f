// The body of each message kind, after the "NAME (OF1.x) (xid=0x..):" header,
// in the words and layout of OVS's ofp-print.

import type { OfMessage, Action, Match } from '../index.js';
import { MATCH_FIELDS, NXET_VENDOR, OfError, checkPrerequisites, errorBodyName, nxmCookie } from '../index.js';
import { ctFlush, groupProperties, tlvTableMod, tlvTableReply } from './extensions.js';
import { formatPacket } from './packet.js';
import { features10, features11, formatFeatures, formatPhyPorts, formatPortConfig } from './ports.js';
import type { FlowFormatter } from './text-hooks.js';
import { statsReply, statsRequest } from './stats.js';
import { PrintError, bitNames, bitTable, duration, hex, hexDump, port16, portName, printable, u64 } from './util.js';

const MATCH_FIELD_NAMES = new Set(MATCH_FIELDS.map((f) => f.name));

export interface PrintOptions {
  readonly verbosity: number;
  readonly flow: FlowFormatter;
  /** Prints an inner message (errors, bundles, request-forwards) at a verbosity. */
  readonly print: (buf: Uint8Array, verbosity: number) => string;
}

const CAPABILITIES = [
  'FLOW_STATS', 'TABLE_STATS', 'PORT_STATS', 'STP', 'GROUP_STATS', 'IP_REASM', 'QUEUE_STATS', 'ARP_MATCH_IP',
  'PORT_BLOCKED', 'BUNDLES', 'FLOW_MONITORING',
];

/** OVS's capability bits from the wire: per-version meanings, bit 3 is STP in OF1.0 and GROUP_STATS after. */
function capabilities(raw: number, version: number): number {
  const mask = 0x67 | (version === 1 ? 0x80 : version === 4 ? 0x100 : 0x700);
  let caps = raw & mask;
  if (raw & 8) caps |= version === 1 ? 8 : 16;
  return caps;
}

/** OVS's OFPACT order: action bitmaps print in this order, not in wire-bit order. */
const OFPACT_ORDER = [
  'output', 'group', 'controller', 'enqueue', 'output_reg', 'bundle', 'set_field', 'set_vlan_vid', 'set_vlan_pcp', 'strip_vlan',
  'push_vlan', 'mod_dl_src', 'mod_dl_dst', 'mod_nw_src', 'mod_nw_dst', 'mod_nw_tos', 'mod_nw_ecn', 'mod_nw_ttl', 'mod_tp_src',
  'mod_tp_dst', 'move', 'push', 'pop', 'dec_ttl', 'set_mpls_label', 'set_mpls_tc', 'set_mpls_ttl', 'dec_mpls_ttl', 'push_mpls',
  'pop_mpls', 'dec_nsh_ttl', 'delete_field', 'encap', 'decap', 'set_tunnel', 'set_queue',
];
const OFPAT10_BITS = [
  'output', 'set_vlan_vid', 'set_vlan_pcp', 'strip_vlan', 'mod_dl_src', 'mod_dl_dst', 'mod_nw_src', 'mod_nw_dst', 'mod_nw_tos',
  'mod_tp_src', 'mod_tp_dst', 'enqueue',
];
const OFPAT12_BITS: Record<number, string> = {
  0: 'output', 15: 'set_mpls_ttl', 16: 'dec_mpls_ttl', 17: 'push_vlan', 18: 'strip_vlan', 19: 'push_mpls', 20: 'pop_mpls',
  21: 'set_queue', 22: 'group', 23: 'mod_nw_ttl', 24: 'dec_ttl', 25: 'set_field',
};

/** An OpenFlow action-type bitmap as OVS names it ("<none>" when empty). */
export function actionBitmap(bits: number, version: number): string {
  const names: string[] = [];
  for (let i = 0; i < 32; i++) {
    if (!(bits & (1 << i))) continue;
    const n = version === 1 ? OFPAT10_BITS[i] : OFPAT12_BITS[i];
    if (n) names.push(n);
  }
  names.sort((a, b) => OFPACT_ORDER.indexOf(a) - OFPACT_ORDER.indexOf(b));
  return names.length ? names.join(' ') : '<none>';
}

const PACKET_IN_REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out'];
export const FLOW_REMOVED_REASONS = ['idle', 'hard', 'delete', 'group_delete', 'meter_delete', 'eviction'];
const PORT_REASONS = ['add', 'delete', 'modify'];
const ROLE_REASONS = ['primary_request', 'configuration_changed', 'experimenter_data_changed'];
const TABLE_REASONS: Record<number, string> = { 3: 'vacancy_down', 4: 'vacancy_up' };
const RF_REASONS = ['group_mod_request', 'meter_mod_request'];

export function reasonName(table: readonly string[] | Record<number, string>, r: number): string {
  return (table as Record<number, string>)[r] ?? String(r);
}

function roleName(role: number): string {
  return ['nochange', 'equal', 'primary', 'secondary'][role] ?? String(role);
}

function flowModFlags(flags: number, version: number): string {
  let s = '';
  if (flags & 1) s += 'send_flow_rem ';
  if (flags & 2) s += 'check_overlap ';
  if (flags & 4 && version >= 4) s += 'reset_counts ';
  if (flags & 8 && version >= 4) s += 'no_packet_counts ';
  if (flags & 16 && version >= 4) s += 'no_byte_counts ';
  return s;
}

/** OVS prints bundle ids with printf's %#x, which writes zero without the 0x. */
function bundleId(id: number): string {
  return id === 0 ? '0' : `0x${id.toString(16)}`;
}

export function groupId(id: number): string {
  return id === 0xfffffffc ? 'ALL' : id === 0xffffffff ? 'ANY' : String(id);
}

export function meterId(id: number, sep: string): string {
  if (id <= 0xffff0000) return `meter${sep}${id}`;
  const n = id === 0xfffffffd ? 'slowpath' : id === 0xfffffffe ? 'controller' : id === 0xffffffff ? 'all' : 'unknown';
  return `meter${sep}${n}`;
}

function meterFlags(flags: number): string {
  let s = '';
  if (flags & 1) s += 'kbps ';
  if (flags & 2) s += 'pktps ';
  if (flags & 4) s += 'burst ';
  if (flags & 8) s += 'stats ';
  const rest = flags & ~0xf;
  if (rest) s += `flags:0x${rest.toString(16)} `;
  return s;
}

export interface Band { type: number; rate?: number; burst_size?: number; prec_level?: number }

export function meterConfig(flags: number, id: number, bands: readonly Band[]): string {
  let s = meterId(id, '=') + ' ' + meterFlags(flags) + 'bands=';
  for (const b of bands) {
    s += '\ntype=' + (b.type === 1 ? 'drop' : b.type === 2 ? 'dscp_remark' : String(b.type));
    s += ` rate=${b.rate ?? 0}`;
    if (flags & 4) s += ` burst_size=${b.burst_size ?? 0}`;
    if (b.type === 2) s += ` prec_level=${b.prec_level ?? 0}`;
  }
  return s + '\n';
}

export function queueRate(name: string, rate: number): string {
  if (rate <= 1000) return ` ${name}:${Math.floor(rate / 10)}.${rate % 10}%`;
  if (rate < 0xffff) return ` ${name}:(disabled)`;
  return '';
}

export function stat(n: bigint, last = false): string {
  const v = BigInt.asUintN(64, n) === 0xffffffffffffffffn ? '?' : u64(n);
  return v + (last ? '\n' : ', ');
}

const ASYNC_TYPES = ['PACKET_IN', 'PORT_STATUS', 'FLOW_REMOVED', 'ROLE_STATUS', 'TABLE_STATUS', 'REQUESTFORWARD'];
const ASYNC_REASONS: (readonly string[] | Record<number, string>)[] = [PACKET_IN_REASONS, PORT_REASONS, FLOW_REMOVED_REASONS, ROLE_REASONS, TABLE_REASONS, RF_REASONS];

function asyncAllowed(type: number, version: number): number {
  return [version >= 5 ? 0x3f : 7, 7, 0x3f, 7, 0x18, 3][type];
}

function formatAsync(primary: number[], secondary: number[]): string {
  let s = '';
  for (let i = 0; i < 2; i++) {
    s += `\n ${i === 0 ? 'primary' : 'secondary'}:\n`;
    const masks = i === 0 ? primary : secondary;
    for (let t = 0; t < 6; t++) {
      s += ASYNC_TYPES[t].padStart(16) + ':';
      const m = masks[t];
      for (let j = 0; j < 32; j++) if (m & (1 << j)) s += ' ' + reasonName(ASYNC_REASONS[t], j);
      if (!m) s += ' (off)';
      s += '\n';
    }
  }
  return s;
}

export interface TableDescLike { table_id: number; config: number; properties: readonly { type: number; flags?: number; vacancy_down?: number; vacancy_up?: number; vacancy?: number }[] }

export function tableDesc(td: TableDescLike): string {
  const eviction = td.config & 4 ? 'on' : 'off';
  const vacancyOn = (td.config & 8) !== 0;
  const ev = td.properties.find((p) => p.type === 2);
  const vac = td.properties.find((p) => p.type === 3);
  const flags = ev?.flags !== undefined ? bitNames(ev.flags, bitTable(['OTHER', 'IMPORTANCE', 'LIFETIME']), '|') : '(default)';
  let s = `\n  table ${td.table_id}:\n   eviction=${eviction} eviction_flags=${flags}\n   vacancy=${vacancyOn ? 'on' : 'off'}`;
  if (vacancyOn) s += ` vacancy_down=${vac?.vacancy_down ?? 0}% vacancy_up=${vac?.vacancy_up ?? 0}% vacancy=${vac?.vacancy ?? 0}%`;
  return s + '\n';
}

export function matchText(opts: PrintOptions, match: Match, priority: number, version: number): string {
  return opts.flow.match(match, priority, version);
}

function flowStatsFlags(flags: number): string {
  let s = '';
  if (flags & 1) s += 'send_flow_rem ';
  if (flags & 2) s += 'check_overlap ';
  if (flags & 4) s += 'reset_counts ';
  if (flags & 8) s += 'no_packet_counts ';
  if (flags & 16) s += 'no_byte_counts ';
  return s;
}

interface FlowStatsLike {
  cookie: bigint; duration_sec: number; duration_nsec: number; table_id: number; packet_count: bigint; byte_count: bigint;
  idle_timeout: number; hard_timeout: number; flags: number; importance: number; idle_age: number; hard_age: number;
  priority: number; match: Match; actions: string;
}

export function flowStats(fs: FlowStatsLike, opts: PrintOptions, version: number): string {
  let s = `cookie=${hex(fs.cookie)}, duration=${duration(fs.duration_sec, fs.duration_nsec)}, table=${fs.table_id}, `;
  s += `n_packets=${stat(fs.packet_count)}n_bytes=${stat(fs.byte_count)}`;
  if (fs.idle_timeout) s += `idle_timeout=${fs.idle_timeout}, `;
  if (fs.hard_timeout) s += `hard_timeout=${fs.hard_timeout}, `;
  if (fs.flags) s += flowStatsFlags(fs.flags);
  if (fs.importance) s += `importance=${fs.importance}, `;
  if (fs.idle_age >= 0) s += `idle_age=${fs.idle_age}, `;
  if (fs.hard_age >= 0 && fs.hard_age !== fs.duration_sec) s += `hard_age=${fs.hard_age}, `;
  const m = matchText(opts, fs.match, fs.priority, version);
  if (m) s += m + ' ';
  return s + 'actions=' + fs.actions;
}

export function actionsOf(opts: PrintOptions, e: { actions?: readonly Action[]; instructions?: readonly import('../index.js').Instruction[] }, version: number, match?: Match): string {
  if (e.instructions) return opts.flow.instructions(e.instructions, version, match);
  return opts.flow.actions(e.actions ?? [], version, match);
}

export interface BucketLike {
  weight?: number; watch_port?: number; watch_group?: number; bucket_id?: number; actions: readonly Action[];
  properties?: readonly { type: number; weight?: number; watch_port?: number; watch_group?: number }[];
}

/** OVS's ofp_print_group; OF1.5-layout buckets (OF1.5, and OF1.0's Nicira groups) carry ids and properties. */
export function group(
  opts: PrintOptions, version: number, id: number, type: number, buckets: readonly BucketLike[], suppressType = false,
  props: readonly { type: number; data?: Uint8Array }[] = [],
): string {
  let s = `group_id=${id}`;
  if (!suppressType) s += `,type=${['all', 'select', 'indirect', 'ff', 'unknown'][Math.min(type, 4)]}`;
  s += groupProperties(props);
  s += ',';
  for (const b of buckets) {
    s += 'bucket=';
    let weight = b.weight;
    let watchPort = b.watch_port;
    let watchGroup = b.watch_group;
    if (b.bucket_id !== undefined) {
      s += `bucket_id:${b.bucket_id === 0xfffffffd ? 'first' : b.bucket_id === 0xfffffffe ? 'last' : b.bucket_id === 0xffffffff ? 'all' : b.bucket_id}`;
      s += ',';
      for (const p of b.properties ?? []) {
        if (p.type === 0) weight = p.weight;
        if (p.type === 1) watchPort = p.watch_port;
        if (p.type === 2) watchGroup = p.watch_group;
      }
    }
    if ((weight ?? (type === 1 ? 1 : 0)) !== (type === 1 ? 1 : 0)) s += `weight:${weight},`;
    if (watchPort !== undefined && port16(watchPort, version) !== 0xffff) s += `watch_port:${portName(watchPort, version)},`;
    if (watchGroup !== undefined && watchGroup !== 0xffffffff) s += `watch_group:${watchGroup},`;
    s += 'actions=' + opts.flow.actions(b.actions, version) + ',';
  }
  return s.replace(/,$/, '');
}

function multipartFlags(flags: number, request: boolean, version: number): string {
  if (!flags) return '';
  let s = ' flags=';
  let f = flags;
  if ((!request || version >= 4) && f & 1) {
    s += '[more]';
    f &= ~1;
  }
  if (f) s += `[***unknown flags 0x${f.toString(16).padStart(4, '0')}***]`;
  return s;
}

export function formatBody(m: OfMessage, buf: Uint8Array, opts: PrintOptions): string {
  const v = m.version;
  switch (m.kind) {
    case 'HELLO': {
      const bm = m.body.elements.find((e) => e.type === 1 && 'bitmaps' in e);
      let versions: number[];
      if (bm && 'bitmaps' in bm) {
        versions = [];
        bm.bitmaps.forEach((w, i) => { for (let b = 0; b < 32; b++) if (w & (1 << b)) versions.push(i * 32 + b); });
      } else {
        versions = [];
        for (let x = 1; x <= v; x++) versions.push(x);
      }
      let s = '\n version bitmap: ' + versions.map((x) => '0x' + x.toString(16).padStart(2, '0')).join(', ');
      if (m.body.unparsed) s += '\n unknown data in hello:\n' + hexDump(buf);
      return s;
    }
    case 'ERROR': {
      const name = errorBodyName(v, m.body);
      if (!name) throw new PrintError('OFPBRC_BAD_LEN');
      let data = m.body.data;
      if (!('experimenter' in m.body) && m.body.type === NXET_VENDOR && v <= 2) data = data.subarray(8);
      const s = ` ${name}\n`;
      if (name === 'OFPHFC_INCOMPATIBLE' || name === 'OFPHFC_EPERM') return s + printable(data);
      return s + opts.print(data, 1);
    }
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY': {
      const n = m.body.data.length;
      return ` ${n} bytes of payload\n` + (opts.verbosity > 1 ? hexDump(m.body.data) : '');
    }
    case 'FEATURES_REQUEST': case 'GET_CONFIG_REQUEST': case 'BARRIER_REQUEST': case 'BARRIER_REPLY': case 'GET_ASYNC_REQUEST':
      return '';
    case 'FEATURES_REPLY': {
      const b = m.body;
      let s = ` dpid:${b.datapath_id.toString(16).padStart(16, '0')}\n`;
      s += `n_tables:${b.n_tables}, n_buffers:${b.n_buffers}`;
      if ('auxiliary_id' in b && b.auxiliary_id) s += `, auxiliary_id:${b.auxiliary_id}`;
      s += '\ncapabilities: ';
      s += bitNames(capabilities(b.capabilities, v), bitTable(CAPABILITIES)) + '\n';
      if ('actions' in b) s += 'actions: ' + actionBitmap(b.actions, v) + '\n';
      if ('ports' in b) s += formatPhyPorts(b.ports, v);
      return s;
    }
    case 'GET_CONFIG_REPLY':
    case 'SET_CONFIG': {
      const frag = ['normal', 'drop', 'reassemble', 'nx-match'][m.body.flags & 3];
      const ttl = v >= 2 && v <= 3 && m.body.flags & 4 ? ' invalid_ttl_to_controller' : '';
      return ` frags=${frag}${ttl} miss_send_len=${m.body.miss_send_len}\n`;
    }
    case 'PORT_STATUS': {
      const r = m.body.reason;
      if (r > 2) throw new PrintError('NXBRC_BAD_REASON');
      return [' ADD:', ' DEL:', ' MOD:'][r] + formatPhyPorts([m.body.desc], v);
    }
    case 'PORT_MOD': {
      const b = m.body;
      let adv = 0;
      if ('advertise' in b) adv = v === 1 ? features10(b.advertise) : features11(b.advertise);
      else for (const p of b.properties) if (p.type === 0 && 'advertise' in p) adv = features11(Number(p.advertise));
      const mask = v === 1 ? 0x7f : 0x65;
      let s = ` port: ${portName(b.port_no, v)}: addr:${b.hw_addr}\n`;
      s += `     config: ${formatPortConfig(b.config & mask)}\n     mask:   ${formatPortConfig(b.mask & mask)}\n`;
      return s + '     advertise: ' + (adv ? formatFeatures(adv) + '\n' : 'UNCHANGED\n');
    }
    case 'TABLE_MOD': {
      const b = m.body;
      let s = b.table_id === 0xff ? ' table_id: ALL_TABLES' : ` table_id=${b.table_id}`;
      if (v >= 5 && 'properties' in b) {
        let eviction = b.config & 4 ? 1 : 2;
        const vacancy = b.config & 8 ? 1 : 2;
        let vac: { vacancy_down?: number; vacancy_up?: number } | undefined;
        for (const p of b.properties) {
          // OVS stores the eviction property's flags in the eviction setting itself.
          if (p.type === 2 && 'flags' in p) eviction = Number(p.flags);
          if (p.type === 3 && 'vacancy_down' in p) vac = p as { vacancy_down: number; vacancy_up: number };
        }
        const name = (x: number) => ['default', 'on', 'off'][x] ?? '***error***';
        if (eviction !== 0) s += `, eviction=${name(eviction)}`;
        s += `, vacancy=${name(vacancy)}`;
        if (vacancy === 1) s += ` vacancy:${vac?.vacancy_down ?? 0},${vac?.vacancy_up ?? 0}`;
      }
      return s;
    }
    case 'FLOW_MOD':
    case 'NXT_FLOW_MOD': {
      const b = m.body;
      // OF1.0 (with OVS's flow_mod_table_id extension) carries the table in the command's high byte.
      const command = v === 1 ? b.command & 0xff : b.command;
      let s = ' ' + (['ADD', 'MOD', 'MOD_STRICT', 'DEL', 'DEL_STRICT'][command] ?? `cmd:${command}`);
      const tableId = 'table_id' in b ? b.table_id : b.command >> 8;
      // OVS's decoder refuses table 255 (OFPTT_ALL) except for deletes from OF1.2 on, and for everything in OF1.1.
      if (v >= 2 && m.kind === 'FLOW_MOD' && tableId === 0xff && (v === 2 || (command !== 3 && command !== 4))) {
        throw new PrintError('OFPFMFC_BAD_TABLE_ID');
      }
      // As OVS's match decoder: an NXM/OXM field without its prerequisites makes the message undecodable.
      if (m.kind === 'NXT_FLOW_MOD' || v >= 2) {
        const fields = Object.fromEntries(Object.entries(b.match as Match).filter(([name]) => MATCH_FIELD_NAMES.has(name)));
        try {
          checkPrerequisites(fields);
        } catch (e) {
          if (e instanceof OfError) throw new PrintError(e.error);
          throw e;
        }
      }
      if (tableId !== 0) s += ` table:${tableId}`;
      s += ' ';
      s += matchText(opts, b.match, b.priority, v);
      if (!s.endsWith(' ')) s += ' ';
      const cookieMask = 'cookie_mask' in b ? b.cookie_mask : 0n;
      if (cookieMask === 0n && b.cookie !== 0n && b.cookie !== 0xffffffffffffffffn) s += `cookie:${hex(b.cookie)} `;
      if (cookieMask !== 0n) s += `cookie:${hex(b.cookie)}/${hex(cookieMask)} `;
      const nxCookie = m.kind === 'NXT_FLOW_MOD' ? nxmCookie(b.match) : undefined;
      if (nxCookie && nxCookie.mask !== 0n) s += `cookie:${hex(nxCookie.value)}/${hex(nxCookie.mask ?? 0xffffffffffffffffn)} `;
      if (b.idle_timeout) s += `idle:${b.idle_timeout} `;
      if (b.hard_timeout) s += `hard:${b.hard_timeout} `;
      if ('importance' in b && b.importance) s += `importance:${b.importance} `;
      if (b.buffer_id !== 0xffffffff) s += `buf:0x${b.buffer_id.toString(16)} `;
      const outPort = port16(b.out_port, v);
      if (outPort !== 0xffff) s += `out_port:${portName(b.out_port, v)} `;
      s += flowModFlags(b.flags, v);
      return s + 'actions=' + actionsOf(opts, b as { actions?: readonly Action[] }, v, b.match);
    }
    case 'FLOW_REMOVED':
    case 'NXT_FLOW_REMOVED': {
      const b = m.body;
      let s = ' ' + matchText(opts, b.match, b.priority, v);
      s += ` reason=${reasonName(FLOW_REMOVED_REASONS, b.reason)}`;
      // Nicira's flow_removed carries the table plus one (0: unknown, which OVS reads as 255).
      const tableId = !('table_id' in b) ? 255 : m.kind === 'NXT_FLOW_REMOVED' ? (b.table_id + 255) & 0xff : b.table_id;
      if (tableId !== 255) s += ` table_id=${tableId}`;
      if (b.cookie !== 0n) s += ` cookie:${hex(b.cookie)}`;
      let sec: number, nsec: number, pkts: bigint, bytes: bigint;
      if ('stats' in b) {
        const d = b.stats.duration ?? 0n;
        sec = Number(d >> 32n);
        nsec = Number(d & 0xffffffffn);
        pkts = b.stats.packet_count ?? 0xffffffffffffffffn;
        bytes = b.stats.byte_count ?? 0xffffffffffffffffn;
      } else {
        sec = b.duration_sec;
        nsec = b.duration_nsec;
        pkts = b.packet_count;
        bytes = b.byte_count;
      }
      s += ` duration${duration(sec, nsec)} idle${b.idle_timeout}`;
      if ('hard_timeout' in b && b.hard_timeout) s += ` hard${b.hard_timeout}`;
      return s + ` pkts${u64(pkts)} bytes${u64(bytes)}\n`;
    }
    case 'PACKET_IN':
    case 'NXT_PACKET_IN':
    case 'NXT_PACKET_IN2':
      return packetIn(m, opts);
    case 'PACKET_OUT': {
      const b = m.body;
      const match: Match = 'match' in b ? b.match : { in_port: { value: BigInt(b.in_port) } };
      const inPort = match.in_port;
      const metadata: Match = inPort ? { in_port: { value: BigInt(port16(Number(inPort.value), v)) } } : {};
      let s = ' ' + matchText(opts, metadata, 0x8000, v) + ' actions=' + opts.flow.actions(b.actions, v, metadata);
      if (b.buffer_id === 0xffffffff) {
        s += ` data_len=${b.data.length}`;
        if (opts.verbosity > 0 && b.data.length > 0) s += '\n' + formatPacket(b.data);
        if (opts.verbosity > 2) s += hexDump(b.data, false);
      } else {
        s += ` buffer=0x${b.buffer_id.toString(16).padStart(8, '0')}`;
      }
      return s;
    }
    case 'GROUP_MOD':
    case 'NXT_GROUP_MOD': {
      const b = m.body;
      const cmd = ['ADD', 'MOD', 'DEL', 'INSERT_BUCKET', undefined, 'REMOVE_BUCKET'][b.command] ?? (b.command === 0x8000 ? 'ADD_OR_MOD' : `cmd:${b.command}`);
      const bucketCommand = b.command === 3 || b.command === 5;
      let s = `\n ${cmd} `;
      if (bucketCommand && 'command_bucket_id' in b) {
        const id = b.command_bucket_id;
        s += `command_bucket_id:${id === 0xfffffffd ? 'first' : id === 0xfffffffe ? 'last' : id === 0xffffffff ? 'all' : id},`;
      }
      const props = 'properties' in b ? b.properties as readonly { type: number; data?: Uint8Array }[] : [];
      return s + group(opts, v, b.group_id, b.type, b.buckets as readonly BucketLike[], bucketCommand, props);
    }
    case 'METER_MOD': {
      const b = m.body;
      const cmd = ['ADD', 'MOD', 'DEL'][b.command];
      return (cmd ? ` ${cmd} ` : ` cmd:${b.command} `) + meterConfig(b.flags, b.meter_id, b.bands as readonly Band[]);
    }
    case 'QUEUE_GET_CONFIG_REQUEST':
      return ` port=${portName(m.body.port, v)}`;
    case 'QUEUE_GET_CONFIG_REPLY': {
      const b = m.body;
      const queues = b.queues.map((q) => {
        let min = 0xffff, max = 0xffff;
        for (const p of q.properties) {
          if (p.type === 1 && 'rate' in p) min = Number(p.rate);
          if (p.type === 2 && 'rate' in p) max = Number(p.rate);
        }
        return { port: 'port' in q ? q.port : b.port, queue: q.queue_id, min, max };
      });
      queues.sort((a, c) => (port16(a.port, v) - port16(c.port, v)) || (a.queue - c.queue));
      let s = ' ';
      let port = 0;
      for (const q of queues) {
        if (q.port !== port) {
          port = q.port;
          s += `port=${portName(port, v)}\n`;
        }
        s += `queue ${q.queue}:${queueRate('min_rate', q.min)}${queueRate('max_rate', q.max)}\n`;
      }
      return s.replace(/ +$/, '');
    }
    case 'ROLE_REQUEST':
    case 'ROLE_REPLY': {
      const b = m.body;
      if (b.role > 3) throw new PrintError('OFPRRFC_BAD_ROLE');
      let s = ' role=' + roleName(b.role);
      if (b.role !== 0) s += ` generation_id=${u64(b.generation_id)}`;
      return s;
    }
    case 'NXT_ROLE_REQUEST':
    case 'NXT_ROLE_REPLY': {
      const r = m.body.role;
      if (r > 2) throw new PrintError('OFPRRFC_BAD_ROLE');
      return ' role=' + ['equal', 'primary', 'secondary'][r];
    }
    case 'ROLE_STATUS': {
      const b = m.body;
      let s = ' role=' + roleName(b.role);
      if (BigInt.asUintN(64, b.generation_id) !== 0xffffffffffffffffn) s += ` generation_id=${u64(b.generation_id)}`;
      return s + ' reason=' + (ROLE_REASONS[b.reason] ?? '(unknown)');
    }
    case 'GET_ASYNC_REPLY':
    case 'SET_ASYNC': {
      const b = m.body;
      const primary = [0, 0, 0, 0, 0, 0], secondary = [0, 0, 0, 0, 0, 0];
      const set = (t: number, isPrimary: boolean, mask: number) => (isPrimary ? primary : secondary)[t] = mask & asyncAllowed(t, v);
      if ('packet_in_mask' in b) {
        for (const [t, pair] of [b.packet_in_mask, b.port_status_mask, b.flow_removed_mask].entries()) {
          set(t, true, pair.master);
          set(t, false, pair.slave);
        }
      } else {
        for (const p of b.properties) {
          if (p.type < 12 && 'mask' in p) set(p.type >> 1, (p.type & 1) === 1, Number(p.mask));
        }
      }
      return formatAsync(primary, secondary);
    }
    case 'TABLE_STATUS': {
      const r = m.body.reason;
      let s = r === 3 ? ' reason=VACANCY_DOWN' : r === 4 ? ' reason=VACANCY_UP' : '';
      s += '\ntable_desc:-';
      return s + tableDesc(m.body.table as TableDescLike);
    }
    case 'REQUESTFORWARD': {
      const inner = m.body.request;
      const reason = inner.kind === 'GROUP_MOD' ? 'group_mod' : inner.kind === 'METER_MOD' ? 'meter_mod' : 'unknown';
      const innerBuf = buf.subarray(8);
      const text = formatBody(inner, innerBuf, opts);
      return ` reason=${reason}` + text;
    }
    case 'BUNDLE_CONTROL': {
      const b = m.body;
      const types = ['OPEN_REQUEST', 'OPEN_REPLY', 'CLOSE_REQUEST', 'CLOSE_REPLY', 'COMMIT_REQUEST', 'COMMIT_REPLY', 'DISCARD_REQUEST', 'DISCARD_REPLY'];
      return `\n bundle_id=${bundleId(b.bundle_id)} type=${types[b.type] ?? ''} flags=${bitNames(b.flags, bitTable(['atomic', 'ordered']))}`;
    }
    case 'BUNDLE_ADD_MESSAGE': {
      const b = m.body;
      // The inner message follows the bundle header, after the ONF experimenter words in OF1.3.
      const at = m.version === 4 ? 24 : 16;
      const len = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint16(2);
      const inner = buf.subarray(at, at + len);
      return `\n bundle_id=${bundleId(b.bundle_id)} flags=${bitNames(b.flags, bitTable(['atomic', 'ordered']))}\n` + opts.print(inner, opts.verbosity);
    }
    case 'NXT_SET_FLOW_FORMAT': {
      const f = m.body.format;
      return ' format=' + (f === 0 ? 'openflow10' : f === 2 ? 'nxm' : '(unknown)');
    }
    case 'NXT_FLOW_MOD_TABLE_ID':
      return ' ' + (m.body.set ? 'enable' : 'disable');
    case 'NXT_SET_PACKET_IN_FORMAT': {
      const f = m.body.format;
      const name = ['standard', 'nxt_packet_in', 'nxt_packet_in2'][f];
      if (!name) throw new PrintError('OFPBRC_EPERM');
      return ' format=' + name;
    }
    case 'NXT_SET_CONTROLLER_ID':
      return ` id=${m.body.controller_id}`;
    case 'NXT_FLOW_AGE':
      return '';
    case 'NXT_SET_ASYNC_CONFIG': {
      const b = m.body as unknown as { packet_in_mask: number[]; port_status_mask: number[]; flow_removed_mask: number[] };
      const primary = [b.packet_in_mask[0] & 7, b.port_status_mask[0] & 7, b.flow_removed_mask[0] & 0x3f, 0, 0, 0];
      const secondary = [b.packet_in_mask[1] & 7, b.port_status_mask[1] & 7, b.flow_removed_mask[1] & 0x3f, 0, 0, 0];
      return formatAsync(primary, secondary);
    }
    case 'EXPERIMENTER':
    case 'NXT_TLV_TABLE_REQUEST':
    case 'NXT_FLOW_MONITOR_PAUSED':
    case 'NXT_FLOW_MONITOR_RESUMED':
      return '';
    case 'NXT_TLV_TABLE_MOD': {
      if (m.body.command > 2) throw new PrintError('NXTTMFC_BAD_COMMAND');
      return tlvTableMod(m.body.command, m.body.maps);
    }
    case 'NXT_TLV_TABLE_REPLY':
      return tlvTableReply(m.body.max_option_space, m.body.max_fields, m.body.maps);
    case 'NXT_CT_FLUSH_ZONE':
      return ` zone_id=${m.body.zone_id}`;
    case 'NXT_CT_FLUSH':
      return ctFlush(m.body.ip_proto, m.body.properties as readonly { type: number }[]);
    case 'NXT_FLOW_MONITOR_CANCEL':
      return ` id=${m.body.id}`;
    case 'MULTIPART_REQUEST':
      return multipartFlags(m.body.flags, true, v) + statsRequest(m.body, v, opts);
    case 'MULTIPART_REPLY':
      return multipartFlags(m.body.flags, false, v) + statsReply(m.body, v, opts);
  }
}

function packetIn(m: OfMessage, opts: PrintOptions): string {
  const v = m.version;
  let tableId = 0, cookie = 0xffffffffffffffffn, totalLen = 0, bufferId = 0xffffffff, reason = 0;
  let match: Match = {};
  let data: Uint8Array = new Uint8Array(0);
  if (m.kind === 'PACKET_IN') {
    const b = m.body;
    totalLen = b.total_len;
    bufferId = b.buffer_id;
    reason = b.reason;
    data = b.data;
    if ('match' in b) {
      tableId = b.table_id;
      if ('cookie' in b) cookie = b.cookie as bigint;
      match = b.match;
    } else {
      match = { in_port: { value: BigInt(b.in_port) } };
    }
  } else if (m.kind === 'NXT_PACKET_IN') {
    const b = m.body as unknown as { total_len: number; buffer_id: number; reason: number; table_id: number; cookie: bigint; match: Match; data: Uint8Array };
    ({ total_len: totalLen, buffer_id: bufferId, reason, table_id: tableId, cookie, match, data } = b);
  } else if (m.kind === 'NXT_PACKET_IN2') {
    cookie = 0n;
    for (const p of m.body.properties as unknown as { type: number; data?: Uint8Array; value?: number | bigint; match?: Match }[]) {
      if (p.type === 0 && p.data) data = p.data;
      else if (p.type === 1) totalLen = Number(p.value);
      else if (p.type === 2) bufferId = Number(p.value);
      else if (p.type === 3) tableId = Number(p.value);
      else if (p.type === 4) cookie = BigInt(p.value ?? 0);
      else if (p.type === 5) reason = Number(p.value);
      else if (p.type === 6 && p.match) match = p.match;
    }
    if (!totalLen) totalLen = data.length;
  }
  if (v !== 1 && match.in_port) match = { ...match, in_port: { value: BigInt(port16(Number(match.in_port.value), v)) } };
  let s = '';
  if (tableId) s += ` table_id=${tableId}`;
  if (BigInt.asUintN(64, cookie) !== 0xffffffffffffffffn) s += ` cookie=${hex(cookie)}`;
  s += ` total_len=${totalLen} ` + matchText(opts, match, 0x8000, v);
  s += ` (via ${reason < PACKET_IN_REASONS.length ? PACKET_IN_REASONS[reason] : String(reason)})`;
  s += ` data_len=${data.length}`;
  if (bufferId === 0xffffffff) {
    s += ' (unbuffered)';
    if (totalLen !== data.length) s += ' (***total_len != data_len***)';
  } else {
    s += ` buffer=0x${bufferId.toString(16).padStart(8, '0')}`;
    if (totalLen < data.length) s += ' (***total_len < data_len***)';
  }
  s += '\n';
  if (opts.verbosity > 0) s += formatPacket(data);
  if (opts.verbosity > 2) s += hexDump(data, false);
  return s;
}
