// tsw-ofctl's flow table commands: dump-flows, dump-aggregate, add-flow(s),
// mod-flows, del-flows, replace-flows, diff-flows. Flow formats are
// negotiated as ovs-ofctl does (NXT_SET_FLOW_FORMAT on OF1.0, with fallback).

import { existsSync, readFileSync } from 'node:fs';
import {
  FlowSyntaxError, NXM_COOKIE, decodeMessage, flowProtocols, formatActions, formatWireMatch, parseFlow, protocolsToString,
  versionOfBit, type FlowCommand, type FlowStats, type Match, type NxFlowStats, type TextFlow,
} from '../../openflow/index.js';
import { P, P_OF13_UP, fatal, protocolOfVersion, run, type Io, type OfctlOptions } from './common.js';
import type { OnlineHandler } from './cmds-info.js';
import { namesForParse, portsToAccept, tablesToAccept, substituteNames } from './names.js';
import { encodeFlow } from './parse.js';
import { flowEntry, formatFlowEntry, type FlowEntry } from './text.js';
import { bundleTransact } from './bundle.js';
import { ExitStatus, allocXid, collectMultipart, dumpTransaction, openVconn, printMessage, type Unsent, type Vconn } from './vconn.js';

/** The order ovs-ofctl tries protocols in for flow dumps (ofputil_flow_dump_protocols). */
const DUMP_PROTOCOLS = [P.OF15_OXM, P.OF14_OXM, P.OF13_OXM, P.OF12_OXM, P.OF11_STD, P.OF10_NXM, P.OF10_STD];
const P_TID = P.OF10_STD_TID | P.OF10_NXM_TID;

export function syntax<T>(f: () => T, where = ''): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FlowSyntaxError) fatal(where + e.message);
    throw e;
  }
}

/** try_set_protocol: Nicira flow format and table_id messages, each with a barrier; false when the switch refuses. */
export async function trySetProtocol(v: Vconn, want: number, cur: { p: number }): Promise<boolean> {
  if (versionOfBit(want) !== versionOfBit(cur.p)) return cur.p === want;
  for (;;) {
    let msg: Unsent | undefined;
    let next = cur.p;
    const nxm = (p: number) => (p & (P.OF10_NXM | P.OF10_NXM_TID)) !== 0;
    const tid = (p: number) => (p & P_TID) !== 0;
    if (nxm(cur.p) !== nxm(want)) {
      next = nxm(want) ? (tid(cur.p) ? P.OF10_NXM_TID : P.OF10_NXM) : (tid(cur.p) ? P.OF10_STD_TID : P.OF10_STD);
      msg = { version: 1, kind: 'NXT_SET_FLOW_FORMAT', body: { format: nxm(want) ? 2 : 0 } } as Unsent;
    } else if (tid(cur.p) !== tid(want)) {
      next = want;
      msg = { version: 1, kind: 'NXT_FLOW_MOD_TABLE_ID', body: { set: tid(want) ? 1 : 0 } } as Unsent;
    }
    if (!msg) return cur.p === want;
    const reply = await run(v.transactNoReply(msg), `talking to ${v.name}`);
    if (reply) return false;
    cur.p = next;
  }
}

export async function setProtocolForFlowDump(v: Vconn, usable: number, o: OfctlOptions): Promise<number> {
  const cur = { p: protocolOfVersion(v.version) };
  for (const f of DUMP_PROTOCOLS) {
    if (f & usable & o.allowed && (await trySetProtocol(v, f, cur))) return f;
  }
  if (usable & o.allowed) fatal(`switch does not support any of the usable flow formats (${protocolsToString(usable)})`);
  fatal(`none of the usable flow formats (${protocolsToString(usable)}) is among the allowed flow formats (${protocolsToString(o.allowed)})`);
}

/** open_vconn_for_flow_mod: a connection and the protocol to send flow mods in. */
export async function openForFlowMod(target: string, usable: number, o: OfctlOptions, io: Io): Promise<{ v: Vconn; protocol: number }> {
  if (!(usable & o.allowed)) {
    fatal(`none of the usable flow formats (${protocolsToString(usable)}) is among the allowed flow formats (${protocolsToString(o.allowed)})`);
  }
  const v = await openVconn(target, o, io);
  const cur = { p: protocolOfVersion(v.version) };
  if (usable & o.allowed & cur.p) return { v, protocol: cur.p };
  for (let i = 0; i < 9; i++) {
    const f = 1 << i;
    if (f !== cur.p && f & usable & o.allowed && (await trySetProtocol(v, f, cur))) return { v, protocol: f };
  }
  fatal(`switch does not support any of the usable flow formats (${protocolsToString(usable)})`);
}

/** The flow stats request for a filter, in a protocol (OFPST_FLOW, NXST_FLOW or OF1.1+ multipart). */
function flowStatsRequest(f: TextFlow, aggregate: boolean, protocol: number, version: number): Unsent {
  if (protocol & (P.OF10_NXM | P.OF10_NXM_TID)) {
    const match: Match = f.cookie_mask ? { ...f.match, [NXM_COOKIE]: { value: f.cookie, mask: f.cookie_mask === 0xffffffffffffffffn ? undefined : f.cookie_mask } } as Match : f.match;
    return { version, kind: 'MULTIPART_REQUEST', body: { stat: aggregate ? 'NX_AGGREGATE' : 'NX_FLOW', flags: 0, body: { out_port: f.out_port, table_id: f.table, match } } } as Unsent;
  }
  if (version === 1) {
    return { version, kind: 'MULTIPART_REQUEST', body: { stat: aggregate ? 'AGGREGATE' : 'FLOW', flags: 0, body: { match: f.match, table_id: f.table, out_port: f.out_port } } } as Unsent;
  }
  const outPort = f.out_port >= 0xff00 ? (f.out_port + 0xffff0000) >>> 0 : f.out_port;
  const body = { table_id: f.table, out_port: outPort, out_group: f.out_group, cookie: f.cookie, cookie_mask: f.cookie_mask, match: f.match };
  return { version, kind: 'MULTIPART_REQUEST', body: { stat: aggregate ? 'AGGREGATE' : 'FLOW', flags: 0, body } } as Unsent;
}

/** parse_ofp_flow_stats_request_str: the filter's flow and the protocols that can carry it (table ids not needed). */
function parseFilter(text: string): { flow: TextFlow; usable: number } {
  return syntax(() => {
    const flow = parseFlow(text, 'delete');
    let usable = flowProtocols(text, flow);
    if (usable & P.OF10_STD_TID) usable |= P.OF10_STD;
    if (usable & P.OF10_NXM_TID) usable |= P.OF10_NXM;
    return { flow, usable };
  });
}

async function prepareDump(target: string, filter: string, aggregate: boolean, o: OfctlOptions, io: Io): Promise<{ v: Vconn; req: Unsent }> {
  let text = filter;
  if (text) {
    const ports = await portsToAccept(target, o, io);
    const tables = await tablesToAccept(target, o, io);
    text = substituteNames(text, { ports, tables });
  }
  const { flow, usable } = parseFilter(text);
  const v = await openVconn(target, o, io);
  const protocol = await setProtocolForFlowDump(v, usable, o);
  return { v, req: flowStatsRequest(flow, aggregate, protocol, v.version) };
}

/** vconn_dump_flows: every flow entry of the replies. */
async function dumpFlowEntries(v: Vconn, req: Unsent, o: OfctlOptions): Promise<FlowEntry[]> {
  const { parts, error } = await collectMultipart(v, { ...req, xid: allocXid() } as Unsent, o);
  if (error) fatal(`dump flows (${errorText(error)})`);
  // vconn_dump_flows decodes without the flow age extension: no hard_age, and idle_age only
  // where the version's own statistics carry it (OF1.5's idle_time).
  return parts.flatMap((p) => (p.body as { entries: (FlowStats | NxFlowStats)[] }).entries
    .map((e) => {
      const entry = flowEntry(e, v.version);
      return { ...entry, idle_age: v.version >= 6 ? entry.idle_age : -1, hard_age: -1 };
    }));
}

function errorText(b: Uint8Array): string {
  try {
    const m = decodeMessage(b);
    return m.kind === 'ERROR' ? printMessage(b, 0).trim() : 'Protocol error';
  } catch {
    return 'Protocol error';
  }
}

/** compare_flows: the --sort/--rsort criteria, then priority descending. */
function sortFlows(flows: FlowEntry[], o: OfctlOptions): void {
  const value = (f: FlowEntry, field: string): bigint | undefined => {
    const m = f.match as Record<string, { value: bigint } | undefined>;
    const aliases: Record<string, string> = { in_port: 'in_port', dl_src: 'eth_src', dl_dst: 'eth_dst', dl_type: 'eth_type', nw_src: 'ip_src', nw_dst: 'ip_dst', tp_src: 'tcp_src', tp_dst: 'tcp_dst' };
    return (m[field] ?? m[aliases[field] ?? ''])?.value;
  };
  flows.sort((a, b) => {
    for (const c of o.sort) {
      let r = 0;
      if (c.field === undefined) r = a.priority - b.priority;
      else {
        const va = value(a, c.field);
        const vb = value(b, c.field);
        if ((va === undefined) !== (vb === undefined)) return va !== undefined ? -1 : 1;
        if (va !== undefined && vb !== undefined) r = va < vb ? -1 : va > vb ? 1 : 0;
      }
      if (r) return c.ascending ? r : -r;
    }
    return 0;
  });
}

const dumpFlows: OnlineHandler = async ([target, filter = ''], o, io) => {
  const plain = !o.sort.length && !(o.names === true || (o.names === undefined && o.tty)) && o.stats;
  const { v, req } = await prepareDump(target, filter, false, o, io);
  try {
    if (plain) {
      await dumpTransaction(v, req, o, io);
      return;
    }
    const flows = await dumpFlowEntries(v, req, o);
    if (o.sort.length) sortFlows(flows, o);
    for (const f of flows) io.out(` ${formatFlowEntry(f, o.stats)}\n`);
  } finally {
    v.close();
  }
};

const dumpAggregate: OnlineHandler = async ([target, filter = ''], o, io) => {
  const { v, req } = await prepareDump(target, filter, true, o, io);
  try {
    await dumpTransaction(v, req, o, io);
  } finally {
    v.close();
  }
};

export function readFile(name: string, what = 'open failed'): string {
  try {
    return (name === '-' ? readFileSync(0) : readFileSync(name)).toString('latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : String(code);
    fatal(`${name}: ${what} (${reason})`);
  }
}

/** ds_get_preprocessed_line: "#" starts a comment, blank lines are skipped, "\" joins lines. */
export function fileLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const raw = text.split('\n');
  if (raw[raw.length - 1] === '') raw.pop();
  for (let i = 0; i < raw.length; i++) {
    let l = raw[i];
    const start = i + 1;
    while (l.endsWith('\\') && i + 1 < raw.length) l = l.slice(0, -1) + raw[++i];
    const hash = l.indexOf('#');
    const t = (hash < 0 ? l : l.slice(0, hash)).trim();
    if (t) out.push({ line: start === i + 1 ? start : i + 1, text: t });
  }
  return out;
}

const LEADING: readonly [string, FlowCommand][] = [
  ['add', 'add'], ['delete', 'delete'], ['delete_strict', 'delete_strict'], ['modify', 'modify'], ['modify_strict', 'modify_strict'],
];

/** A line of a flow file: an optional leading command word, then the flow (parse_ofp_flow_mod_str with command -2). */
export function parseFileFlow(line: string, command: FlowCommand | undefined): TextFlow {
  if (command) return parseFlow(line, command);
  const s = line.replace(/^[ \t\r\n]+/, '');
  const len = /^[^, \t\r\n]*/.exec(s)?.[0].length ?? 0;
  const word = s.slice(0, len);
  const hit = LEADING.find(([name]) => name.startsWith(word) && word.length > 0);
  return hit ? parseFlow(s.slice(len), hit[1]) : parseFlow(s, 'add');
}

/**
 * OF1.1+ allow table 255 (all tables) only in deletes: a modify without a
 * table goes to table 0, as ofputil_encode_flow_mod sends it.
 */
export function wireTable(f: TextFlow, protocol: number): TextFlow {
  const modify = f.command === 'modify' || f.command === 'modify_strict';
  return modify && f.table === 0xff && versionOfBit(protocol) > 1 ? { ...f, table: 0 } : f;
}

async function sendFlowMods(target: string, flows: TextFlow[], usable: number, o: OfctlOptions, io: Io): Promise<void> {
  if (o.bundle) {
    const { v, protocol } = await openForFlowMod(target, usable & P_OF13_UP, o, io);
    try {
      await bundleTransact(v, flows.map((f) => encodeFlow(wireTable(f, protocol), protocol, allocXid(), fatal)), o, io);
    } finally {
      v.close();
    }
    return;
  }
  const { v, protocol } = await openForFlowMod(target, usable, o, io);
  try {
    for (const f of flows) {
      const bytes = encodeFlow(wireTable(f, protocol), protocol, allocXid(), fatal);
      const reply = await run(v.transactNoReply(bytes), `talking to ${v.name}`);
      if (reply) {
        io.err(printMessage(reply, o.verbosity + 2));
        throw new ExitStatus(1);
      }
    }
  } finally {
    v.close();
  }
}

async function flowModFile(target: string, file: string, command: FlowCommand | undefined, o: OfctlOptions, io: Io): Promise<void> {
  const names = await namesForParse(target, o, io);
  const text = readFile(file);
  const flows: TextFlow[] = [];
  let usable = (1 << 9) - 1;
  for (const { line, text: l } of fileLines(text)) {
    const t = substituteNames(l, names);
    syntax(() => {
      const f = parseFileFlow(t, command);
      usable &= flowProtocols(t, f);
      flows.push(f);
    }, `${file}:${line}: `);
  }
  await sendFlowMods(target, flows, usable, o, io);
}

function flowMod(command: FlowCommand): OnlineHandler {
  return async ([target, flow = ''], o, io) => {
    if (flow === '-') return flowModFile(target, '-', command === 'add' ? undefined : command, o, io);
    const names = await namesForParse(target, o, io);
    const t = substituteNames(flow, names);
    const [f, usable] = syntax(() => {
      const parsed = parseFlow(t, command);
      return [parsed, flowProtocols(t, parsed)] as const;
    });
    await sendFlowMods(target, [f], usable, o, io);
  };
}

// ---------------------------------------------------------------- replace-flows, diff-flows

/** One version of a flow table entry, as fte_version. */
interface FlowVersion { cookie: bigint; idle: number; hard: number; importance: number; table: number; actions: string; flow?: TextFlow }
/** A flow table entry: its match as text (the key, and what diff-flows prints) and as the match itself (for deletes). */
interface Fte { key: string; matchText: string; match: Match; priority: number; versions: [FlowVersion | undefined, FlowVersion | undefined] }

interface FteKey { key: string; text: string; match: Match; priority: number }

function fteKey(table: number, match: Match, priority: number): FteKey {
  const text = formatWireMatch(match, priority);
  return { key: `${table} ${priority} ${text}`, text, match, priority };
}

function versionsEqual(a: FlowVersion, b: FlowVersion): boolean {
  return a.cookie === b.cookie && a.idle === b.idle && a.hard === b.hard && a.importance === b.importance && a.table === b.table && a.actions === b.actions;
}

function insert(table: Map<string, Fte>, key: FteKey, version: FlowVersion, index: 0 | 1): void {
  let fte = table.get(key.key);
  if (!fte) {
    fte = { key: key.key, matchText: key.text, match: key.match, priority: key.priority, versions: [undefined, undefined] };
    table.set(key.key, fte);
  }
  fte.versions[index] = version;
}

function readFlowsFromFile(file: string, table: Map<string, Fte>, index: 0 | 1, names: Parameters<typeof substituteNames>[1]): number {
  let usable = (1 << 9) - 1;
  for (const { line, text } of fileLines(readFile(file, 'open'))) {
    const t = substituteNames(text, names);
    const f = syntax(() => parseFlow(t, 'add'), `${file}:${line}: `);
    usable &= syntax(() => flowProtocols(t, f), `${file}:${line}: `);
    const tableId = f.table === 0xff ? 0 : f.table;
    const actions = entryActions(f);
    insert(table, fteKey(tableId, f.match, f.priority), {
      cookie: f.cookie, idle: f.idle_timeout, hard: f.hard_timeout, importance: f.importance, table: tableId, actions, flow: f,
    }, index);
  }
  return usable;
}

/** A parsed flow's actions as ofpacts_format writes them (the words as parsed). */
function entryActions(f: TextFlow): string {
  return formatActions(f.actions, 'OpenFlow10');
}

async function readFlowsFromSwitch(v: Vconn, protocol: number, table: Map<string, Fte>, index: 0 | 1, o: OfctlOptions): Promise<void> {
  const all = parseFlow('', 'delete');
  const flows = await dumpFlowEntries(v, flowStatsRequest(all, false, protocol, v.version), o);
  for (const e of flows) {
    insert(table, fteKey(e.table_id, e.match, e.priority), {
      cookie: e.cookie, idle: e.idle_timeout, hard: e.hard_timeout, importance: e.importance, table: e.table_id, actions: e.actions,
    }, index);
  }
}

const replaceFlows: OnlineHandler = async ([target, file], o, io) => {
  const ports = await portsToAccept(target, o, io);
  const tables = await tablesToAccept(target, o, io);
  const fte = new Map<string, Fte>();
  const usable = readFlowsFromFile(file, fte, 0, { ports, tables });
  const v = await openVconn(target, o, io);
  try {
    const protocol = await setProtocolForFlowDump(v, usable, o);
    await readFlowsFromSwitch(v, protocol, fte, 1, o);
    const requests: Uint8Array[] = [];
    const byTable = [...fte.values()].sort((a, b) => (a.versions[0] ?? a.versions[1])!.table - (b.versions[0] ?? b.versions[1])!.table);
    for (const e of byTable) {
      const [fileVer, swVer] = e.versions;
      if (swVer && !fileVer) {
        // The match as the switch sent it, not its text read back: some fields print in forms that do not parse
        // back to the same match (gtpu_flags, ERSPAN fields whose mask is their value).
        const del = { ...parseFlow(`table=${swVer.table}`, 'delete_strict'), match: e.match, priority: e.priority };
        requests.push(encodeFlow(del, protocol, allocXid(), fatal));
      }
    }
    for (const e of byTable) {
      const [fileVer, swVer] = e.versions;
      if (fileVer?.flow && (o.readd || !swVer || !versionsEqual(swVer, fileVer))) {
        requests.push(encodeFlow({ ...fileVer.flow, table: fileVer.table }, protocol, allocXid(), fatal));
      }
    }
    if (o.bundle) {
      await bundleTransact(v, requests, o, io);
      return;
    }
    for (const r of requests) {
      const reply = await run(v.transactNoReply(r), `talking to ${v.name}`);
      if (reply) {
        io.err(printMessage(reply, o.verbosity + 2));
        throw new ExitStatus(1);
      }
    }
  } finally {
    v.close();
  }
};

async function readFlowsFromSource(source: string, fte: Map<string, Fte>, index: 0 | 1, o: OfctlOptions, io: Io): Promise<void> {
  if (source.startsWith('/') || source.startsWith('.') || (!source.includes(':') && existsSync(source))) {
    readFlowsFromFile(source, fte, index, {});
    return;
  }
  const v = await openVconn(source, o, io);
  try {
    const protocol = await setProtocolForFlowDump(v, (1 << 9) - 1, o);
    await readFlowsFromSwitch(v, protocol, fte, index, o);
  } finally {
    v.close();
  }
}

function formatVersion(e: Fte, ver: FlowVersion): string {
  let s = ver.table ? `table=${ver.table} ` : '';
  s += e.matchText;
  if (ver.cookie) s += ` cookie=0x${ver.cookie.toString(16)}`;
  if (ver.idle) s += ` idle_timeout=${ver.idle}`;
  if (ver.hard) s += ` hard_timeout=${ver.hard}`;
  if (ver.importance) s += ` importance=${ver.importance}`;
  return s + ' actions=' + ver.actions + '\n';
}

const diffFlows: OnlineHandler = async ([a, b], o, io) => {
  const fte = new Map<string, Fte>();
  await readFlowsFromSource(a, fte, 0, o, io);
  await readFlowsFromSource(b, fte, 1, o, io);
  let differences = false;
  for (const e of fte.values()) {
    const [va, vb] = e.versions;
    if (!va || !vb || !versionsEqual(va, vb)) {
      if (va) io.out('-' + formatVersion(e, va));
      if (vb) io.out('+' + formatVersion(e, vb));
      differences = true;
    }
  }
  if (differences) throw new ExitStatus(2);
};

export const FLOW_COMMANDS: Record<string, { min: number; max: number; online: OnlineHandler }> = {
  'dump-flows': { min: 1, max: 2, online: dumpFlows },
  'dump-aggregate': { min: 1, max: 2, online: dumpAggregate },
  'add-flow': { min: 2, max: 2, online: flowMod('add') },
  'add-flows': { min: 2, max: 2, online: ([t, f], o, io) => flowModFile(t, f, undefined, o, io) },
  'mod-flows': { min: 2, max: 2, online: (args, o, io) => flowMod(o.strict ? 'modify_strict' : 'modify')(args, o, io) },
  'del-flows': { min: 1, max: 2, online: (args, o, io) => flowMod(o.strict ? 'delete_strict' : 'delete')(args, o, io) },
  'replace-flows': { min: 2, max: 2, online: replaceFlows },
  'diff-flows': { min: 2, max: 2, online: diffFlows },
};

