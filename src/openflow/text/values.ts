// Values in the text syntax: integers (decimal or 0x hex), Ethernet and IP
// addresses with masks, OpenFlow port names and flag lists, parsed and printed
// the way ovs-ofctl does.

import { fail } from './errors.js';
import { CT_STATE_NAMES, TCP_FLAG_NAMES, type TextField } from './fields.js';

/** Parses a non-negative integer in C's strtoull base-0 style (0x hex, else decimal); undefined if malformed. */
export function parseInteger(s: string): bigint | undefined {
  if (/^0x[0-9a-f]+$/i.test(s)) return BigInt(s);
  if (/^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
}

export function parseU16(s: string, what: string): number {
  const v = parseInteger(s);
  if (v === undefined || v > 0xffffn) fail(`invalid ${what} "${s}"`);
  return Number(v);
}

export function parseUint(s: string, what: string, max: bigint): bigint {
  const v = parseInteger(s);
  if (v === undefined || v > max) fail(`invalid ${what} "${s}"`);
  return v;
}

export function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}

/** C's "%#x": 0x-prefixed hex, but plain "0" for zero. */
export function altHex(v: bigint | number): string {
  return BigInt(v) === 0n ? '0' : '0x' + v.toString(16);
}

// ---------------------------------------------------------------- Ethernet

export function parseEth(s: string): bigint | undefined {
  const m = /^([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2}):([0-9a-f]{1,2})$/i.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(parseInt(m[i], 16));
  return v;
}

export function formatEth(v: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0'));
  return out.join(':');
}

// ---------------------------------------------------------------- IPv4 / IPv6

export function parseIpv4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    v = (v << 8n) | BigInt(b);
  }
  return v;
}

export function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String(Number((v >> s) & 0xffn))).join('.');
}

export function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9a-f:.]+$/i.test(s)) return undefined;
  let head = s;
  if (s.includes('.')) {
    // A dotted IPv4 tail stands for the last two groups.
    const lastColon = s.lastIndexOf(':');
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined || lastColon < 0) return undefined;
    head = s.slice(0, lastColon + 1) + (v4 >> 16n).toString(16) + ':' + (v4 & 0xffffn).toString(16);
  }
  const tail4: bigint | undefined = undefined;
  const parts = head.split('::');
  if (parts.length > 2) return undefined;
  const groups = (p: string) => (p === '' ? [] : p.split(':'));
  const left = groups(parts[0]);
  const right = parts.length === 2 ? groups(parts[1]) : [];
  const want = tail4 === undefined ? 8 : 6;
  let all: string[];
  if (parts.length === 2) {
    const fill = want - left.length - right.length;
    if (fill < 1) return undefined;
    all = [...left, ...Array<string>(fill).fill('0'), ...right];
  } else {
    all = left;
  }
  if (all.length !== want) return undefined;
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v << 32n) | tail4;
  return v;
}

/** RFC 5952 text, as inet_ntop writes it (including the ::a.b.c.d forms). */
export function formatIpv6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  // inet_ntop writes IPv4-compatible and -mapped addresses with a dotted tail.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || (g[5] === 0 && (g[6] !== 0 || g[7] > 1)))) {
    const v4 = formatIpv4(v & 0xffffffffn);
    return g[5] === 0xffff ? `::ffff:${v4}` : `::${v4}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hexs = g.map((x) => x.toString(16));
  if (best < 0) return hexs.join(':');
  return hexs.slice(0, best).join(':') + '::' + hexs.slice(best + bestLen).join(':');
}

/** Prefix length of a CIDR mask of `bits` bits, or undefined if the mask is not a prefix. */
export function prefixLen(mask: bigint, bits: number): number | undefined {
  const all = (1n << BigInt(bits)) - 1n;
  const inv = ~mask & all;
  if ((inv & (inv + 1n)) !== 0n) return undefined;
  return bits - inv.toString(2).replace(/^0+/, '').length;
}

export function prefixMask(n: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return n === 0 ? 0n : (all << BigInt(bits - n)) & all;
}

// ---------------------------------------------------------------- ports

/** OVS's 16-bit port space: reserved ports by name. */
export const OFPP = {
  MAX: 0xff00, UNSET: 0xfff7, IN_PORT: 0xfff8, TABLE: 0xfff9, NORMAL: 0xfffa, FLOOD: 0xfffb, ALL: 0xfffc,
  CONTROLLER: 0xfffd, LOCAL: 0xfffe, ANY: 0xffff, NONE: 0xffff,
} as const;

const PORT_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['IN_PORT', OFPP.IN_PORT], ['TABLE', OFPP.TABLE], ['NORMAL', OFPP.NORMAL], ['FLOOD', OFPP.FLOOD], ['ALL', OFPP.ALL],
  ['CONTROLLER', OFPP.CONTROLLER], ['LOCAL', OFPP.LOCAL], ['ANY', OFPP.ANY], ['UNSET', OFPP.UNSET], ['NONE', OFPP.NONE],
];

/** A port number or reserved name (case-insensitive); OF1.1+ numbers 0xffffff00.. map to the 16-bit space. */
export function parsePort(s: string): number | undefined {
  if (/^[0-9]+$/.test(s) || /^0x[0-9a-f]+$/i.test(s)) {
    const v = Number(BigInt(s));
    if (!/^[0-9]+$/.test(s)) return undefined;
    if (v <= 0xffff) return v;
    if (v >= 0xffffff00 && v <= 0xffffffff) return v - 0xffff0000;
    return undefined;
  }
  const hit = PORT_NAMES.find(([n]) => n.toLowerCase() === s.toLowerCase());
  return hit?.[1];
}

export function formatPort(p: number): string {
  const hit = PORT_NAMES.find(([, v]) => v === p);
  return hit ? hit[0] : String(p);
}

// ---------------------------------------------------------------- flags

function flagNames(field: TextField): readonly string[] {
  return field.format === 'tcp_flags' ? TCP_FLAG_NAMES : field.format === 'ct_state' ? CT_STATE_NAMES : ['oam'];
}

function flagWhat(field: TextField): string {
  return field.format === 'tcp_flags' ? 'TCP flag' : field.format === 'ct_state' ? 'ct_state flag' : 'tunnel flag';
}

/** `+a-b` (mask = the named bits), `a|b` (exact over every known bit) or numeric value[/mask]. */
export function parseFlags(field: TextField, s: string): { value: bigint; mask: bigint } {
  const names = flagNames(field);
  const num = numericMasked(field, s);
  if (num) return num;
  let value = 0n;
  let mask = 0n;
  if (s.startsWith('+') || s.startsWith('-')) {
    const re = /([+-])([^+-]*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s))) {
      const bit = names.indexOf(m[2]);
      if (bit < 0) fail(`${m[2]}: unknown ${flagWhat(field)}(s)`);
      const b = 1n << BigInt(bit);
      if (mask & b) fail(`${s}: Each ${flagWhat(field)} can be specified only once`);
      mask |= b;
      if (m[1] === '+') value |= b;
    }
    return { value, mask };
  }
  for (const part of s.split('|')) {
    const bit = names.indexOf(part);
    if (bit < 0) fail(`${part}: unknown ${flagWhat(field)}(s)`);
    value |= 1n << BigInt(bit);
  }
  return { value, mask: field.format === 'ct_state' ? 0xffn : (1n << BigInt(field.bits)) - 1n };
}

/** `value[/mask]` as integers, or undefined if `s` does not start with a digit. */
function numericMasked(field: TextField, s: string): { value: bigint; mask: bigint } | undefined {
  if (!/^[0-9]/.test(s)) return undefined;
  const [v, m, ...more] = s.split('/');
  const value = parseInteger(v);
  if (value === undefined) fail(`${s}: bad syntax for ${field.name} value`);
  if (more.length) fail(`${s}: bad syntax for ${field.name} mask`);
  if (m === undefined) return { value, mask: (1n << BigInt(field.bits)) - 1n };
  const mask = parseInteger(m);
  if (mask === undefined) fail(`${s}: bad syntax for ${field.name} mask`);
  return { value: value & mask, mask };
}

/** format_flags_masked: +name/-name for each bit of the mask, lowest first. */
export function formatFlagsMasked(names: readonly string[], value: bigint, mask: bigint): string {
  let out = '';
  for (let i = 0; mask >> BigInt(i); i++) {
    const b = 1n << BigInt(i);
    if (!(mask & b)) continue;
    const n = names[i] ?? `0x${b.toString(16)}`;
    out += (value & b ? '+' : '-') + n;
  }
  return out;
}

/** format_flags: names joined by `sep`, lowest bit first. */
export function formatFlags(names: readonly string[], value: bigint, sep: string): string {
  const out: string[] = [];
  for (let i = 0; value >> BigInt(i); i++) {
    const b = 1n << BigInt(i);
    if (value & b) out.push(names[i] ?? `0x${b.toString(16)}`);
  }
  return out.join(sep);
}
