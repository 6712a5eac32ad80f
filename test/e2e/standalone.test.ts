// Two hosts through one standalone bridge (NORMAL switching on ovs and tsw,
// the kernel's learning bridge on linux): ping both ways and a TCP stream
// whose bytes arrive, and (ovs, tsw) datapath flows that do not match L4
// ports. Implementations: TSW_E2E_IMPLS (default all).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eImpls, implMissing, startSwitch, type Switch } from './switches.js';
import { sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';

for (const impl of e2eImpls()) {
  describe(`${impl}: two hosts through a standalone bridge`, { skip: topologyMissing() ?? implMissing(impl) ?? false }, () => {
    const topo = new Topology();
    let sw: Switch | undefined;
    let h1: Host;
    let h2: Host;

    before(async () => {
      await sweepLeftovers();
      const ns = await topo.addNs('sw');
      h1 = await topo.addHost('h1', { cidr: '10.61.0.1/24', switchNs: ns });
      h2 = await topo.addHost('h2', { cidr: '10.61.0.2/24', switchNs: ns });
      sw = await startSwitch(impl, topo, ns);
      await sw.addBridge('br0');
      await sw.addPort('br0', h1.port);
      await sw.addPort('br0', h2.port);
    });
    after(async () => {
      await sw?.stop();
      await topo.cleanup();
    });

    test('the hosts ping each other both ways', async () => {
      const first = await topo.waitPing(h1, h2.ip);
      assert.equal(first.loss, 0, `no answer from h2:\n${first.out}\n${sw?.diagnostics().slice(-3000)}`);
      const back = await topo.ping(h2, h1.ip, 5);
      assert.equal(back.loss, 0, back.out);
    });

    test('a TCP stream from h1 reaches h2', async () => {
      const r = await topo.tcp(h1, h2, 1);
      assert.ok(r.bytes > 1_000_000, `only ${r.bytes} bytes arrived`);
    });

    // A switch with a megaflow cache must have cached TCP under NORMAL without the L4 ports (OVS does the same).
    test('the datapath flows of NORMAL switching do not match on L4 ports', { skip: impl === 'linux' ? 'the Linux bridge has no flow cache' : false }, async () => {
      const r = await sw!.stack!.appctl(['dpctl/dump-flows']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /eth_type\(0x0800\)/, r.stdout);
      assert.doesNotMatch(r.stdout, /tcp\(|udp\(|tp_src|tp_dst/, r.stdout);
    });
  });
}
