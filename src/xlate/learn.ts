// The learn action: builds a flow from the packet being translated (match
// fields copied from the packet or given as values, load and output actions)
// and hands it to the switch as ovs-ofctl flow text.

import {
  splitTopLevel, formatMatch, formatSubfield, matchToSlots, parseFlow, parseSubfield, subfieldField, type SubfieldRef, type TextField,
} from '../openflow/index.js';
import type { XlateContext } from './context.js';
import { getSubfield, markSubfield } from './key.js';

interface MatchSpec { readonly dst: SubfieldRef; readonly src: SubfieldRef | bigint }
interface LoadSpec { readonly dst: SubfieldRef; readonly src: SubfieldRef | bigint }

interface LearnSpec {
  table: number;
  priority: number;
  idle: number;
  hard: number;
  cookie: bigint;
  sendFlowRem: boolean;
  matches: MatchSpec[];
  loads: LoadSpec[];
  outputs: SubfieldRef[];
}

export class LearnSyntaxError extends Error {
  override readonly name = 'LearnSyntaxError';
}

/** A subfield ("NXM_OF_ETH_SRC[]", "reg0[0..15]", "eth_src") or an immediate value. */
function source(s: string, width: number): SubfieldRef | bigint {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(s)) return BigInt(s);
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s)) return BigInt(`0x${s.replace(/:/g, '')}`);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) return s.split('.').reduce((v, o) => (v << 8n) | BigInt(o), 0n);
  void width;
  return subfield(s);
}

function subfield(s: string): SubfieldRef {
  if (s.includes('[')) return parseSubfield(s);
  const f = subfieldField(s);
  if (!f) throw new LearnSyntaxError(`${s}: unknown field in learn action`);
  return { field: f, ofs: 0, n_bits: f.bits };
}

export function parseLearn(text: string): LearnSpec {
  const spec: LearnSpec = { table: 1, priority: 0x8000, idle: 0, hard: 0, cookie: 0n, sendFlowRem: false, matches: [], loads: [], outputs: [] };
  for (const tok of splitTopLevel(text)) {
    const eq = tok.indexOf('=');
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const val = eq < 0 ? '' : tok.slice(eq + 1);
    switch (key) {
      case 'table': spec.table = Number(val); continue;
      case 'priority': spec.priority = Number(val); continue;
      case 'idle_timeout': spec.idle = Number(val); continue;
      case 'hard_timeout': spec.hard = Number(val); continue;
      case 'cookie': spec.cookie = BigInt(val); continue;
      case 'send_flow_rem': spec.sendFlowRem = true; continue;
      case 'fin_idle_timeout': case 'fin_hard_timeout': case 'delete_learned': case 'limit': continue;
      default: break;
    }
    if (tok.startsWith('load:')) {
      const [src, dst] = tok.slice(5).split('->');
      if (!dst) throw new LearnSyntaxError(`${tok}: missing \`->'`);
      const d = subfield(dst);
      spec.loads.push({ dst: d, src: source(src!, d.n_bits) });
    } else if (tok.startsWith('output:')) {
      spec.outputs.push(subfield(tok.slice(7)));
    } else if (eq < 0) {
      const d = subfield(tok);
      spec.matches.push({ dst: d, src: d });
    } else if (key === 'result_dst') {
      throw new LearnSyntaxError('learn: result_dst is not supported');
    } else {
      const d = subfield(key);
      spec.matches.push({ dst: d, src: source(val, d.n_bits) });
    }
  }
  return spec;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

function formatValue(f: TextField, v: bigint): string {
  switch (f.format) {
    case 'eth': return v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
    case 'ipv4': return [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)).join('.');
    case 'port16': case 'port32': case 'dec': return String(v);
    default: return hex(v);
  }
}

function formatMasked(f: TextField, v: bigint, m: bigint): string {
  if (m === ones(f.bits)) return formatValue(f, v);
  if (f.format === 'eth') return `${formatValue(f, v)}/${formatValue(f, m)}`;
  if (f.format === 'ipv4') return `${formatValue(f, v)}/${formatValue(f, m)}`;
  return `${hex(v)}/${hex(m)}`;
}

/**
 * The flow a learn action adds for the packet now in `ctx`, as ovs-ofctl flow
 * text, and the line the trace shows for it. Marks what it read in the mask.
 */
export function learnFlowText(ctx: XlateContext, spec: LearnSpec): { flow: string; trace: string } {
  const read = (src: SubfieldRef | bigint): bigint => {
    if (typeof src === 'bigint') return src;
    markSubfield(ctx.wc, src);
    return getSubfield(ctx.key, src);
  };
  const fields = new Map<TextField, { v: bigint; m: bigint }>();
  for (const ms of spec.matches) {
    const v = read(ms.src) & ones(ms.dst.n_bits);
    const cur = fields.get(ms.dst.field) ?? { v: 0n, m: 0n };
    const m = ones(ms.dst.n_bits) << BigInt(ms.dst.ofs);
    fields.set(ms.dst.field, { v: (cur.v & ~m) | (v << BigInt(ms.dst.ofs)), m: cur.m | m });
  }
  const match = [...fields].map(([f, { v, m }]) => `${f.name}=${formatMasked(f, v, m)}`);
  const actions = [
    ...spec.loads.map((l) => `load:${hex(read(l.src) & ones(l.dst.n_bits))}->${formatSubfield(l.dst)}`),
    ...spec.outputs.map((o) => `output:${read(o)}`),
  ];
  const acts = actions.join(',') || 'drop';
  const head = [`table=${spec.table}`, `priority=${spec.priority}`];
  if (spec.idle) head.push(`idle_timeout=${spec.idle}`);
  if (spec.hard) head.push(`hard_timeout=${spec.hard}`);
  if (spec.cookie) head.push(`cookie=${hex(spec.cookie)}`);
  if (spec.sendFlowRem) head.push('send_flow_rem');
  const flow = [...head, ...match, `actions=${acts}`].join(',');
  // The trace prints the match the way the switch holds it (match_format's names: dl_dst, nw_src...).
  const parsed = parseFlow(flow);
  let trace = `table=${spec.table} ${formatMatch(matchToSlots(parsed.match))}`.trimEnd() + ` priority=${spec.priority}`;
  if (spec.cookie) trace += ` cookie=${hex(spec.cookie)}`;
  if (spec.idle) trace += ` idle=${spec.idle}`;
  if (spec.hard) trace += ` hard=${spec.hard}`;
  if (spec.sendFlowRem) trace += ' send_flow_rem';
  return { flow, trace: `${trace} actions=${acts}` };
}
