// Bad input on a real port: a host writes malformed frames straight onto its
// wire with a raw AF_PACKET socket (runt Ethernet payloads, IPv4 headers that
// lie about their length, truncated IP options, TCP with a bad offset,
// VLAN-in-VLAN-in-VLAN, unknown ethertypes, an IPv6 extension-header chain
// cut short, truncated ARP and MPLS, 9000-byte jumbo frames). The switch must
// keep running, keep forwarding good traffic, and still answer its tools.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eImpls, implMissing, startSwitch, type Switch } from './switches.js';
import { inNs, sweepLeftovers, Topology, topologyMissing, type Host } from './topology.js';

/** A python3 program that writes every hostile frame, REPEAT times each, onto eth0 of the namespace it runs in. */
const SENDER = String.raw`
import socket, struct, sys
dst = bytes.fromhex(sys.argv[1].replace(':', ''))
src = bytes.fromhex('020000000bad')
repeat = int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
def eth(t, payload, d=dst):
    return d + src + struct.pack('!H', t) + payload
ip_ok = bytes([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 62, 0, 1, 10, 62, 0, 2])
frames = [
    eth(0x0800, b''),                                                   # IPv4 with no header at all
    eth(0x0800, bytes([0x45, 0, 0xff, 0xff]) + bytes(16)),              # total length 65535, 20 bytes sent
    eth(0x0800, bytes([0x4f]) + bytes(19)),                             # IHL 15 (60 bytes), 20 sent: options cut short
    eth(0x0800, bytes([0x42]) + bytes(39)),                             # IHL 2: shorter than a header
    eth(0x0800, ip_ok + bytes([0, 80, 0, 81]) + bytes(8) + bytes([0xf0, 0x02])),  # TCP data offset 60, header cut
    eth(0x0800, ip_ok[:9] + bytes([17]) + ip_ok[10:] + bytes(3)),       # UDP header cut short
    eth(0x8100, struct.pack('!HHHHH', 10, 0x8100, 20, 0x8100, 30) + struct.pack('!H', 0x0800) + ip_ok),  # three tags
    eth(0x88a8, struct.pack('!HH', 10, 0x88a8) + struct.pack('!HH', 20, 0x8100)),  # QinQ tags and nothing else
    eth(0x1234, bytes(46)),                                             # unknown ethertype
    eth(0x0600, bytes(46)),                                             # 802.3 length field
    eth(0x86dd, bytes([0x60, 0, 0, 0, 0, 8, 0, 64]) + bytes(32) + bytes([43, 255])),  # routing header cut short
    eth(0x0806, bytes(7)),                                              # truncated ARP
    eth(0x8847, bytes(2)),                                              # truncated MPLS label
    eth(0x8847, struct.pack('!I', (16 << 12) | 64) * 20),               # 20 labels, none bottom-of-stack
    eth(0x0800, ip_ok + bytes(8960)),                                   # a 9000-byte jumbo (IP length lies)
    eth(0x0800, ip_ok, d=b'\xff' * 6),                                  # broadcast of the same
    eth(0x0800, ip_ok, d=bytes([1, 0, 0x5e, 0, 0, 1])),                  # multicast
]
sent = 0
for _ in range(repeat):
    for f in frames:
        try:
            s.send(f)
            sent += 1
        except OSError:
            pass
print(sent)
`;

for (const impl of e2eImpls(['ovs', 'tsw'])) {
  describe(`${impl}: malformed frames on a port do not stop the switch`, { skip: topologyMissing() ?? implMissing(impl) ?? false }, () => {
    const topo = new Topology();
    let sw: Switch | undefined;
    let h1: Host;
    let h2: Host;

    before(async () => {
      await sweepLeftovers();
      const ns = await topo.addNs('sw');
      h1 = await topo.addHost('h1', { cidr: '10.62.0.1/24', switchNs: ns, mtu: 9000 });
      h2 = await topo.addHost('h2', { cidr: '10.62.0.2/24', switchNs: ns, mtu: 9000 });
      sw = await startSwitch(impl, topo, ns);
      await sw.addBridge('br0');
      await sw.addPort('br0', h1.port);
      await sw.addPort('br0', h2.port);
      const first = await topo.waitPing(h1, h2.ip);
      assert.equal(first.loss, 0, `no answer before the bad frames:\n${first.out}`);
    });
    after(async () => {
      await sw?.stop();
      await topo.cleanup();
    });

    test('2,000 hostile frames, to a learned host, broadcast and multicast: good traffic still flows', async () => {
      const r = await inNs(h1.ns, ['python3', '-c', SENDER, h2.mac, '120']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Number(r.stdout.trim()) >= 1500, `only ${r.stdout.trim()} frames could be sent`);
      const after = await topo.ping(h1, h2.ip, 5);
      assert.equal(after.loss, 0, `h1 -> h2 after the bad frames:\n${after.out}\n${sw?.diagnostics().slice(-3000)}`);
      const tcp = await topo.tcp(h2, h1, 1);
      assert.ok(tcp.bytes > 1_000_000, `only ${tcp.bytes} bytes of TCP after the bad frames`);
    });

    test('the daemon still answers its tools', async () => {
      const s = sw!.stack!;
      const show = await s.appctl(['dpctl/show']);
      assert.equal(show.code, 0, show.stderr);
      const m = /lookups: hit:(\d+) missed:(\d+) lost:(\d+)/.exec(show.stdout);
      assert.ok(m, show.stdout);
      // The frames did reach the datapath (the kernel did not filter them on the way).
      const seen = Number(m[1]) + Number(m[2]) + Number(m[3]);
      assert.ok(seen >= 1500, `the datapath saw only ${seen} packets:\n${show.stdout}`);
      const flows = await s.ofctl(['dump-flows', 'br0']);
      assert.equal(flows.code, 0, flows.stderr);
      assert.match(flows.stdout, /actions=NORMAL/);
    });
  });
}
