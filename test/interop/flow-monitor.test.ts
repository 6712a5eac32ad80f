// Flow monitors, side by side: `ovs-ofctl monitor br0 watch:...` watches a
// bridge while another ovs-ofctl adds, modifies, deletes and lets flows
// expire. Run against ovs-vswitchd and against tsw-vswitchd, in OF1.0 (NXST),
// OF1.3 (ONFST) and OF1.4 (OFPMP_FLOW_MONITOR), the two monitors must print
// the same updates; tsw-ofctl's monitor must print what ovs-ofctl's does.
// Needs `npm run build`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { okOutput, realOvsMissing, startRealOvs, type RealOvs, type SwitchImpl } from './real-ovs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSW_OFCTL = join(ROOT, 'bin', 'tsw-ofctl');
const missing = realOvsMissing() ?? (existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js')) ? null : 'not built (npm run build)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Watch specs and the changes made while they watch. */
const SCENARIOS: ReadonlyArray<{ name: string; watch: readonly string[]; steps: ReadonlyArray<readonly string[] | number> }> = [
  {
    name: 'everything: initial flows, add, modify (twice, the second changes nothing), delete',
    watch: ['watch:'],
    steps: [
      ['add-flow', 'br0', 'priority=10,tcp,tp_dst=80,actions=output:2'],
      ['add-flow', 'br0', 'priority=11,udp,actions=drop'],
      ['mod-flows', 'br0', 'tcp,actions=output:1'],
      ['mod-flows', 'br0', 'tcp,actions=output:1'],
      ['mod-flows', 'br0', 'cookie=0x5,tcp,actions=output:1'],
      ['add-flow', 'br0', 'table=1,priority=7,arp,actions=flood'],
      ['del-flows', 'br0', 'ip'],
    ],
  },
  {
    name: 'filtered by match and table; no initial, no actions',
    watch: ['watch:tcp,!initial', 'watch:table=1,!actions'],
    steps: [
      ['add-flow', 'br0', 'priority=10,tcp,tp_dst=80,actions=output:2'],
      ['add-flow', 'br0', 'priority=12,tcp,tp_src=22,actions=output:1'],
      ['add-flow', 'br0', 'table=1,priority=7,arp,actions=flood'],
      ['del-flows', 'br0', 'table=1'],
      ['del-flows', 'br0', 'tcp'],
    ],
  },
  {
    name: 'filtered by out_port: a modify that moves a flow off the port is still reported',
    watch: ['watch:out_port=2'],
    steps: [
      ['add-flow', 'br0', 'priority=10,tcp,tp_dst=80,actions=output:2'],
      ['add-flow', 'br0', 'priority=12,tcp,tp_dst=22,actions=output:1'],
      ['add-flow', 'br0', 'table=1,priority=7,arp,actions=flood'],
      ['add-flow', 'br0', 'priority=9,udp,actions=output:2'],
      ['mod-flows', 'br0', 'udp,actions=output:1'],
      ['del-flows', 'br0', 'table=1'],
      ['del-flows', 'br0', 'tcp'],
    ],
  },
  {
    name: 'only removals, with an idle timeout expiring',
    watch: ['watch:!initial,!add,!modify'],
    steps: [
      ['add-flow', 'br0', 'priority=10,idle_timeout=1,icmp,actions=output:2'],
      ['add-flow', 'br0', 'priority=10,tcp,actions=output:2'],
      2600,
      ['--strict', 'del-flows', 'br0', 'priority=10,tcp'],
    ],
  },
];

async function watchRun(s: RealOvs, tool: string, version: string, scenario: typeof SCENARIOS[number]): Promise<string> {
  okOutput(await s.ofctl(['del-flows', 'br0']), 'del-flows');
  okOutput(await s.ofctl(['add-flow', 'br0', 'priority=5,ip,actions=output:1']), 'add-flow');
  okOutput(await s.ofctl(['add-flow', 'br0', 'table=1,priority=3,actions=drop']), 'add-flow');
  const mon = spawn(tool, ['-O', version, 'monitor', 'br0', ...scenario.watch], { env: s.env });
  let out = '';
  mon.stdout.on('data', (d) => (out += d));
  mon.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => mon.on('exit', r));
  try {
    // Wait for the initial replies (one per watch) before changing anything.
    for (let i = 0; i < 100 && (out.match(/FLOW_MONITOR reply/g) ?? []).length < scenario.watch.length; i++) await sleep(50);
    for (const step of scenario.steps) {
      if (typeof step === 'number') await sleep(step);
      else okOutput(await s.ofctl(step), step.join(' '));
    }
    await sleep(400);
  } finally {
    mon.kill();
    await exited;
  }
  // Log lines carry the time they were written.
  return out.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|');
}

describe('flow monitors print the same on tsw and on Open vSwitch', { skip: missing ?? false }, () => {
  const stacks = new Map<SwitchImpl, RealOvs>();
  before(async () => {
    for (const impl of ['ovs', 'tsw'] as const) stacks.set(impl, await startRealOvs({ bridges: ['br0'], ports: { br0: ['p1', 'p2'] }, impl }));
  });
  after(async () => {
    for (const s of stacks.values()) await s.stop();
  });

  for (const version of ['OpenFlow10', 'OpenFlow13', 'OpenFlow14']) {
    for (const sc of SCENARIOS) {
      test(`${version}: ${sc.name}`, async () => {
        const [ovsOut, tswOut] = await Promise.all([
          watchRun(stacks.get('ovs')!, 'ovs-ofctl', version, sc),
          watchRun(stacks.get('tsw')!, 'ovs-ofctl', version, sc),
        ]);
        assert.match(ovsOut, /FLOW_MONITOR reply/);
        assert.equal(tswOut, ovsOut);
      });
    }
  }

  test('tsw-ofctl monitor watch: prints what ovs-ofctl prints', async () => {
    const sc = SCENARIOS[0]!;
    for (const version of ['OpenFlow10', 'OpenFlow13', 'OpenFlow14']) {
      const real = await watchRun(stacks.get('ovs')!, 'ovs-ofctl', version, sc);
      const ours = await watchRun(stacks.get('ovs')!, TSW_OFCTL, version, sc);
      assert.equal(ours, real, version);
    }
  });

  test('bad watch specs fail as ovs-ofctl does', async () => {
    const s = stacks.get('tsw')!;
    for (const spec of ['watch:table=', 'watch:bogus=1', 'watch:table=300']) {
      const real = await s.run('ovs-ofctl', ['monitor', 'br0', spec]);
      const ours = await s.run(TSW_OFCTL, ['monitor', 'br0', spec]);
      assert.notEqual(real.code, 0, spec);
      assert.equal(ours.code, real.code, spec);
      const t = (x: string) => x.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|');
      assert.equal(t(ours.stderr.replace(/^tsw-ofctl/m, 'ovs-ofctl')), t(real.stderr), spec);
    }
  });
});
