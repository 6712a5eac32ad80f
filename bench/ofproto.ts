// bench/ofproto: the OpenFlow switch side by side with Open vSwitch.
//   flowmods   - 100,000 flows added with the real `ovs-ofctl add-flows` to a
//                bridge on ovs-vswitchd and on tsw-vswitchd (same database
//                server, same tool): flow_mods per second, time to dump them
//                all, resident memory per flow; ratios tsw/OVS.
//   classifier - tsw's classifier alone: lookups per second on 10,000 rules
//                over 20 distinct masks (hits and misses), inserts, removes.
// Usage: npm run bench:ofproto [-- --flows N] [--only flowmods|classifier]

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Classifier, type ClsRule } from '../src/ofproto/classifier.js';
import { FLOW_WORDS } from '../src/flow/index.js';
import { realOvsMissing, startRealOvs, type SwitchImpl } from '../test/interop/real-ovs.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const N_FLOWS = Number(opt('flows', '100000'));
const ONLY = opt('only', '');

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** N distinct flows over a few match shapes, as a controller's L3/L4 policy would look. */
function flowsFile(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i >> 16) & 0xff;
    const b = (i >> 8) & 0xff;
    const c = i & 0xff;
    switch (i % 4) {
      case 0: lines.push(`priority=${100 + (i % 50)},ip,nw_src=10.${a}.${b}.${c},actions=output:2`); break;
      case 1: lines.push(`priority=200,tcp,nw_dst=10.${a}.${b}.${c},tp_dst=${1 + (i % 60000)},actions=output:1`); break;
      case 2: lines.push(`priority=300,in_port=1,dl_src=02:00:00:${a.toString(16).padStart(2, '0')}:${b.toString(16).padStart(2, '0')}:${c.toString(16).padStart(2, '0')},actions=output:2`); break;
      default: lines.push(`table=1,priority=10,udp,nw_src=172.16.${b}.${c},nw_dst=192.168.${a}.1,tp_src=${i % 65536},actions=drop`); break;
    }
  }
  return `${lines.join('\n')}\n`;
}

interface FlowmodResult { addSec: number; dumpSec: number; kbPerFlow: number; dumped: number }

async function flowmods(impl: SwitchImpl, file: string): Promise<FlowmodResult> {
  const stack = await startRealOvs({ impl, bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
  try {
    await stack.ofctl(['del-flows', 'br0']);
    const before = rssKb(stack.pids.vswitchd);
    let t = performance.now();
    const add = await stack.ofctl(['add-flows', 'br0', file], { timeoutMs: 600_000 });
    const addSec = (performance.now() - t) / 1000;
    if (add.code !== 0) throw new Error(`${impl}: add-flows failed: ${add.stderr.slice(0, 500)}`);
    t = performance.now();
    const dump = await stack.ofctl(['dump-flows', 'br0'], { timeoutMs: 600_000 });
    const dumpSec = (performance.now() - t) / 1000;
    const dumped = dump.stdout.split('\n').filter((l) => l.includes('actions=')).length;
    const after = rssKb(stack.pids.vswitchd);
    return { addSec, dumpSec, kbPerFlow: (after - before) / N_FLOWS, dumped };
  } finally {
    await stack.stop();
  }
}

function classifierBench(): void {
  const MASKS = 20;
  const RULES = 10_000;
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  // 20 masks, each covering 2-5 random words of the key (whole or half words).
  const masks = Array.from({ length: MASKS }, () => {
    const m = new Uint32Array(FLOW_WORDS);
    const k = 2 + (rnd() % 4);
    for (let j = 0; j < k; j++) m[rnd() % Math.min(FLOW_WORDS, 40)] = rnd() & 1 ? 0xffffffff : 0xffff0000;
    return m;
  });
  const rules: ClsRule[] = [];
  const cls = new Classifier<ClsRule>(FLOW_WORDS);
  let t = performance.now();
  for (let i = 0; i < RULES; i++) {
    const mask = masks[i % MASKS]!;
    const value = new Uint32Array(FLOW_WORDS);
    for (let w = 0; w < FLOW_WORDS; w++) value[w] = (rnd() & mask[w]!) >>> 0;
    const r = { priority: rnd() % 1000, value, mask };
    rules.push(r);
    cls.insert(r);
  }
  const insertPerSec = RULES / ((performance.now() - t) / 1000);
  const keys = Array.from({ length: 4096 }, (_, i) => {
    if (i % 2 === 0) return Uint32Array.from(rules[rnd() % RULES]!.value);   // hits
    return Uint32Array.from({ length: FLOW_WORDS }, () => rnd());           // almost surely misses
  });
  const LOOKUPS = 2_000_000;
  let hits = 0;
  for (let i = 0; i < 100_000; i++) if (cls.lookup(keys[i & 4095]!)) hits++;   // warm-up
  hits = 0;
  t = performance.now();
  for (let i = 0; i < LOOKUPS; i++) if (cls.lookup(keys[i & 4095]!)) hits++;
  const lookupPerSec = LOOKUPS / ((performance.now() - t) / 1000);
  t = performance.now();
  for (const r of rules) cls.remove(r);
  const removePerSec = RULES / ((performance.now() - t) / 1000);
  console.log(`classifier: ${RULES} rules, ${cls.subtableCount() || MASKS} masks`);
  console.log(`  lookups/s   ${Math.round(lookupPerSec).toLocaleString('en')} (${(100 * hits / LOOKUPS).toFixed(0)}% hits)`);
  console.log(`  inserts/s   ${Math.round(insertPerSec).toLocaleString('en')}`);
  console.log(`  removes/s   ${Math.round(removePerSec).toLocaleString('en')}`);
}

async function main(): Promise<void> {
  if (!ONLY || ONLY === 'classifier') classifierBench();
  if (ONLY && ONLY !== 'flowmods') return;
  const missing = realOvsMissing();
  if (missing) {
    console.log(`flowmods: skipped (${missing})`);
    return;
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'tsw-bench-ofproto-'));
  try {
    const file = join(dir, 'flows.txt');
    writeFileSync(file, flowsFile(N_FLOWS));
    const ovs = await flowmods('ovs', file);
    const tsw = await flowmods('tsw', file);
    const row = (name: string, r: FlowmodResult): string =>
      `  ${name.padEnd(14)} add ${(N_FLOWS / r.addSec).toFixed(0).padStart(8)} flow_mods/s   dump ${r.dumpSec.toFixed(2).padStart(6)} s (${r.dumped} flows)   ${r.kbPerFlow.toFixed(2)} KB/flow`;
    console.log(`flowmods: ${N_FLOWS} flows with ovs-ofctl add-flows (OpenFlow 1.0 + NXM)`);
    console.log(row('ovs-vswitchd', ovs));
    console.log(row('tsw-vswitchd', tsw));
    console.log(`  ratio tsw/OVS: add rate ${(ovs.addSec / tsw.addSec).toFixed(2)}x, dump speed ${(ovs.dumpSec / tsw.dumpSec).toFixed(2)}x, memory per flow ${(tsw.kbPerFlow / Math.max(ovs.kbPerFlow, 0.001)).toFixed(2)}x (lower is better)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
