// OFPMP_TABLE_FEATURES requests and replies as ovs-ofctl prints them: each
// table's properties reduced to OVS's view (instruction set, next tables,
// action and set-field sets, matchable/maskable/wildcardable fields), a table
// equal to the one before it reduced to "ditto", and field-name lists
// shortened by common prefixes ("eth_{src,dst}") and numeric runs
// ("reg0...reg15").

import type { TableFeatures } from '../index.js';
import { actionBitmap } from './body.js';
import { MF_FIELDS, mfFromHeader } from './mff.js';
import { PrintError, hex } from './util.js';

interface ActionFeatures { ofpacts: number; setFields: bigint }
interface InstructionFeatures { next: bigint; instructions: number; write: ActionFeatures; apply: ActionFeatures }
interface Features {
  tableId: number; name: string; command: number; metadataMatch: bigint; metadataWrite: bigint;
  eviction: number; vacancy: number; maxEntries: number;
  nonmiss: InstructionFeatures; miss: InstructionFeatures; match: bigint; mask: bigint; wildcard: bigint;
}

/** OFPIT_* → OVS's instruction index (meter, apply, clear, write, metadata, goto), the order they print in. */
const INSTRUCTION_INDEX: Record<number, number> = { 6: 0, 4: 1, 5: 2, 3: 3, 2: 4, 1: 5 };
const INSTRUCTION_NAMES = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];
/** The OFPAT_* bits OVS understands from OF1.2 on (others are dropped when decoding). */
const OFPAT12_KNOWN = 1 | (0x7ff << 15);
const REQUIRED = (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 12) | (1 << 14);

const bit = (i: number) => 1n << BigInt(i);

/** OXM ids (u32 headers; an experimenter header is followed by its experimenter id) as field bitmaps. */
function oxms(ids: readonly number[]): { exact: bigint; masked: bigint } {
  let exact = 0n, masked = 0n;
  for (let i = 0; i < ids.length; i++) {
    const h = ids[i] >>> 0;
    const cls = h >>> 16;
    const field = (h >>> 9) & 0x7f;
    const hasmask = (h >>> 8) & 1;
    let exp: number | undefined;
    if (cls === 0xffff) exp = ids[++i];
    const f = mfFromHeader(cls, field, exp);
    if (!f) continue;
    if (hasmask) masked |= bit(f.id);
    else exact |= bit(f.id);
  }
  return { exact, masked };
}

function emptyTif(): InstructionFeatures {
  return { next: 0n, instructions: 0, write: { ofpacts: 0, setFields: 0n }, apply: { ofpacts: 0, setFields: 0n } };
}

/** ofputil_decode_table_features, for printing. */
function decode(tf: TableFeatures, version: number): Features {
  if (tf.table_id === 0xff) throw new PrintError('OFPTFFC_BAD_TABLE');
  const caps = tf.capabilities;
  const f: Features = {
    tableId: tf.table_id, name: tf.name, command: version >= 6 ? tf.command : 0,
    metadataMatch: tf.metadata_match, metadataWrite: tf.metadata_write,
    eviction: version >= 5 ? (caps & 4 ? 1 : 0) : -1, vacancy: version >= 5 ? (caps & 8 ? 1 : 0) : -1,
    maxEntries: tf.max_entries, nonmiss: emptyTif(), miss: emptyTif(), match: 0n, mask: 0n, wildcard: 0n,
  };
  if (version >= 6 && f.command > 3) throw new PrintError('OFPTFFC_BAD_COMMAND');
  let seen = 0;
  for (const p of tf.properties) {
    if (p.type < 32) {
      if (seen & (1 << p.type)) throw new PrintError('OFPTFFC_BAD_FEATURES');
      seen |= 1 << p.type;
    }
    if ('raw' in p) continue;
    const tif = p.type & 1 ? f.miss : f.nonmiss;
    if ('ids' in p) {
      if (p.type <= 1) {
        for (const id of p.ids) if (INSTRUCTION_INDEX[id.type] !== undefined) tif.instructions |= 1 << INSTRUCTION_INDEX[id.type];
      } else {
        let types = 0;
        for (const id of p.ids) if (id.type < 32) types |= 1 << id.type;
        (p.type <= 5 ? tif.write : tif.apply).ofpacts = (types & OFPAT12_KNOWN) >>> 0;
      }
    } else if ('table_ids' in p) {
      if (p.type === 16) continue;
      let next = 0n;
      for (const t of p.table_ids) {
        if (t >= 255) throw new PrintError('OFPBPC_BAD_VALUE');
        next |= bit(t);
      }
      tif.next = next;
    } else if ('oxm_ids' in p) {
      const { exact, masked } = oxms(p.oxm_ids);
      if (p.type === 8) {
        f.match = exact;
        f.mask = masked;
      } else {
        if (masked) throw new PrintError('OFPBMC_BAD_MASK');
        if (p.type === 10) f.wildcard = exact;
        else (p.type <= 13 ? (p.type === 12 ? f.nonmiss : f.miss).write : (p.type === 14 ? f.nonmiss : f.miss).apply).setFields = exact;
      }
    }
  }
  const any = tf.properties.length > 0;
  if ((seen & REQUIRED) !== REQUIRED && (any || version < 6)) throw new PrintError('OFPTFFC_BAD_FEATURES');
  if (any) {
    const { nonmiss: n, miss: m } = f;
    if (!(seen & (1 << 1))) m.instructions = n.instructions;
    if (!(seen & (1 << 3))) m.next = n.next;
    if (!(seen & (1 << 5))) m.write.ofpacts = n.write.ofpacts;
    if (!(seen & (1 << 7))) m.apply.ofpacts = n.apply.ofpacts;
    if (!(seen & (1 << 13))) m.write.setFields = n.write.setFields;
    if (!(seen & (1 << 15))) m.apply.setFields = n.apply.setFields;
  }
  f.match |= f.mask;
  f.wildcard = (f.wildcard | f.mask) & f.match;
  return f;
}

// ---------------------------------------------------------------- names

function commonPrefix(a: string, b: string): number {
  let n = 0;
  for (let i = 0; ; i++) {
    if (i >= a.length || i >= b.length || a[i] !== b[i]) return n;
    if (a[i] === '_') n = i + 1;
  }
}

function sequential(a: string, b: string): boolean {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return false;
  const x = a.slice(i), y = b.slice(i);
  const digits = (s: string) => /^[0-9]*$/.test(s);
  return digits(x) && digits(y) && x.length < 10 && y.length < 10 && Number(x || 0) + 1 === Number(y || 0);
}

function suffixRun(ids: readonly string[]): number {
  for (let i = 1; ; i++) {
    if (i >= ids.length || !sequential(ids[i - 1], ids[i])) return i === 2 ? 1 : i;
  }
}

function prefixRun(ids: readonly string[], prefixLen: number): [number, number] {
  if (ids.length < 2) return [ids.length, 0];
  const extra = commonPrefix(ids[0].slice(prefixLen), ids[1].slice(prefixLen));
  if (!extra) return [1, 0];
  let i = 2;
  while (i < ids.length && commonPrefix(ids[0].slice(prefixLen), ids[i].slice(prefixLen))) i++;
  return [i, extra];
}

/** OVS's print_names: runs with a common "x_" prefix as x_{…}, numbered runs as x0...xN. */
function names(ids: readonly string[], prefixLen: number): string {
  let s = '';
  let rest = ids;
  let group = 0;
  while (rest.length) {
    if (group++) s += prefixLen ? ',' : ' ';
    const [pRun, extra] = prefixRun(rest, prefixLen);
    const sRun = suffixRun(rest);
    const run = Math.max(pRun, sRun);
    if (sRun >= pRun) {
      s += rest[0].slice(prefixLen);
      if (run > 1) s += '...' + rest[run - 1].slice(prefixLen);
    } else {
      s += rest[0].slice(prefixLen, prefixLen + extra) + '{' + names(rest.slice(0, run), prefixLen + extra) + '}';
    }
    rest = rest.slice(run);
  }
  return s;
}

function fieldList(bm: bigint): string {
  const ids: string[] = [];
  for (const f of MF_FIELDS) if (bm & bit(f.id)) ids.push(f.name);
  return ids.length ? ' ' + names(ids, 0) : '';
}

// ---------------------------------------------------------------- equality

const sameActions = (a: ActionFeatures, b: ActionFeatures) => a.ofpacts === b.ofpacts && a.setFields === b.setFields;
const emptyActions = (a: ActionFeatures) => !a.ofpacts && !a.setFields;

function sameNext(a: bigint, aId: number, b: bigint, bId: number): boolean {
  if (bId === aId + 1 && a & bit(bId) && !(b & bit(bId))) return ((a ^ b) & ~bit(bId)) === 0n;
  if (aId === bId + 1) return sameNext(b, bId, a, aId);
  return a === b;
}

function sameTif(a: InstructionFeatures, aId: number, b: InstructionFeatures, bId: number): boolean {
  return sameNext(a.next, aId, b.next, bId) && a.instructions === b.instructions && sameActions(a.write, b.write) && sameActions(a.apply, b.apply);
}

const emptyTifs = (t: InstructionFeatures) => !t.next && !t.instructions && emptyActions(t.write) && emptyActions(t.apply);

function sameFeatures(a: Features, b: Features): boolean {
  return a.metadataMatch === b.metadataMatch && a.metadataWrite === b.metadataWrite && a.eviction === b.eviction
    && a.vacancy === b.vacancy && a.maxEntries === b.maxEntries && sameTif(a.nonmiss, a.tableId, b.nonmiss, b.tableId)
    && sameTif(a.miss, a.tableId, b.miss, b.tableId) && a.match === b.match;
}

// ---------------------------------------------------------------- printing

function actionFeatures(a: ActionFeatures, v: number): string {
  let s = '';
  if (a.ofpacts) s += `        actions: ${actionBitmap(a.ofpacts, v)}\n`;
  if (a.setFields) s += `        supported on Set-Field:${fieldList(a.setFields)}\n`;
  return s;
}

function instructionFeatures(t: InstructionFeatures, prev: InstructionFeatures | undefined, v: number): string {
  let s = '';
  if (t.next) {
    const parts: string[] = [];
    for (let start = 0; start < 255; start++) {
      if (!(t.next & bit(start))) continue;
      let end = start + 1;
      while (end < 255 && t.next & bit(end)) end++;
      parts.push(end === start + 1 ? String(start) : `${start}-${end - 1}`);
      start = end;
    }
    s += `      next tables: ${parts.join(',') || 'none'}\n`;
  }
  if (t.instructions) {
    if (prev && t.instructions === prev.instructions) s += '      (same instructions)\n';
    else {
      const names: string[] = [];
      for (let i = 0; i < 32; i++) if (t.instructions & (1 << i)) names.push(INSTRUCTION_NAMES[i] ?? String(i));
      s += `      instructions: ${names.join(' ')}\n`;
    }
  }
  if (prev && sameActions(t.write, prev.write) && sameActions(t.apply, prev.apply) && t.write.setFields) {
    s += '      (same actions)\n';
  } else if (!sameActions(t.write, t.apply)) {
    s += '      Write-Actions features:\n' + actionFeatures(t.write, v) + '      Apply-Actions features:\n' + actionFeatures(t.apply, v);
  } else if (t.write.ofpacts || t.write.setFields) {
    s += '      Write-Actions and Apply-Actions features:\n' + actionFeatures(t.write, v);
  }
  return s;
}

function matches(bm: bigint, title: string): string {
  return bm ? `      ${title}:${fieldList(bm)}\n` : '';
}

const COMMANDS = ['replace', 'modify', 'enable', 'disable'];

/** The body of a TABLE_FEATURES request or reply (ofp_print_table_features_reply). */
export function formatTableFeatures(entries: readonly TableFeatures[], v: number): string {
  let s = '';
  let prev: Features | undefined;
  let first = -1, last = -1;
  const finish = () => {
    if (first >= 0) s += first === last ? `\n  table ${first}: ditto\n` : `\n  tables ${first}...${last}: ditto\n`;
    first = -1;
  };
  for (const e of entries) {
    let f: Features;
    try {
      f = decode(e, v);
    } catch (err) {
      if (!(err instanceof PrintError)) throw err;
      finish();
      throw new PrintError(err.error, s);
    }
    if (!prev && f.command !== 0) s += `\n  command: ${COMMANDS[f.command] ?? '***bad command***'}`;
    const same = prev !== undefined && sameFeatures(f, prev);
    if (same && !f.name) {
      if (first < 0) first = f.tableId;
      last = f.tableId;
    } else {
      finish();
      s += `\n  table ${f.tableId}` + (f.name ? ` ("${f.name}")` : '') + ':';
      s += same ? ' ditto' : '\n' + body(f, prev, v);
    }
    prev = f;
  }
  finish();
  return s;
}

function body(f: Features, prev: Features | undefined, v: number): string {
  let s = '';
  if (f.metadataMatch || f.metadataWrite) s += `    metadata: match=${altHex(f.metadataMatch)} write=${altHex(f.metadataWrite)}\n`;
  if (f.eviction >= 0) s += `    eviction: ${f.eviction ? '' : 'not '}supported\n`;
  if (f.vacancy >= 0) s += `    vacancy events: ${f.vacancy ? '' : 'not '}supported\n`;
  if (f.maxEntries) s += `    max_entries=${f.maxEntries}\n`;
  const id = f.tableId;
  if (prev && sameTif(f.nonmiss, id, prev.nonmiss, prev.tableId) && sameTif(f.miss, id, prev.miss, prev.tableId)) {
    if (!emptyTifs(f.nonmiss)) s += '    (same instructions)\n';
  } else if (!sameTif(f.nonmiss, id, f.miss, id)) {
    s += '    instructions (other than table miss):\n' + instructionFeatures(f.nonmiss, prev?.nonmiss, v);
    s += '    instructions (table miss):\n' + instructionFeatures(f.miss, prev?.miss, v);
  } else if (!emptyTifs(f.nonmiss)) {
    s += '    instructions (table miss and others):\n' + instructionFeatures(f.nonmiss, prev?.nonmiss, v);
  }
  if (f.match) {
    if (prev && f.match === prev.match) s += '    (same matching)\n';
    else {
      s += '    matching:\n';
      s += matches(f.match & f.mask & f.wildcard, 'arbitrary mask');
      s += matches(f.match & ~f.mask & f.wildcard, 'exact match or wildcard');
      s += matches(f.match & ~f.mask & ~f.wildcard, 'must exact match');
    }
  }
  return s;
}

/** printf's %#x for 64-bit values. */
function altHex(n: bigint): string {
  return n === 0n ? '0' : hex(BigInt.asUintN(64, n));
}
