import { Ofproto, decodeFlowMod } from '../src/ofproto/index.js';
import { decodeMessage, encodeMessage, flowModMessage, parseFlow, type MessageOf } from '../src/openflow/index.js';
const of = new Ofproto({ name: 'br0', datapathId: 1n, rundir: '/tmp' });
const N = 20000;
const msgs: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const t = `priority=${100 + (i % 50)},tcp,nw_src=10.${(i >> 8) & 255}.${i & 255}.0/24,tp_dst=${1000 + (i % 5000)},actions=output:${1 + (i % 4)}`;
  msgs.push(encodeMessage(flowModMessage(parseFlow(t), 'OpenFlow13')));
}
(globalThis as any).gc(); const before = process.memoryUsage();
for (const m of msgs) of.flowMod(decodeFlowMod(decodeMessage(m) as MessageOf<'FLOW_MOD'>, false));
(globalThis as any).gc(); const after = process.memoryUsage();
console.log('rules', of.totalRules(), 'heap/flow', ((after.heapUsed - before.heapUsed) / N).toFixed(0), 'B', 'ext/flow', ((after.external + after.arrayBuffers - before.external - before.arrayBuffers) / N).toFixed(0));
const r = [...of.tables[0]!.cls][0]!;
console.log(JSON.stringify(r.match, (k, v) => typeof v === 'bigint' ? v.toString() : v), JSON.stringify(r.actions));
