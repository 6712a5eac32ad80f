// VLAN access ports and a trunk between two bridges: h1 and h3 hang on
// bridge A, h2 and h4 on bridge B; h1/h2 are on VLAN 10, h3/h4 on VLAN 20,
// all four in one IP subnet, so only the VLANs keep them apart. The bridges
// are joined by a veth pair that is a trunk for VLANs 10 and 20 on both ends.
// Linux runs where its bridge can filter VLANs (not every kernel can).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eImpls, implMissing, linuxVlanMissing, startSwitch, type Switch } from './switches.js';
import { sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';

for (const impl of e2eImpls()) {
  const skip = topologyMissing() ?? implMissing(impl) ?? (impl === 'linux' ? linuxVlanMissing() : null) ?? false;
  describe(`${impl}: VLAN access ports on two bridges joined by a trunk`, { skip }, () => {
    const topo = new Topology();
    let sw: Switch | undefined;
    const h: Host[] = [];

    before(async () => {
      await sweepLeftovers();
      const ns = await topo.addNs('sw');
      for (let i = 1; i <= 4; i++) h.push(await topo.addHost(`h${i}`, { cidr: `10.62.0.${i}/24`, switchNs: ns }));
      sw = await startSwitch(impl, topo, ns);
      await sw.addBridge('brA');
      await sw.addBridge('brB');
      const [tA, tB] = [topo.name('tA'), topo.name('tB')];
      await topo.link(ns, tA, ns, tB);
      await sw.addPort('brA', tA, { trunks: [10, 20] });
      await sw.addPort('brB', tB, { trunks: [10, 20] });
      await sw.addPort('brA', h[0]!.port, { tag: 10 });
      await sw.addPort('brB', h[1]!.port, { tag: 10 });
      await sw.addPort('brA', h[2]!.port, { tag: 20 });
      await sw.addPort('brB', h[3]!.port, { tag: 20 });
    });
    after(async () => {
      await sw?.stop();
      await topo.cleanup();
    });

    test('hosts on the same VLAN reach each other across the trunk', async () => {
      const v10 = await topo.waitPing(h[0]!, h[1]!.ip);
      assert.equal(v10.loss, 0, `VLAN 10, h1 -> h2:\n${v10.out}`);
      const v20 = await topo.waitPing(h[2]!, h[3]!.ip);
      assert.equal(v20.loss, 0, `VLAN 20, h3 -> h4:\n${v20.out}`);
      const tcp = await topo.tcp(h[1]!, h[0]!, 1);
      assert.ok(tcp.bytes > 1_000_000, `only ${tcp.bytes} bytes crossed VLAN 10`);
    });

    test('hosts on different VLANs cannot talk, on one bridge or across the trunk', async () => {
      for (const [a, b] of [[0, 2], [0, 3], [1, 2], [3, 1]] as const) {
        await topo.arpFlush(h[a]!);
        const r = await topo.ping(h[a]!, h[b]!.ip, 2, 1);
        assert.equal(r.loss, 100, `h${a + 1} (VLAN ${a < 2 ? 10 : 20}) reached h${b + 1}:\n${r.out}`);
      }
    });
  });
}
