// Flow-based tunnels (options remote_ip=flow, key=flow): switch A's tunnel
// port has no fixed far end or key; its OpenFlow rules set tun_dst and
// tun_id before output, and match tun_src and tun_id on what comes back.
// Switch B has an ordinary tunnel port (remote_ip and key fixed) under
// NORMAL. The same topology as the tunnel scenarios (underlay bridge `ul` in
// each switch namespace, host on `br0`), with A and B run by tsw and Open
// vSwitch both ways round, so the configuration and the rules are proven on
// OVS as well.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eImpls, implMissing, startSwitch, type E2eImpl, type Switch } from './switches.js';
import { sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';
import { okOutput } from '../interop/real-ovs.js';

const KINDS = ['vxlan', 'gre'] as const;

function scenario(kind: typeof KINDS[number], impls: readonly [E2eImpl, E2eImpl]): void {
  const skip = topologyMissing() ?? implMissing(impls[0]) ?? implMissing(impls[1]) ?? false;
  describe(`${impls[0]} with ${kind} remote_ip=flow,key=flow facing ${impls[1]} with a fixed tunnel`, { skip }, () => {
    const topo = new Topology();
    const sws: Switch[] = [];
    const hosts: Host[] = [];

    before(async () => {
      await sweepLeftovers();
      const nsA = await topo.addNs('swA');
      const nsB = await topo.addNs('swB');
      const [uA, uB] = [topo.name('uA'), topo.name('uB')];
      await topo.link(nsA, uA, nsB, uB);
      hosts.push(await topo.addHost('h1', { cidr: '10.65.0.1/24', switchNs: nsA, mtu: 1400 }));
      hosts.push(await topo.addHost('h2', { cidr: '10.65.0.2/24', switchNs: nsB, mtu: 1400 }));
      const sides = [[nsA, uA, '172.31.65.1/24'], [nsB, uB, '172.31.65.2/24']] as const;
      for (const [i, [ns, under, cidr]] of sides.entries()) {
        const sw = await startSwitch(impls[i]!, topo, ns);
        sws.push(sw);
        await sw.addBridge('ul');
        await sw.addPort('ul', under);
        await sw.setLocalIp('ul', cidr);
        await sw.addBridge('br0');
      }
      const [a, b] = sws as [Switch, Switch];
      const vx = topo.name('vx');
      const vsctl = async (sw: Switch, args: string[]): Promise<void> => { okOutput(await sw.stack!.vsctl(args), `ovs-vsctl ${args.join(' ')}`); };
      await vsctl(a, ['add-port', 'br0', hosts[0]!.port, '--', 'set', 'Interface', hosts[0]!.port, 'ofport_request=1',
        '--', 'add-port', 'br0', vx, '--', 'set', 'Interface', vx, `type=${kind}`, 'ofport_request=2', 'options:remote_ip=flow', 'options:key=flow']);
      const ofctl = async (args: string[]): Promise<void> => { okOutput(await a.stack!.ofctl(args), `ovs-ofctl ${args.join(' ')}`); };
      await ofctl(['del-flows', 'br0']);
      await ofctl(['add-flow', 'br0', 'priority=100,in_port=1,actions=set_field:172.31.65.2->tun_dst,set_field:4242->tun_id,output:2']);
      await ofctl(['add-flow', 'br0', 'priority=100,in_port=2,tun_id=4242,tun_src=172.31.65.2,actions=output:1']);
      await b.addPort('br0', hosts[1]!.port);
      await b.addVxlan('br0', vx, { localIp: '172.31.65.2', remoteIp: '172.31.65.1', vni: 4242, kind });
    });
    after(async () => {
      for (const sw of sws) await sw.stop();
      await topo.cleanup();
    });

    test('the hosts ping each other through the flow-based end', async () => {
      const [h1, h2] = hosts as [Host, Host];
      const r = await topo.waitPing(h1, h2.ip, 40);
      if (r.loss !== 0) {
        let state = '';
        for (const sw of sws) {
          for (const cmd of [['dpctl/dump-flows'], ['bridge/dump-flows', 'br0']]) {
            const out = await sw.stack?.appctl(cmd);
            state += `--- ${sw.impl} ${cmd.join(' ')}\n${out ? out.stdout + out.stderr : ''}`;
          }
        }
        assert.fail(`h1 -> h2:\n${r.out}\n${state}\n${sws.map((sw) => sw.diagnostics().slice(-1500)).join('\n')}`);
      }
      const back = await topo.ping(h2, h1.ip, 3);
      assert.equal(back.loss, 0, back.out);
    });

    test('a rule matching another tun_id does not take the tunnel\'s packets', async () => {
      const a = sws[0]!;
      okOutput(await a.stack!.ofctl(['mod-flows', 'br0', 'in_port=2,tun_id=4242,tun_src=172.31.65.2,actions=drop']), 'mod-flows');
      okOutput(await a.stack!.ofctl(['add-flow', 'br0', 'priority=100,in_port=2,tun_id=4243,actions=output:1']), 'add-flow');
      const r = await topo.ping(hosts[1]!, hosts[0]!.ip, 2);
      assert.equal(r.loss, 100, r.out);
    });
  });
}

const both = e2eImpls(['ovs', 'tsw']);
for (const kind of KINDS) {
  if (both.includes('tsw')) scenario(kind, ['tsw', both.includes('ovs') ? 'ovs' : 'tsw']);
  if (both.length === 2) scenario(kind, ['ovs', 'tsw']);
}
