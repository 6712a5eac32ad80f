// Groups (all, select, indirect, fast failover) and the other actions that
// pick among ports or links by a flow hash: multipath and bundle.

import type { TextAction } from '../openflow/index.js';
import { OFPP, type XlateBucket } from './bridge.js';
import type { XlateContext } from './context.js';
import { doActions } from './actions.js';
import { reportSubfield } from './field-actions.js';
import { HASH_FIELD_SETS, hashInt, hashValues, multipathLink, type HashFields, type MultipathAlgorithm } from './hash.js';
import { ETH_TYPE, get, getNum, l4Ports, mark, setSubfield } from './key.js';
import { xlateOutput } from './output.js';
import { orderedActionSet, resourceCheck, tableAction } from './tables.js';

/** Hash of the flow's fields for a select group / multipath / bundle; marks what it read. */
export function flowHash(ctx: XlateContext, fields: HashFields, basis: number): number {
  const k = ctx.key;
  const vals: bigint[] = [];
  const read = (name: string, bits?: bigint): bigint => {
    mark(ctx.wc, name, bits);
    return bits === undefined ? get(k, name) : get(k, name) & bits;
  };
  const v4 = getNum(k, 'eth_type') === ETH_TYPE.IP;
  const v6 = getNum(k, 'eth_type') === ETH_TYPE.IPV6;
  const ipSrc = () => (v4 ? read('ip_src') : v6 ? read('ipv6_src') : 0n);
  const ipDst = () => (v4 ? read('ip_dst') : v6 ? read('ipv6_dst') : 0n);
  mark(ctx.wc, 'eth_type');
  switch (fields) {
    case 'eth_src': vals.push(read('eth_src')); break;
    case 'nw_src': vals.push(ipSrc()); break;
    case 'nw_dst': vals.push(ipDst()); break;
    case 'symmetric_l3': vals.push(ipSrc() ^ ipDst()); break;
    case 'symmetric_l4': case 'symmetric_l3l4': case 'symmetric_l3l4+udp': {
      if (fields === 'symmetric_l4') {
        vals.push(read('eth_src') ^ read('eth_dst'), BigInt(getNum(k, 'eth_type')), read('vlan_tci', 0xfffn));
      }
      if (v4 || v6) {
        vals.push(ipSrc() ^ ipDst(), read('nw_proto'));
        const ports = l4Ports(k);
        if (ports && (fields !== 'symmetric_l3l4' || ports[0] !== 'udp_src')) vals.push(read(ports[0]) ^ read(ports[1]));
      }
      break;
    }
  }
  return hashValues(vals, basis);
}

function xlateBucket(ctx: XlateContext, bucket: XlateBucket): void {
  const oldTrace = ctx.trace;
  const sub = ctx.report('bucket', `bucket ${bucket.bucketId}`);
  if (sub) ctx.trace = sub;
  const saved = Uint32Array.from(ctx.key);
  const wasMpls = ctx.wasMpls;
  const { vlanPushed, mplsPushed } = ctx;
  const inGroup = ctx.inGroup;
  ctx.inGroup = true;
  ctx.depth++;
  doActions(ctx, orderedActionSet(bucket.actions));
  ctx.depth--;
  ctx.inGroup = inGroup;
  ctx.key.set(saved);
  ctx.wasMpls = wasMpls;
  ctx.vlanPushed = vlanPushed;
  ctx.mplsPushed = mplsPushed;
  ctx.exit = false;
  ctx.trace = oldTrace;
}

/** Returns true when the rest of the action list must be skipped (a missing group). */
export function groupAction(ctx: XlateContext, id: number): boolean {
  if (!resourceCheck(ctx)) return false;
  const g = ctx.bridge.groups.get(id);
  if (!g) {
    ctx.report('warn', `output to nonexistent group ${id}`);
    return true;
  }
  const bytes = ctx.credit?.bytes ?? 0;
  if (g.type === 'all' || g.type === 'indirect') {
    for (const b of g.buckets) xlateBucket(ctx, b);
    if (ctx.credit) ctx.bridge.groups.account(id, null, 1, bytes);
    return false;
  }
  const hash = g.type === 'select' ? flowHash(ctx, 'symmetric_l4', 0) : 0;
  const b = ctx.bridge.groups.selectBucket(g, hash);
  if (b) {
    ctx.report('detail', `using bucket ${b.bucketId}`);
    xlateBucket(ctx, b);
    if (ctx.credit) ctx.bridge.groups.account(id, b, 1, bytes);
  } else {
    ctx.report('detail', 'no live bucket');
  }
  return false;
}

const ALGORITHMS: readonly string[] = ['modulo_n', 'hash_threshold', 'hrw', 'iter_hash'];

function hashFields(s: string | undefined): HashFields | null {
  return s !== undefined && (HASH_FIELD_SETS as readonly string[]).includes(s) ? (s as HashFields) : null;
}

export function multipath(ctx: XlateContext, a: Extract<TextAction, { type: 'multipath' }>): void {
  const [fieldsText, basis, alg, nLinks, arg] = a.args.split(',');
  const fields = hashFields(fieldsText);
  if (!fields || !ALGORITHMS.includes(alg ?? '')) {
    ctx.report('error', `multipath(${a.args}): unknown fields or algorithm, action skipped`);
    return;
  }
  const hash = flowHash(ctx, fields, Number(basis));
  const link = multipathLink(alg as MultipathAlgorithm, hash, Number(nLinks), Number(arg));
  setSubfield(ctx.key, a.dst, BigInt(link), ctx.wc);
  reportSubfield(ctx, a.dst);
}

export function bundle(ctx: XlateContext, a: Extract<TextAction, { type: 'bundle' }>): void {
  const [fieldsText, basis, alg] = a.head.split(',');
  const fields = hashFields(fieldsText);
  if (!fields || (alg !== 'hrw' && alg !== 'active_backup')) {
    ctx.report('error', `bundle(${a.head}): unknown fields or algorithm, action skipped`);
    return;
  }
  const live = a.members.filter((m) => ctx.bridge.ports.get(m)?.isLive() ?? false);
  let member = OFPP.NONE as number;
  if (alg === 'active_backup') {
    member = live[0] ?? OFPP.NONE;
  } else if (live.length) {
    const hash = flowHash(ctx, fields, Number(basis));
    let best = -1;
    for (const m of live) {
      const s = hashInt(m, hash);
      if (s > best) {
        best = s;
        member = m;
      }
    }
  }
  if (a.dst) {
    setSubfield(ctx.key, a.dst, BigInt(member === OFPP.NONE ? 0xffff : member), ctx.wc);
    reportSubfield(ctx, a.dst);
  } else if (member !== OFPP.NONE) {
    xlateOutput(ctx, member, 0, (p) => tableAction(ctx, p, 0, true));
  } else {
    ctx.report('detail', 'no live bundle members, dropping');
  }
}

