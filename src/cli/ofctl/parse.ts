// tsw-ofctl's offline parse commands, as ovs-ofctl's: parse-flow FLOW,
// parse-flows FILE and parse-group GROUP read the add-flow/add-group syntax,
// print the protocols that could carry it and the one chosen among those the
// -O versions allow, then the message encoded in it as ofp-print shows it.

import { readFileSync } from 'node:fs';
import { decodeMessage, encodeMessage } from '../../openflow/index.js';
import { ofpToString, rawName, versionTag, type FlowFormatter } from '../../openflow/print/index.js';
import {
  FlowSyntaxError, flowModMessage, flowProtocols, formatGroupMod, groupModFromWire, groupModMessage, nxGroupModBytes,
  nxGroupModFromBytes, parseFlow, parseGroupModText, protocolBitName, protocolOfBit, protocolsOfVersions, protocolsToString,
  textField, versionOfBit, withVlanPushes, type TextAction, type TextFlow,
} from '../../openflow/text/index.js';

/** What these commands use of tsw-ofctl's options. */
export interface ParseOptions {
  verbosity: number;
  protocols: string[];
}

export interface ParseOutput {
  out: (s: string) => void;
}

type Fatal = (msg: string) => never;
type Handler = (args: string[], o: ParseOptions, io: ParseOutput, flow: FlowFormatter) => void;

/** The versions -O allows (OpenFlow 1.0 alone by default, as ovs-ofctl), as protocol bits. */
function allowedProtocols(o: ParseOptions): number {
  const versions = new Set<number>();
  for (const p of o.protocols) {
    const m = /OpenFlow1([0-5])$/.exec(p);
    if (m) versions.add(Number(m[1]) + 1);
    else if (p === 'NXM' || p.startsWith('NXM') || p.startsWith('OpenFlow10')) versions.add(1);
  }
  if (!versions.size) versions.add(1);
  return protocolsOfVersions(versions);
}

/** Prints the usable set and picks the first allowed protocol bit, or fails as ovs-ofctl does. */
function choose(usable: number, o: ParseOptions, io: ParseOutput, fatal: Fatal): number {
  io.out(`usable protocols: ${protocolsToString(usable)}\n`);
  const both = usable & allowedProtocols(o);
  if (!both) fatal('no usable protocol');
  return both & -both;
}

function syntax<T>(fatal: Fatal, f: () => T, where = ''): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FlowSyntaxError) fatal(where + e.message);
    throw e;
  }
}

/**
 * What OVS sends for OF1.0: goto_table as resubmit(,N); the OF1.1+
 * instructions and push_vlan not at all (also inside clone).
 */
function of10Actions(list: readonly TextAction[]): TextAction[] {
  const out: TextAction[] = [];
  for (const a of list) {
    if (a.type === 'goto_table') out.push({ type: 'resubmit', port: 0xfff8, table: a.table, ct: false, paren: true });
    else if (a.type === 'clone') out.push({ ...a, actions: of10Actions(a.actions) });
    else if (!['write_actions', 'clear_actions', 'meter', 'push_vlan'].includes(a.type)) out.push(a);
  }
  return out;
}

/** OF1.1+ has no mod_tp_src/dst: OVS sends a set_field of the match's transport protocol's port. */
function l4SetFields(list: readonly TextAction[], proto: bigint | undefined): TextAction[] {
  const prefix = proto === 6n ? 'tcp' : proto === 17n ? 'udp' : proto === 132n ? 'sctp' : undefined;
  return list.map((a) => {
    if ((a.type === 'mod_tp_src' || a.type === 'mod_tp_dst') && prefix) {
      const field = textField(`${prefix}_${a.type === 'mod_tp_src' ? 'src' : 'dst'}`);
      if (field) return { type: 'set_field', field, value: BigInt(a.value) };
    }
    if (a.type === 'clone' || a.type === 'write_actions') return { ...a, actions: l4SetFields(a.actions, proto) };
    return a;
  });
}

export function encodeFlow(flow: TextFlow, bit: number, xid: number, fatal: Fatal): Uint8Array {
  const protocol = protocolOfBit(bit);
  const version = versionOfBit(bit);
  if (version === 2 || version === 3) fatal(`${protocolBitName(bit)} is not supported by tsw's codec`);
  const tci = flow.slots.get('vlan_tci');
  const actions = version === 1 ? of10Actions(flow.actions)
    : l4SetFields(withVlanPushes(flow.actions, !!tci && (tci.value & 0x1000n) !== 0n), flow.slots.get('nw_proto')?.value);
  const f = { ...flow, actions };
  try {
    return encodeMessage(flowModMessage(f, protocol, xid));
  } catch (e) {
    if (e instanceof RangeError) fatal(`cannot encode this flow in ${protocolBitName(bit)}: ${e.message}`);
    throw e;
  }
}

function printFlows(flows: readonly TextFlow[], usable: number, o: ParseOptions, io: ParseOutput, flow: FlowFormatter, fatal: Fatal): void {
  const bit = choose(usable, o, io, fatal);
  io.out(`chosen protocol: ${protocolBitName(bit)}\n`);
  // ovs-ofctl numbers the messages it encodes from 1.
  flows.forEach((f, i) => io.out(ofpToString(encodeFlow(f, bit, i + 1, fatal), o.verbosity, flow)));
}

/** parse-flow FLOW. */
export function parseFlowCommand(args: string[], o: ParseOptions, io: ParseOutput, flow: FlowFormatter, fatal: Fatal): void {
  const [f, usable] = syntax(fatal, () => {
    const parsed = parseFlow(args[0]);
    return [parsed, flowProtocols(args[0], parsed)] as const;
  });
  printFlows([f], usable, o, io, flow, fatal);
}

/** The lines of a flow or group file that hold something: "#" starts a comment, blank lines are skipped. */
export function preprocessedLines(text: string): { line: number; text: string }[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: { line: number; text: string }[] = [];
  lines.forEach((l, i) => {
    const hash = l.indexOf('#');
    const t = hash < 0 ? l : l.slice(0, hash);
    if (/[^ \t\n]/.test(t)) out.push({ line: i + 1, text: t });
  });
  return out;
}

function readText(name: string, fatal: Fatal): string {
  try {
    return (name === '-' ? readFileSync(0) : readFileSync(name)).toString('latin1');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'No such file or directory' : err.code === 'EACCES' ? 'Permission denied'
      : err.code === 'EISDIR' ? 'Is a directory' : err.message;
    fatal(`${name}: open failed (${reason})`);
  }
}

/** parse-flows FILE. */
export function parseFlowsCommand(args: string[], o: ParseOptions, io: ParseOutput, flow: FlowFormatter, fatal: Fatal): void {
  const name = args[0];
  const flows: TextFlow[] = [];
  let usable = (1 << 9) - 1;
  for (const { line, text } of preprocessedLines(readText(name, fatal))) {
    syntax(fatal, () => {
      const parsed = parseFlow(text);
      usable &= flowProtocols(text, parsed);
      flows.push(parsed);
    }, `${name}:${line}: `);
  }
  printFlows(flows, usable, o, io, flow, fatal);
}

/** parse-group GROUP. */
export function parseGroupCommand(args: string[], o: ParseOptions, io: ParseOutput, fatal: Fatal): void {
  const { group, usable } = syntax(fatal, () => parseGroupModText(args[0], 'add'));
  const bit = choose(usable, o, io, fatal);
  const version = versionOfBit(bit);
  io.out(`chosen version: OpenFlow1${version - 1}\n`);
  if (version === 2 || version === 3) fatal(`OpenFlow1${version - 1} is not supported by tsw's codec`);
  let bytes: Uint8Array;
  try {
    bytes = version === 1 ? nxGroupModBytes(group) : encodeMessage(groupModMessage(group, version));
  } catch (e) {
    if (e instanceof RangeError) fatal(`cannot encode this group in OpenFlow1${version - 1}: ${e.message}`);
    throw e;
  }
  // The group is printed from the bytes by the text layer (selection methods and NXT_GROUP_MOD included).
  const decoded = version === 1 ? nxGroupModFromBytes(bytes) : groupModFromWire(decodeMessage(bytes));
  const raw = rawName(bytes);
  const name = 'name' in raw ? raw.name : 'NXT_GROUP_MOD';
  io.out(name + versionTag(version, 1) + formatGroupMod(decoded, version) + '\n');
}

/** The parse commands for tsw-ofctl's command table; `fatal` reports an error the way tsw-ofctl does. */
export function parseCommands(fatal: Fatal): Record<string, { min: number; max: number; run: Handler }> {
  return {
    'parse-flow': { min: 1, max: 1, run: (a, o, io, f) => parseFlowCommand(a, o, io, f, fatal) },
    'parse-flows': { min: 1, max: 1, run: (a, o, io, f) => parseFlowsCommand(a, o, io, f, fatal) },
    'parse-group': { min: 1, max: 1, run: (a, o, io) => parseGroupCommand(a, o, io, fatal) },
  };
}
