// A VXLAN, Geneve or GRE tunnel between two bridges in two namespaces (two switches): each
// switch namespace has an underlay bridge `ul` whose local port carries the
// tunnel endpoint address (as OVS's userspace tunnelling wants: the route to
// the remote endpoint leaves through a bridge's internal port), with a veth
// to the other switch namespace as its only port; `br0` holds the host and
// the vxlan port. Hosts use MTU 1400 so encapsulated frames fit the underlay.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eImpls, implMissing, startSwitch, type E2eImpl, type Switch } from './switches.js';
import { sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';
import { splitTopLevel } from '../../src/openflow/index.js';

// The kernel here has no geneve or gretap netdevs, so the Linux rows do VXLAN only.
const KINDS = ['vxlan', 'geneve', 'gre'] as const;

/** The scenario with switch A run by `impls[0]` and switch B by `impls[1]`. */
function scenario(kind: typeof KINDS[number], impls: readonly [E2eImpl, E2eImpl], title: string): void {
  const skip = topologyMissing() ?? implMissing(impls[0]) ?? implMissing(impls[1]) ?? false;
  describe(title, { skip }, () => {
    const topo = new Topology();
    const sws: Switch[] = [];
    const hosts: Host[] = [];

    before(async () => {
      await sweepLeftovers();
      const nsA = await topo.addNs('swA');
      const nsB = await topo.addNs('swB');
      const [uA, uB] = [topo.name('uA'), topo.name('uB')];
      await topo.link(nsA, uA, nsB, uB);
      hosts.push(await topo.addHost('h1', { cidr: '10.64.0.1/24', switchNs: nsA, mtu: 1400 }));
      hosts.push(await topo.addHost('h2', { cidr: '10.64.0.2/24', switchNs: nsB, mtu: 1400 }));
      const sides = [[nsA, uA, '172.31.64.1', '172.31.64.2'], [nsB, uB, '172.31.64.2', '172.31.64.1']] as const;
      for (const [i, [ns, under, local, remote]] of sides.entries()) {
        const sw = await startSwitch(impls[i]!, topo, ns);
        sws.push(sw);
        await sw.addBridge('ul');
        await sw.addPort('ul', under);
        await sw.setLocalIp('ul', `${local}/24`);
        await sw.addBridge('br0');
        await sw.addPort('br0', hosts[i]!.port);
        await sw.addVxlan('br0', topo.name('vx'), { localIp: local, remoteIp: remote, vni: 4242, kind });
      }
    });
    after(async () => {
      for (const sw of sws) await sw.stop();
      await topo.cleanup();
    });

    test('the underlay endpoints reach each other', async () => {
      const ns = sws[0]!.ns;
      const r = await topo.waitPing({ ns, ip: '172.31.64.1', port: '', mac: '' }, '172.31.64.2', 10);
      assert.equal(r.loss, 0, `underlay:\n${r.out}`);
    });

    test('the hosts ping each other and move TCP through the tunnel', async () => {
      const [h1, h2] = hosts as [Host, Host];
      const r = await topo.waitPing(h1, h2.ip, 40);
      if (r.loss !== 0) {
        // What each switch learned and cached, for the post-mortem of a failure.
        let state = '';
        for (const sw of sws) {
          for (const cmd of [['fdb/show', 'br0'], ['fdb/show', 'ul'], ['dpctl/dump-flows'], ['tnl/neigh/show']]) {
            const out = await sw.stack?.appctl(cmd);
            state += `--- ${sw.impl} ${cmd.join(' ')}\n${out ? out.stdout + out.stderr : ''}`;
          }
        }
        assert.fail(`h1 -> h2:\n${r.out}\n${state}\n${sws.map((sw) => sw.diagnostics().slice(-2000)).join('\n')}`);
      }
      const back = await topo.ping(h2, h1.ip, 3);
      assert.equal(back.loss, 0, back.out);
      const tcp = await topo.tcp(h1, h2, 1);
      assert.ok(tcp.bytes > 1_000_000, `only ${tcp.bytes} bytes went through the tunnel`);
    });

    // The datapath does the tunnelling itself, and says so as OVS does: tnl_push with the header, tnl_pop, and
    // megaflows of decapsulated packets that match their tunnel metadata. With both implementations in the run,
    // the texts must be the same once addresses, MACs and port numbers are set aside.
    test('dpctl/dump-flows shows tnl_push, tnl_pop and tunnel() as Open vSwitch prints them', { skip: impls.every((i) => i === 'linux') }, async () => {
      const shapes = new Map<string, Set<string>>();
      for (const sw of sws) {
        const out = (await sw.stack!.appctl(['dpctl/dump-flows'])).stdout;
        const found = new Set<string>();
        for (const m of out.matchAll(/tnl_push\(tnl_port\(\d+\),header\(.*?\),out_port\(\d+\)\)|tnl_pop\(\d+\)|^tunnel\((?:[^()]|\([^()]*\))*\)/gm)) {
          found.add(m[0].replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, 'MAC').replace(/\b\d+\.\d+\.\d+\.\d+\b/g, 'IP').replace(/\((\d+)\)/g, '(N)'));
        }
        const kinds = [...found].map((x) => x.slice(0, 8)).sort();
        assert.ok(kinds.some((k) => k.startsWith('tnl_push')) && kinds.some((k) => k.startsWith('tnl_pop')) && kinds.some((k) => k.startsWith('tunnel(')),
          `${sw.impl}: no tnl_push/tnl_pop/tunnel() in\n${out}`);
        shapes.set(sw.impl, found);
      }
      if (shapes.size === 2) assert.deepEqual([...shapes.get('tsw')!].sort(), [...shapes.get('ovs')!].sort());
    });

    test('ofproto/trace of a broadcast from the host ends in the same datapath actions on both switches', { skip: impls.every((i) => i === 'linux') }, async () => {
      const lines = new Map<string, string>();
      for (const [i, sw] of sws.entries()) {
        const r = await sw.stack!.appctl(['ofproto/trace', 'br0', `in_port=${hosts[i]!.port},dl_src=${hosts[i]!.mac},dl_dst=ff:ff:ff:ff:ff:ff,dl_type=0x0806`]);
        const line = /^Datapath actions: (.*)$/m.exec(r.stdout)?.[1];
        assert.ok(line, `${sw.impl}: no datapath actions in\n${r.stdout}${r.stderr}`);
        assert.match(line, /tnl_push\(tnl_port\(\d+\),header\(/, `${sw.impl}: ${line}`);
        // (Outputs in flooding order, which is hash order in OVS for ports added together: compared as a set.)
        lines.set(sw.impl, splitTopLevel(line).sort().join(',').replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, 'MAC').replace(/\b\d+\.\d+\.\d+\.\d+\b/g, 'IP').replace(/\b\d+\b/g, 'N'));
      }
      if (lines.size === 2) assert.equal(lines.get('tsw'), lines.get('ovs'));
    });
  });
}

for (const kind of KINDS) {
  for (const impl of e2eImpls(kind === 'vxlan' ? undefined : ['ovs', 'tsw'])) {
    scenario(kind, [impl, impl], `${impl}: two hosts through a ${kind} tunnel between two switches`);
  }
  // The two ends run by different implementations: tsw's headers must be what Open vSwitch expects, and the reverse.
  if (e2eImpls(['ovs', 'tsw']).length === 2) scenario(kind, ['tsw', 'ovs'], `tsw and ovs as the two ends of a ${kind} tunnel`);
}
