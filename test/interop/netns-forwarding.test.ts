// Real packets through a standalone bridge (NORMAL switching) between two
// hosts made with `ip netns` and veth pairs: ping both ways, a TCP transfer
// with its bytes checked, and the megaflows the datapath installed (a TCP flow
// under NORMAL must not match on L4 ports). Run against tsw-vswitchd and
// against Debian's ovs-vswitchd (userspace datapath), so the scenario is
// known to test the switch. Needs root, iproute2, ping, nc.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SWITCH_IMPLS, okOutput, realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const missing = realOvsMissing()
  ?? (process.getuid?.() === 0 ? null : 'needs root for network namespaces')
  ?? (['/usr/bin/ping', '/usr/bin/nc', '/usr/sbin/ethtool'].every((p) => existsSync(p)) ? null : 'needs ping, nc and ethtool')
  ?? (existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js')) ? null : 'not built (npm run build)');

/** Runs a command; returns its status and output instead of throwing. */
function run(cmd: string, args: readonly string[], timeoutMs = 20_000): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (ns: string, ...cmd: string[]) => run('ip', ['netns', 'exec', ns, ...cmd]);

for (const impl of SWITCH_IMPLS) {
  describe(`${impl}: two hosts in network namespaces through a standalone bridge`, { skip: missing ?? false }, () => {
    // A per-run prefix keeps parallel runs and leftovers apart; interface names stay under 16 bytes.
    const P = `nf${impl[0]}${process.pid % 10000}`;
    const br = `${P}br`;
    let s: RealOvs;

    before(async () => {
      for (const h of ['1', '2']) {
        ip('netns', 'add', `${P}h${h}`);
        ip('link', 'add', `${P}s${h}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `${P}h${h}`);
        ip('link', 'set', `${P}s${h}`, 'up');
        ip('-n', `${P}h${h}`, 'link', 'set', 'eth0', 'up');
        ip('-n', `${P}h${h}`, 'addr', 'add', `10.77.0.${h}/24`, 'dev', 'eth0');
        // A userspace switch forwards what the host hands it: the host must fill in its TCP checksums.
        const off = inNs(`${P}h${h}`, 'ethtool', '-K', 'eth0', 'tx', 'off');
        if (off.code !== 0) throw new Error(`ethtool -K eth0 tx off failed: ${off.out}`);
      }
      s = await startRealOvs({ impl, dummy: false, bridges: [] });
      okOutput(await s.vsctl(['add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev',
        '--', 'add-port', br, `${P}s1`, '--', 'add-port', br, `${P}s2`]), 'add-br');
    });
    after(async () => {
      await s?.stop();
      for (const h of ['1', '2']) {
        run('ip', ['netns', 'del', `${P}h${h}`]);
        run('ip', ['link', 'del', `${P}s${h}`]);
      }
    });

    test('the hosts ping each other', async () => {
      let r = { code: -1, out: '' };
      // The ports may take a moment to come up.
      for (let i = 0; i < 20 && r.code !== 0; i++) {
        r = inNs(`${P}h1`, 'ping', '-c', '1', '-W', '1', '10.77.0.2');
      }
      assert.equal(r.code, 0, r.out);
      r = inNs(`${P}h2`, 'ping', '-c', '5', '-i', '0.2', '-W', '1', '10.77.0.1');
      assert.match(r.out, / 0% packet loss/, r.out);
    });

    test('a 2 MB TCP transfer arrives whole', () => {
      const r = run('sh', ['-c', `ip netns exec ${P}h2 sh -c 'timeout 15 nc -l -p 5001 | md5sum' & sleep 0.5; `
        + `head -c 2000000 /dev/urandom > /tmp/${P}.bin; md5sum < /tmp/${P}.bin; `
        + `ip netns exec ${P}h1 timeout 15 nc -q 1 10.77.0.2 5001 < /tmp/${P}.bin; wait; rm -f /tmp/${P}.bin`], 30_000);
      const sums = r.out.match(/[0-9a-f]{32}/g) ?? [];
      assert.equal(sums.length, 2, r.out);
      assert.equal(sums[0], sums[1], 'received bytes differ from those sent');
    });

    test('the datapath flows of NORMAL switching do not match on L4 ports', async () => {
      const flows = okOutput(await s.appctl(['dpctl/dump-flows']), 'dpctl/dump-flows');
      assert.match(flows, /actions:/);
      assert.doesNotMatch(flows, /tp_src|tp_dst|tcp\(src|tcp\(dst/, flows);
    });
  });
}
