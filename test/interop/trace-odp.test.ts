// ofproto/trace given a datapath flow (the form dpctl/dump-flows prints), in
// tsw-vswitchd and in a real ovs-vswitchd with the same bridge: the one-
// argument form, a datapath name ("netdev", "ovs-netdev"), in_port by port
// name, -generate and a trailing packet, and the errors (unknown datapath,
// datapath port without an OpenFlow port, text that is neither form) must
// print the same. Flooded outputs are compared as sets: OVS lists them in
// hash order. Needs `npm run build`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realOvsMissing, startRealOvs, type RealOvs, type SwitchImpl } from './real-ovs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const missing = realOvsMissing() ?? (existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js')) ? null : 'tsw-vswitchd is not built (npm run build)');

const UDP = 'in_port(1),eth(src=00:00:00:00:00:0a,dst=00:00:00:00:00:0b),eth_type(0x0800),'
  + 'ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=9,dst=9)';
const ARP_FROM_P2 = 'in_port(2),eth(src=00:00:00:00:00:0b,dst=00:00:00:00:00:0a),eth_type(0x0806)';

/** In order: the later ones see what the -generate and packet traces before them learned. */
const CASES: readonly (readonly string[])[] = [
  [UDP],
  ['netdev', ARP_FROM_P2],
  ['ovs-netdev', 'in_port(p1),eth(src=00:00:00:00:00:0c,dst=00:00:00:00:00:0a),eth_type(0x0806)', '-generate'],
  ['ovs-netdev', 'in_port(1),eth(src=00:00:00:00:00:0c,dst=00:00:00:00:00:0a),eth_type(0x0806)', '00000000000a0000000000bb08060001080006040001'],
  ['in_port(100),eth(src=00:00:00:00:00:0c,dst=00:00:00:00:00:bb),eth_type(0x0806)'],
  ['recirc_id(0),in_port(1),eth(src=00:00:00:00:00:0a/ff:ff:ff:ff:ff:00,dst=00:00:00:00:00:0b),eth_type(0x0806),arp(sip=1.2.3.4)'],
  [UDP, '-generate'],
  // errors
  ['nosuchdp', 'in_port(1),eth_type(0x0806)'],
  ['br0', 'in_port(1),eth_type(0x0806)'],
  ['in_port(9),eth(src=00:00:00:00:00:0a,dst=00:00:00:00:00:0b),eth_type(0x0806)'],
  ['in_port=1,dl_src=00:00:00:00:00:01'],
  ['in_port(1),bogus(1)'],
  [UDP, '0000000000aa'],
];

/** The reply with the socket path gone and a flood's outputs in one order. */
function normalize(text: string): string {
  return text
    .replace(/\/tmp\/tsw-realovs-[A-Za-z0-9]+/g, 'RUN')
    .replace(/^Datapath actions: ([0-9,]+)$/m, (_, list: string) => `Datapath actions: ${list.split(',').sort().join(',')}`);
}

describe('ofproto/trace of a datapath flow prints what ovs-vswitchd prints', { skip: missing ?? false }, () => {
  const sw: Partial<Record<SwitchImpl, RealOvs>> = {};

  before(async () => {
    sw.ovs = await startRealOvs({ impl: 'ovs', bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
    sw.tsw = await startRealOvs({ impl: 'tsw', bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
  });

  after(async () => {
    await sw.ovs?.stop();
    await sw.tsw?.stop();
  });

  test('the same datapath port numbers on both (what the flows below name)', async () => {
    const ports = async (s: RealOvs) => (await s.appctl(['dpctl/show'])).stdout.split('\n').filter((l) => /^\s+port /.test(l)).join('\n');
    assert.equal(await ports(sw.tsw!), await ports(sw.ovs!));
  });

  test(`${CASES.length} traces and errors, one by one`, async () => {
    const diffs: string[] = [];
    for (const args of CASES) {
      const run = async (s: RealOvs) => {
        const r = await s.appctl(['ofproto/trace', ...args]);
        return normalize(`rc=${r.code}\n${r.stdout}${r.stderr}`);
      };
      const real = await run(sw.ovs!);
      const ours = await run(sw.tsw!);
      if (real !== ours) diffs.push(`--- ofproto/trace ${args.join(' ')}\n[ovs]\n${real}\n[tsw]\n${ours}`);
    }
    assert.equal(diffs.length, 0, `${diffs.length} of ${CASES.length} differ:\n${diffs.join('\n')}`);
  });
});
