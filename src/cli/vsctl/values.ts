// ovs-vsctl's human value syntax: parsing `key=value`, `[a,b]`, `{k=v}`,
// quoted strings and `@name` symbols into datums, and printing datums back
// the way OVS's ovsdb_datum_to_string / to_bare / to_json do.
import { randomUUID } from 'node:crypto';
import type { Atom, Datum } from '../../db/index.js';
import type { AtomicType, BaseType, ColumnType } from '../../db/index.js';
import { stringNeedsQuotes } from '../../db/index.js';

/** An error whose message is printed verbatim after "tsw-vsctl: ". */
export class VsctlError extends Error {}

/** The server rejected the transaction; `json` is its error object as OVS prints it. */
export class TxnError extends VsctlError {
  constructor(readonly json: string) {
    super(`transaction error: ${json}`);
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_RANGE_SIZE = 4096;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

// ---------------------------------------------------------------- symbols

export interface VsctlSymbol {
  uuid: string;
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}

/** The `@name` table shared by all commands of one invocation. */
export class SymbolTable {
  readonly symbols = new Map<string, VsctlSymbol>();

  get(name: string): VsctlSymbol | undefined {
    return this.symbols.get(name);
  }

  insert(name: string): VsctlSymbol {
    let sym = this.symbols.get(name);
    if (!sym) {
      sym = { uuid: randomUUID(), created: false, strongRef: false, weakRef: false };
      this.symbols.set(name, sym);
    }
    return sym;
  }
}

// ---------------------------------------------------------------- atoms

function utf8Compare(a: string, b: string): number {
  if (a === b) return 0;
  // Fast path: both plain ASCII compare the same in UTF-16 and UTF-8.
  const ascii = (x: string): boolean => {
    for (let i = 0; i < x.length; i++) if (x.charCodeAt(i) > 0x7f) return false;
    return true;
  };
  if (ascii(a) && ascii(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function compareAtoms(type: AtomicType, a: Atom, b: Atom): number {
  switch (type) {
    case 'integer':
    case 'real':
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 'boolean':
      return a === b ? 0 : a ? 1 : -1;
    case 'uuid':
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 'string':
      return utf8Compare(a as string, b as string);
  }
}

/** C's printf("%.*g", prec, x). */
export function formatG(x: number, prec = 15): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expStr] = x.toExponential(prec - 1).split('e');
  const exp = parseInt(expStr, 10);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= prec) {
    const e = Math.abs(exp);
    return `${strip(mant)}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return strip(x.toFixed(Math.max(0, prec - 1 - exp)));
}

/** OVS's JSON string serialization (escapes only what JSON requires). */
export function jsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c >= 0x20) out += ch;
    else if (c === 8) out += '\\b';
    else if (c === 9) out += '\\t';
    else if (c === 10) out += '\\n';
    else if (c === 12) out += '\\f';
    else if (c === 13) out += '\\r';
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

export function atomToString(type: AtomicType, a: Atom): string {
  switch (type) {
    case 'integer':
      return String(Math.trunc(a as number));
    case 'real':
      return formatG(a as number);
    case 'boolean':
      return a ? 'true' : 'false';
    case 'string':
      return stringNeedsQuotes(a as string) ? jsonString(a as string) : (a as string);
    case 'uuid':
      return a as string;
  }
}

function atomToBare(type: AtomicType, a: Atom): string {
  return type === 'string' ? (a as string) : atomToString(type, a);
}

// ---------------------------------------------------------------- datums

export function isMapType(t: ColumnType): boolean {
  return t.value !== undefined;
}

function isScalarType(t: ColumnType): boolean {
  return t.min === 1 && t.max === 1 && !t.value;
}

export function datumToString(type: ColumnType, d: Datum): string {
  const map = isMapType(type);
  const brackets = type.max > 1 || d.keys.length === 0;
  let out = brackets ? (map ? '{' : '[') : '';
  d.keys.forEach((k, i) => {
    if (i) out += ', ';
    out += atomToString(type.key.type, k);
    if (map && d.values && type.value) out += '=' + atomToString(type.value.type, d.values[i]);
  });
  return brackets ? out + (map ? '}' : ']') : out;
}

export function datumToBare(type: ColumnType, d: Datum): string {
  const map = isMapType(type);
  return d.keys
    .map((k, i) =>
      map && d.values && type.value
        ? `${atomToBare(type.key.type, k)}=${atomToBare(type.value.type, d.values[i])}`
        : atomToBare(type.key.type, k),
    )
    .join(' ');
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A number that OVS's JSON writer prints as a real, not an integer. */
export class JsonReal {
  constructor(readonly value: number) {}
}

type JsonOut = Json | JsonReal | JsonOut[] | { [k: string]: JsonOut };

function atomToJson(type: AtomicType, a: Atom): JsonOut {
  if (type === 'uuid') return ['uuid', a as string];
  if (type === 'real') return new JsonReal(a as number);
  return a as Json;
}

/** The OVSDB wire form, as ovsdb_datum_to_json builds it. */
export function datumToJson(type: ColumnType, d: Datum): JsonOut {
  if (isMapType(type) && type.value) {
    const vt = type.value.type;
    return ['map', d.keys.map((k, i) => [atomToJson(type.key.type, k), atomToJson(vt, (d.values ?? [])[i])])];
  }
  if (d.keys.length === 1) return atomToJson(type.key.type, d.keys[0]);
  return ['set', d.keys.map((k) => atomToJson(type.key.type, k))];
}

/** OVS's json_to_string with JSSF_SORT, optionally JSSF_PRETTY. */
export function serializeJson(j: JsonOut, pretty = false, depth = 0): string {
  const indent = (d: number): string => (pretty ? '\n' + ' '.repeat(2 * d) : '');
  if (j === null) return 'null';
  if (j instanceof JsonReal) return formatG(j.value);
  if (typeof j === 'boolean') return j ? 'true' : 'false';
  if (typeof j === 'number') return String(Math.trunc(j));
  if (typeof j === 'string') return jsonString(j);
  if (Array.isArray(j)) {
    if (!j.length) return '[]';
    return '[' + j.map((e) => indent(depth + 1) + serializeJson(e, pretty, depth + 1)).join(',') + ']';
  }
  const keys = Object.keys(j).sort(utf8Compare);
  return (
    '{' +
    indent(depth + 1) +
    keys.map((k) => jsonString(k) + ':' + (pretty ? ' ' : '') + serializeJson(j[k], pretty, depth + 1)).join(',' + indent(depth + 1)) +
    '}'
  );
}

export { datumIsDefault } from '../../db/index.js';

/** ovsdb_datum_compare_3way: by size, then keys, then values. */
export function datumCompare(type: ColumnType, a: Datum, b: Datum): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = compareAtoms(type.key.type, a.keys[i], b.keys[i]);
    if (c) return c;
  }
  if (type.value && a.values && b.values) {
    for (let i = 0; i < a.values.length; i++) {
      const c = compareAtoms(type.value.type, a.values[i], b.values[i]);
      if (c) return c;
    }
  }
  return 0;
}

export function findKey(type: ColumnType, d: Datum, key: Atom): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(type.key.type, d.keys[mid], key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function findKeyValue(type: ColumnType, d: Datum, key: Atom, value: Atom | undefined): boolean {
  const i = findKey(type, d, key);
  if (i < 0) return false;
  if (!type.value || value === undefined) return true;
  return compareAtoms(type.value.type, (d.values ?? [])[i], value) === 0;
}

/** Every element of `a` is in `b`. */
export function includesAll(type: ColumnType, a: Datum, b: Datum): boolean {
  return a.keys.every((k, i) => findKeyValue(type, b, k, a.values?.[i]));
}

/** No element of `a` is in `b`. */
export function excludesAll(type: ColumnType, a: Datum, b: Datum): boolean {
  return a.keys.every((k, i) => !findKeyValue(type, b, k, a.values?.[i]));
}

function sortedPairs(type: ColumnType, pairs: [Atom, Atom | undefined][]): Datum {
  pairs.sort((x, y) => compareAtoms(type.key.type, x[0], y[0]));
  return {
    keys: pairs.map((p) => p[0]),
    values: type.value ? pairs.map((p) => p[1] as Atom) : null,
  };
}

function pairsOf(d: Datum): [Atom, Atom | undefined][] {
  return d.keys.map((k, i) => [k, d.values ? d.values[i] : undefined]);
}

/** Adds the elements of `b` whose keys are not yet in `a`. */
export function datumUnion(type: ColumnType, a: Datum, b: Datum): Datum {
  const pairs = pairsOf(a);
  for (const [k, v] of pairsOf(b)) {
    if (findKey(type, a, k) < 0 && !pairs.some((p) => compareAtoms(type.key.type, p[0], k) === 0)) pairs.push([k, v]);
  }
  return sortedPairs(type, pairs);
}

/** Removes from `a` the elements of `b` (by key if `bType` has no values). */
export function datumSubtract(aType: ColumnType, a: Datum, bType: ColumnType, b: Datum): Datum {
  const keep = pairsOf(a).filter(([k, v]) => {
    const i = findKey(aType, b, k);
    if (i < 0) return true;
    if (bType.value && aType.value && b.values) return compareAtoms(aType.value.type, b.values[i], v as Atom) !== 0;
    return false;
  });
  return sortedPairs(aType, keep);
}

export function datumFromPairs(type: ColumnType, pairs: [Atom, Atom | undefined][]): Datum {
  return sortedPairs(type, pairs);
}

// ---------------------------------------------------------------- parsing

/** True for the characters that end a bare token (ovsdb_token_is_delim). */
function isDelim(c: string): boolean {
  return c === '' || ':=, []{}!<>'.includes(c);
}

/**
 * Reads one token from `s` at `pos`: up to an unquoted, unescaped delimiter.
 * Backslash escapes a delimiter (and is dropped); quotes are kept.
 */
export function parseToken(s: string, pos: number): { token: string; pos: number } {
  let out = '';
  let inQuotes = false;
  let p = pos;
  while (p < s.length) {
    const c = s[p++];
    if (c === '\\') {
      if (inQuotes) out += '\\';
      if (p >= s.length) throw new VsctlError(`${s.slice(pos)}: backslash at end of argument`);
      out += s[p++];
    } else if (!inQuotes && isDelim(c)) {
      p--;
      break;
    } else {
      out += c;
      if (c === '"') inQuotes = !inQuotes;
    }
  }
  if (inQuotes) throw new VsctlError(`${s.slice(pos)}: quoted string extends past end of argument`);
  return { token: out, pos: p };
}

function unescapeJsonString(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c === '"') throw new Error('quoted string may not include unescaped "');
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    i++;
    if (i >= body.length) throw new Error('quoted string may not end with backslash');
    const e = body[i++];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (e in simple) out += simple[e];
    else if (e === 'u') {
      const hex = body.slice(i, i + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Error('malformed \\u escape');
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else throw new Error(`bad escape \\${e}`);
  }
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function parseInteger(s: string): number | null {
  if (!/^\s*[+-]?\d+$/.test(s)) return null;
  const v = BigInt(s.trim());
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return Number(v);
}

function parseReal(s: string): number | null {
  const t = s.replace(/^\s+/, '');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return v === 0 ? 0 : v;
}

function constraintError(details: string): VsctlError {
  return new VsctlError(`constraint violation: ${details}`);
}

function enumDatum(base: BaseType): Datum {
  const keys = [...(base.enum ?? [])].sort((a, b) => compareAtoms(base.type, a, b));
  return { keys, values: null };
}

export function checkAtomConstraints(base: BaseType, a: Atom): void {
  if (base.enum && base.enum.length) {
    if (!base.enum.some((e) => compareAtoms(base.type, e, a) === 0)) {
      const valid = datumToString({ key: { type: base.type }, min: 0, max: Infinity }, enumDatum(base));
      throw constraintError(`${atomToString(base.type, a)} is not one of the allowed values (${valid})`);
    }
    return;
  }
  if (base.type === 'integer') {
    const v = a as number;
    const min = base.minInteger;
    const max = base.maxInteger;
    if ((min === undefined || v >= min) && (max === undefined || v <= max)) return;
    if (min !== undefined && max !== undefined) throw constraintError(`${v} is not in the valid range ${min} to ${max} (inclusive)`);
    if (min !== undefined) throw constraintError(`${v} is less than minimum allowed value ${min}`);
    throw constraintError(`${v} is greater than maximum allowed value ${max}`);
  }
  if (base.type === 'real') {
    const v = a as number;
    const min = base.minReal;
    const max = base.maxReal;
    if ((min === undefined || v >= min) && (max === undefined || v <= max)) return;
    const g = formatG;
    if (min !== undefined && max !== undefined) {
      throw constraintError(`${g(v)} is not in the valid range ${g(min)} to ${g(max)} (inclusive)`);
    }
    if (min !== undefined) throw constraintError(`${g(v)} is less than minimum allowed value ${g(min)}`);
    throw constraintError(`${g(v)} is greater than maximum allowed value ${g(max as number)}`);
  }
  if (base.type === 'string') {
    const s = a as string;
    const n = [...s].length;
    if (base.minLength !== undefined && n < base.minLength) {
      throw constraintError(`"${s}" length ${n} is less than minimum allowed length ${base.minLength}`);
    }
    if (base.maxLength !== undefined && n > base.maxLength) {
      throw constraintError(`"${s}" length ${n} is greater than maximum allowed length ${base.maxLength}`);
    }
  }
}

/** ovsdb_atom_from_string: one atom, with an optional integer range end. */
export function atomFromString(
  base: BaseType,
  s: string,
  symtab: SymbolTable | null,
  allowRange = false,
): { atom: Atom; rangeEnd?: number } {
  let atom: Atom;
  let rangeEnd: number | undefined;
  switch (base.type) {
    case 'integer': {
      const m = allowRange ? /^\s*([+-]?\d+)-([+-]?\d+)$/.exec(s) : null;
      if (m) {
        const a = parseInteger(m[1]);
        const b = parseInteger(m[2]);
        if (a !== null && b !== null) {
          if (b < a) throw new VsctlError(`"${s}" is not a valid range. Range end cannot be before start.`);
          atom = a;
          rangeEnd = b;
          break;
        }
      }
      const v = parseInteger(s);
      if (v === null) throw new VsctlError(`"${s}" is not a valid integer or range`);
      atom = v;
      break;
    }
    case 'real': {
      const v = parseReal(s);
      if (v === null) throw new VsctlError(`"${s}" is not a valid real number`);
      atom = v;
      break;
    }
    case 'boolean':
      if (['true', 'yes', 'on', '1'].includes(s)) atom = true;
      else if (['false', 'no', 'off', '0'].includes(s)) atom = false;
      else throw new VsctlError(`"${s}" is not a valid boolean (use "true" or "false")`);
      break;
    case 'string':
      if (s === '') {
        throw new VsctlError('An empty string is not valid as input; use "" to represent the empty string');
      } else if (s[0] === '"') {
        if (s.length < 2 || s[s.length - 1] !== '"') throw new VsctlError(`${s}: missing quote at end of quoted string`);
        try {
          atom = unescapeJsonString(s.slice(1, -1));
        } catch (e) {
          throw new VsctlError(`${s}: ${(e as Error).message}`);
        }
      } else atom = s;
      break;
    case 'uuid':
      if (s[0] === '@' && symtab) {
        const sym = symtab.insert(s);
        if (base.refTable) {
          if (base.refType === 'weak') sym.weakRef = true;
          else sym.strongRef = true;
        }
        atom = sym.uuid;
      } else if (isUuid(s)) atom = s.toLowerCase();
      else throw new VsctlError(`"${s}" is not a valid UUID`);
      break;
  }
  checkAtomConstraints(base, atom);
  if (rangeEnd !== undefined) {
    const start = atom as number;
    if (base.enum && base.enum.length) {
      for (let i = start + 1; i <= rangeEnd; i++) checkAtomConstraints(base, i);
    } else checkAtomConstraints(base, rangeEnd);
    if (rangeEnd - start >= MAX_RANGE_SIZE) {
      throw constraintError(`Range "${start}-${rangeEnd}" is too big. Maximum allowed size is ${MAX_RANGE_SIZE}.`);
    }
  }
  return { atom, rangeEnd };
}

function atomFromToken(s: string, pos: number, base: BaseType, symtab: SymbolTable | null, allowRange: boolean) {
  const t = parseToken(s, pos);
  return { ...atomFromString(base, t.token, symtab, allowRange), pos: t.pos };
}

function skipSpaces(s: string, p: number): number {
  while (p < s.length && /\s/.test(s[p])) p++;
  return p;
}

/** ovsdb_type_to_english. */
export function typeToEnglish(t: ColumnType): string {
  if (isScalarType(t)) return t.key.type;
  let s = t.value ? 'map' : 'set';
  if (t.max === Infinity) s += t.min ? ` of ${t.min} or more` : ' of';
  else if (t.min) s += ` of ${t.min} to ${t.max}`;
  else s += ` of up to ${t.max}`;
  return t.value ? `${s} (${t.key.type}, ${t.value.type}) pairs` : `${s} ${t.key.type}s`;
}

/** ovsdb_datum_from_string. */
export function datumFromString(type: ColumnType, s: string, symtab: SymbolTable | null): Datum {
  const map = isMapType(type);
  let p = skipSpaces(s, 0);
  let endDelim = '';
  if (s[p] === (map ? '{' : '[')) {
    endDelim = map ? '}' : ']';
    p = skipSpaces(s, p + 1);
  } else if (p >= s.length) {
    throw new VsctlError(map ? 'use "{}" to specify the empty map' : 'use "[]" to specify the empty set');
  }
  const pairs: [Atom, Atom | undefined][] = [];
  while (p < s.length && s[p] !== endDelim) {
    if (isDelim(s[p])) throw new VsctlError(`${s}: unexpected "${s[p]}" parsing ${typeToEnglish(type)}`);
    const start = p;
    const k = atomFromToken(s, p, type.key, symtab, true);
    p = k.pos;
    let value: Atom | undefined;
    if (type.value) {
      p = skipSpaces(s, p);
      if (s[p] !== '=') throw new VsctlError(`${s.slice(start)}: syntax error at "${s[p] ?? ''}" expecting "="`);
      p = skipSpaces(s, p + 1);
      const v = atomFromToken(s, p, type.value, symtab, false);
      p = v.pos;
      value = v.atom;
    }
    if (k.rangeEnd !== undefined) {
      for (let i = k.atom as number; i <= k.rangeEnd; i++) pairs.push([i, value]);
    } else pairs.push([k.atom, value]);
    p = skipSpaces(s, p);
    if (s[p] === ',') p = skipSpaces(s, p + 1);
  }
  if ((s[p] ?? '') !== endDelim) throw new VsctlError(`${s}: missing "${endDelim}" at end of data`);
  if (endDelim) {
    p = skipSpaces(s, p + 1);
    if (p < s.length) throw new VsctlError(`${s}: trailing garbage after "${endDelim}"`);
  }
  const what = map ? 'pair(s)' : 'value(s)';
  if (pairs.length < type.min) throw new VsctlError(`${s}: ${pairs.length} ${what} specified but the minimum number is ${type.min}`);
  if (pairs.length > type.max) throw new VsctlError(`${s}: ${pairs.length} ${what} specified but the maximum number is ${type.max}`);
  const d = sortedPairs(type, pairs);
  for (let i = 1; i < d.keys.length; i++) {
    if (compareAtoms(type.key.type, d.keys[i - 1], d.keys[i]) === 0) {
      throw new VsctlError(map ? `${s}: map contains duplicate key` : `${s}: set contains duplicate value`);
    }
  }
  return d;
}
