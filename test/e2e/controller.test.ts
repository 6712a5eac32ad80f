// A bridge under an OpenFlow controller: os-ken (osken-manager) runs the
// learning switch written for these tests (learning_switch.py) inside the
// switch's namespace; the bridge is fail_mode=secure, so every packet that
// crosses it does so because the controller said so. Only for ovs and tsw.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { okOutput } from '../interop/real-ovs.js';
import { e2eImpls, implMissing, startSwitch, type Switch } from './switches.js';
import { childOutput, sleep, sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';

const OSKEN = '/usr/bin/osken-manager';
const APP = join(dirname(fileURLToPath(import.meta.url)), 'learning_switch.py');
const oskenMissing = existsSync(OSKEN) ? null : `${OSKEN} is missing (python3-os-ken)`;

for (const impl of e2eImpls(['ovs', 'tsw'])) {
  describe(`${impl}: two hosts through a bridge run by an os-ken learning switch`,
    { skip: topologyMissing() ?? implMissing(impl) ?? oskenMissing ?? false }, () => {
      const topo = new Topology();
      let sw: Switch | undefined;
      let osken: ChildProcess | undefined;
      let h1: Host;
      let h2: Host;
      const flows = async (): Promise<string> => okOutput(await sw!.stack!.ofctl(['-O', 'OpenFlow13', 'dump-flows', 'br0']), 'dump-flows');

      before(async () => {
        await sweepLeftovers();
        const ns = await topo.addNs('sw');
        h1 = await topo.addHost('h1', { cidr: '10.65.0.1/24', switchNs: ns });
        h2 = await topo.addHost('h2', { cidr: '10.65.0.2/24', switchNs: ns });
        sw = await startSwitch(impl, topo, ns);
        await sw.addBridge('br0');
        await sw.addPort('br0', h1.port);
        await sw.addPort('br0', h2.port);
        // The controller listens on the switch namespace's own loopback.
        osken = topo.spawnIn(ns, [OSKEN, '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', '6653', APP]);
        await topo.waitListening(ns, 6653, osken, 20_000);
        await sw.setController('br0', 'tcp:127.0.0.1:6653');
      });
      after(async () => {
        if (osken) await topo.kill(osken);
        await sw?.stop();
        await topo.cleanup();
      });

      test('the controller connects and installs its table-miss flow', async () => {
        let f = '';
        for (let i = 0; i < 100 && !/priority=0 actions=CONTROLLER/.test(f); i++) {
          await sleep(100);
          f = await flows();
        }
        assert.match(f, /priority=0 actions=CONTROLLER:65535/, `${f}\nos-ken said:\n${childOutput(osken!)}`);
      });

      test('the hosts ping through flows the controller learned', async () => {
        const r = await topo.waitPing(h1, h2.ip);
        assert.equal(r.loss, 0, `h1 -> h2:\n${r.out}\nos-ken said:\n${childOutput(osken!)}`);
        const back = await topo.ping(h2, h1.ip, 3);
        assert.equal(back.loss, 0, back.out);
        const f = await flows();
        for (const [a, b] of [[h1, h2], [h2, h1]] as const) {
          assert.match(f, new RegExp(`priority=1,in_port="?[^ ,]+"?,dl_src=${a.mac},dl_dst=${b.mac} actions=output`), f);
        }
        assert.match(childOutput(osken!), /learned flow/);
      });

      test('a TCP stream follows the learned flows', async () => {
        const r = await topo.tcp(h1, h2, 1);
        assert.ok(r.bytes > 1_000_000, `only ${r.bytes} bytes arrived`);
      });
    });
}
