// Two bridges joined by a patch port pair (OVS's `type=patch`; for the Linux
// bridge, which has none, a veth pair stands in), one host on each bridge.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eImpls, implMissing, startSwitch, type Switch } from './switches.js';
import { sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';

for (const impl of e2eImpls()) {
  describe(`${impl}: hosts on two bridges joined by a patch pair`, { skip: topologyMissing() ?? implMissing(impl) ?? false }, () => {
    const topo = new Topology();
    let sw: Switch | undefined;
    let h1: Host;
    let h2: Host;

    before(async () => {
      await sweepLeftovers();
      const ns = await topo.addNs('sw');
      h1 = await topo.addHost('h1', { cidr: '10.63.0.1/24', switchNs: ns });
      h2 = await topo.addHost('h2', { cidr: '10.63.0.2/24', switchNs: ns });
      sw = await startSwitch(impl, topo, ns);
      await sw.addBridge('brA');
      await sw.addBridge('brB');
      await sw.addPort('brA', h1.port);
      await sw.addPort('brB', h2.port);
    });
    after(async () => {
      await sw?.stop();
      await topo.cleanup();
    });

    test('without the patch pair the hosts are apart', async () => {
      const r = await topo.ping(h1, h2.ip, 2, 1);
      assert.equal(r.loss, 100, `h1 reached h2 with no link between the bridges:\n${r.out}`);
    });

    test('with the patch pair they ping and move TCP', async () => {
      await sw!.addPatchPair('brA', 'brB');
      await topo.arpFlush(h1);
      const r = await topo.waitPing(h1, h2.ip);
      assert.equal(r.loss, 0, `h1 -> h2:\n${r.out}`);
      const back = await topo.ping(h2, h1.ip, 3);
      assert.equal(back.loss, 0, back.out);
      const tcp = await topo.tcp(h2, h1, 1);
      assert.ok(tcp.bytes > 1_000_000, `only ${tcp.bytes} bytes crossed the patch pair`);
    });
  });
}
