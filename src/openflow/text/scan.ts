// The low-level scanning ovs-ofctl's parsers share: key-value pairs with
// nested parentheses (ofputil_parse_key_value), strtok-style tokens, and C's
// unsigned integer conversions with OVS's error messages.

import { fail } from './errors.js';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** The text after this pair (OVS quotes it in some errors). */
  readonly rest: string;
}

/** Length of a value up to one of `delims`, skipping over balanced parentheses. */
function valueLength(s: string, from: number, delims: string): number {
  let n = from;
  while (n < s.length && !delims.includes(s[n])) {
    if (s[n] === '(') {
      let level = 0;
      do {
        if (s[n] === '(') level++;
        else if (s[n] === ')') level--;
        n++;
      } while (n < s.length && level > 0);
      if (level > 0) return n - from;
    } else {
      n++;
    }
  }
  return n - from;
}

/**
 * The key-value pairs of `s`, separated by commas or white space: "key",
 * "key=value", "key:value" (to the next comma or blank) or "key(value)" (to
 * the matching parenthesis; "(x)->y" keeps the "->y").
 */
export function* keyValues(s: string): Generator<KeyValue> {
  let pos = 0;
  for (;;) {
    while (pos < s.length && ', \t\r\n'.includes(s[pos])) pos++;
    if (pos >= s.length) return;
    let keyEnd = pos;
    while (keyEnd < s.length && !':=(, \t\r\n'.includes(s[keyEnd])) keyEnd++;
    const key = s.slice(pos, keyEnd);
    const delim = s[keyEnd];
    pos = keyEnd + (delim === undefined ? 0 : 1);
    if (delim !== ':' && delim !== '=' && delim !== '(') {
      yield { key, value: '', rest: s.slice(pos) };
      continue;
    }
    const start = pos;
    let len = valueLength(s, start, delim === '(' ? ')' : ', \t\r\n');
    if (delim === '(' && s[start + len] === ')' && s.slice(start + len + 1, start + len + 3) === '->') {
      len += valueLength(s, start + len, ', \t\r\n');
    }
    const value = s.slice(start, start + len);
    pos = start + len + (start + len < s.length ? 1 : 0);
    yield { key, value, rest: s.slice(pos) };
  }
}

/** C strtoul/strtoull with base 0 on a 64-bit machine: [value, rest] (rest is all of `s` when nothing converts). */
export function strtoul(s: string): [bigint, string, boolean] {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (!m) return [0n, s, false];
  const digits = m[2];
  let v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.startsWith('0') && digits.length > 1 ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  const overflow = v > 0xffffffffffffffffn;
  if (overflow) v = 0xffffffffffffffffn;
  else if (m[1] === '-') v = BigInt.asUintN(64, -v);
  return [v, s.slice(m[0].length), overflow];
}

/** OVS's str_to_u32 (truncating what strtoul gives to 32 bits, as C does). */
export function strToU32(s: string): number {
  if (!s) fail('missing required numeric argument');
  const [v, rest, overflow] = strtoul(s);
  if (rest.length || overflow || rest === s) fail(`invalid numeric format ${s}`);
  return Number(v & 0xffffffffn);
}

export function strToU64(s: string): bigint {
  if (!s) fail('missing required numeric argument');
  const [v, rest, overflow] = strtoul(s);
  if (rest.length || overflow || rest === s) fail(`invalid numeric format ${s}`);
  return v;
}

/** C strtol into an int, whole string (OVS's str_to_int): undefined when malformed or out of range. */
function strToInt(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const d = m[2];
  const v = /^0[xX]/.test(d) ? Number(BigInt(d)) : d.startsWith('0') && d.length > 1 ? parseInt(d.slice(1), 8) : Number(d);
  const signed = m[1] === '-' ? -v : v;
  return signed < -0x80000000 || signed > 0x7fffffff ? undefined : signed;
}

/** OVS's str_to_u16: `invalid NAME "S"`. */
export function strToU16(s: string, name: string): number {
  const v = strToInt(s);
  if (v === undefined || v < 0 || v > 65535) fail(`invalid ${name} "${s}"`);
  return v;
}

/** OVS's str_to_u8: `invalid NAME "S"`. */
export function strToU8(s: string, name: string): number {
  const v = strToInt(s);
  if (v === undefined || v < 0 || v > 255) fail(`invalid ${name} "${s}"`);
  return v;
}
