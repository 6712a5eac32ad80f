// Datapath commands: conntrack zone timeout policies (add-zone-tp,
// del-zone-tp, list-zone-tp) and list-dp-cap. A datapath is named by its key
// in Open_vSwitch.datapaths; its ct_zones map a zone id to a CT_Zone row whose
// timeout_policy points at a CT_Timeout_Policy.
import type { Atom, Datum } from '../../db/index.js';
import type { IdlRow } from '../../db/index.js';
import type { CommandContext } from './context.js';
import { hmapOrder, ovsHashString } from './context.js';
import { VsctlError, compareAtoms } from './values.js';
import type { VsctlState } from './bridge-tree.js';

/** How ovs-vsctl prints an int64 with PRIu64. */
function asUnsigned(v: number): string {
  return BigInt.asUintN(64, BigInt(v)).toString();
}

/**
 * The zone id of a "zone=ID" argument, read as OVS's scanf-alike reads
 * "zone=%i": optional blanks and sign, then 0x-hex, 0-octal or decimal;
 * trailing text is ignored. ovs-vsctl leaves the id uninitialized when the
 * argument does not match (and then acts on whatever the stack held); tsw
 * rejects it instead.
 */
export function parseZoneArg(arg: string): number {
  const m = /^zone=[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[xX]|0[0-7]*|[1-9][0-9]*)/.exec(arg);
  if (!m || /^0[xX]$/.test(m[2])) throw new VsctlError(`invalid zone "${arg}" (expected zone=ZONE_ID)`);
  const digits = m[2];
  let v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.startsWith('0') ? BigInt('0o0' + digits) : BigInt(digits);
  if (m[1] === '-') v = -v;
  // The scanner accumulates in a 64-bit unsigned integer: it wraps.
  return Number(BigInt.asIntN(64, v));
}

/** C's atoi as glibc does it: strtol (clamped to the long range), then truncated to int. */
function cAtoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  if (!m) return 0;
  let v = BigInt(m[1]);
  const LONG_MAX = (1n << 63n) - 1n;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
  return Number(BigInt.asIntN(32, v));
}

/** Length of a value up to one of `delims`, stepping over balanced parentheses. */
function valueLength(s: string, delims: string): number {
  let n = 0;
  while (n < s.length && !delims.includes(s[n])) {
    if (s[n] === '(') {
      let level = 0;
      do {
        if (n >= s.length) return n;
        if (s[n] === '(') level++;
        else if (s[n] === ')') level--;
        n++;
      } while (level > 0);
    } else n++;
  }
  return n;
}

/**
 * One timeout argument: the first KEY=VALUE (or KEY:VALUE, KEY(VALUE)) pair
 * in it, with VALUE read by atoi. ovs-vsctl crashes on an argument that holds
 * no pair at all; tsw reports it.
 */
function parseTimeoutArg(arg: string): [string, number] {
  const s = arg.replace(/^[, \t\r\n]+/, '');
  if (!s) throw new VsctlError(`invalid timeout policy "${arg}" (expected KEY=VALUE)`);
  const keyLen = /^[^:=(, \t\r\n]*/.exec(s)![0].length;
  const key = s.slice(0, keyLen);
  const delim = s[keyLen];
  if (delim !== ':' && delim !== '=' && delim !== '(') return [key, 0];
  const rest = s.slice(keyLen + 1);
  let len = valueLength(rest, delim === '(' ? ')' : ', \t\r\n');
  if (delim === '(' && rest.slice(len, len + 3) === ')->') len += valueLength(rest.slice(len), ', \t\r\n');
  return [key, cAtoi(rest.slice(0, len))];
}

/** Map pairs as OVS's IDL stores them: sorted by key, then value; the first of equal keys stays. */
export function sortUniquePairs(pairs: [Atom, Atom][], keyType: 'integer' | 'string', valueType: 'integer' | 'string'): Datum {
  const sorted = [...pairs].sort((a, b) => compareAtoms(keyType, a[0], b[0]) || compareAtoms(valueType, a[1], b[1]));
  const keys: Atom[] = [];
  const values: Atom[] = [];
  for (const [k, v] of sorted) {
    if (keys.length && compareAtoms(keyType, keys[keys.length - 1], k) === 0) continue;
    keys.push(k);
    values.push(v);
  }
  return { keys, values };
}

function findDatapath(st: VsctlState, name: string): IdlRow | undefined {
  const d = st.db.get(st.ovs, 'datapaths');
  const i = d.keys.indexOf(name);
  return i >= 0 ? st.db.row('Datapath', (d.values ?? [])[i] as string) : undefined;
}

/**
 * Zone edits of this invocation on one datapath. ovs-vsctl changes ct_zones
 * key by key (partial map updates), which later commands of the same run do
 * not see: they look zones up in the value read from the database. tsw keeps
 * that value, applies the edits to it (the last edit of a key wins) and
 * writes the whole column, verified so that a concurrent change re-runs the
 * commands instead of being overwritten.
 */
export interface ZoneEdits {
  seen: Datum;
  edits: Map<number, string | null>;
}

function zoneEdits(st: VsctlState, dp: IdlRow): ZoneEdits {
  let z = st.zoneEdits.get(dp.uuid);
  if (!z) {
    z = { seen: st.db.get(dp, 'ct_zones'), edits: new Map() };
    st.zoneEdits.set(dp.uuid, z);
  }
  return z;
}

function findZone(st: VsctlState, dp: IdlRow, zone: number): IdlRow | undefined {
  const seen = zoneEdits(st, dp).seen;
  const i = seen.keys.indexOf(zone);
  return i >= 0 ? st.db.row('CT_Zone', (seen.values ?? [])[i] as string) : undefined;
}

function editZone(st: VsctlState, dp: IdlRow, zone: number, ctZone: string | null): void {
  const z = zoneEdits(st, dp);
  z.edits.set(zone, ctZone);
  const pairs = new Map<number, string>();
  z.seen.keys.forEach((k, i) => pairs.set(k as number, (z.seen.values ?? [])[i] as string));
  for (const [k, v] of z.edits) {
    if (v === null) pairs.delete(k);
    else pairs.set(k, v);
  }
  st.db.verify(dp, 'ct_zones');
  st.db.set(dp, 'ct_zones', sortUniquePairs([...pairs], 'integer', 'string'));
}

/** An existing CT_Timeout_Policy with exactly these timeouts, or a new one. */
function timeoutPolicy(st: VsctlState, args: string[]): IdlRow {
  const pairs = args.map(parseTimeoutArg);
  // Compared as OVS compares them: the last value of a repeated key, as unsigned int.
  const wanted = new Map<string, number>();
  for (const [k, v] of pairs) wanted.set(k, v >>> 0);
  for (const row of st.db.rows('CT_Timeout_Policy')) {
    const t = st.db.get(row, 'timeouts');
    if (t.keys.length !== wanted.size) continue;
    if (t.keys.every((k, i) => wanted.get(k as string) === ((t.values ?? [])[i] as number) >>> 0)) return row;
  }
  const tp = st.db.insert('CT_Timeout_Policy');
  st.db.set(tp, 'timeouts', sortUniquePairs(pairs, 'string', 'integer'));
  return tp;
}

function cmdAddZoneTp(st: VsctlState, ctx: CommandContext): void {
  const dpName = ctx.argv[1];
  const zoneId = parseZoneArg(ctx.argv[2]);
  const dp = findDatapath(st, dpName);
  if (!dp) throw new VsctlError(`datapath ${dpName} does not exist`);
  const zone = findZone(st, dp, zoneId);
  if (zone && !ctx.options.has('--may-exist')) throw new VsctlError(`zone id ${asUnsigned(zoneId)} already exists`);
  const tp = timeoutPolicy(st, ctx.argv.slice(3));
  const ref: Datum = { keys: [tp.uuid], values: null };
  if (zone) {
    st.db.set(zone, 'timeout_policy', ref);
    return;
  }
  const row = st.db.insert('CT_Zone');
  st.db.set(row, 'timeout_policy', ref);
  editZone(st, dp, zoneId, row.uuid);
}

function cmdDelZoneTp(st: VsctlState, ctx: CommandContext): void {
  const dpName = ctx.argv[1];
  const zoneId = parseZoneArg(ctx.argv[2]);
  const dp = findDatapath(st, dpName);
  if (!dp) throw new VsctlError(`datapath ${dpName} does not exist`);
  const zone = findZone(st, dp, zoneId);
  if (!zone) {
    if (!ctx.options.has('--if-exists')) throw new VsctlError(`zone id ${asUnsigned(zoneId)} does not exist`);
    return;
  }
  editZone(st, dp, zoneId, null);
}

function cmdListZoneTp(st: VsctlState, ctx: CommandContext): void {
  const dp = findDatapath(st, ctx.argv[1]);
  if (!dp) throw new VsctlError(`datapath: ${ctx.argv[1]} record not found`);
  const zones = zoneEdits(st, dp).seen;
  zones.keys.forEach((k, i) => {
    const zone = st.db.row('CT_Zone', (zones.values ?? [])[i] as string);
    const tpRef = zone ? st.db.get(zone, 'timeout_policy').keys : [];
    const tp = tpRef.length ? st.db.row('CT_Timeout_Policy', tpRef[0] as string) : undefined;
    let policies: string;
    if (tp) {
      const t = st.db.get(tp, 'timeouts');
      policies = t.keys.map((key, j) => `${key as string}=${asUnsigned((t.values ?? [])[j] as number)}`).join(' ');
    } else policies = 'system default';
    ctx.output += `Zone:${asUnsigned(k as number)}, Timeout Policies: ${policies}`.replace(/ $/, '') + '\n';
  });
}

function cmdListDpCap(st: VsctlState, ctx: CommandContext): void {
  const dp = findDatapath(st, ctx.argv[1]);
  if (!dp) throw new VsctlError(`datapath "${ctx.argv[1]}" record not found`);
  const caps = st.db.get(dp, 'capabilities');
  const pairs = caps.keys.map((k, i) => [k as string, (caps.values ?? [])[i] as string] as const);
  // ovs-vsctl walks the capabilities as its IDL hashed them (an smap), not sorted.
  const text = hmapOrder(pairs, (p) => ovsHashString(p[0])).map(([k, v]) => `${k}=${v} `).join('');
  ctx.output += text.replace(/ $/, '') + '\n';
}

export const DATAPATH_COMMANDS: Record<string, (st: VsctlState, ctx: CommandContext) => void> = {
  'add-zone-tp': cmdAddZoneTp,
  'del-zone-tp': cmdDelZoneTp,
  'list-zone-tp': cmdListZoneTp,
  'list-dp-cap': cmdListDpCap,
};
