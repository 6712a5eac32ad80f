// VXLAN encapsulation as the datapath applies it, and the tunnel port's
// configuration: headers an underlay router and a remote VTEP accept (valid
// IPv4 checksum, DF, TTL 64, UDP to 4789, the VNI), a round trip back to the
// inner frame, refusal of what is not VXLAN for us, and option errors as
// the Interface error column shows them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelNetdev, NetdevError, parseIp4 } from '../../src/netdev/index.js';
import { decapsulate, encapsulate, VXLAN_OVERHEAD } from '../../src/xlate/tunnel.js';
import type { TunnelEncap, XlateBridge } from '../../src/xlate/index.js';

const ENC: TunnelEncap = {
  kind: 'vxlan', keyPresent: true, underlay: {} as XlateBridge, ethSrc: 0x02000000000an, ethDst: 0x02000000000bn, ipSrc: parseIp4('172.31.64.1')!, ipDst: parseIp4('172.31.64.2')!,
  vni: 4242, dstPort: 4789,
};
const INNER = Uint8Array.from({ length: 98 }, (_, i) => (i * 7) & 0xff);

function checksumOk(b: Uint8Array, at: number, len: number): boolean {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[at + i]! << 8) | b[at + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

describe('VXLAN encapsulation', () => {
  it('builds outer headers a router and a VTEP accept', () => {
    const f = encapsulate(ENC, 40000, INNER);
    const dv = new DataView(f.buffer);
    assert.equal(f.length, INNER.length + VXLAN_OVERHEAD);
    assert.equal(dv.getUint16(12), 0x0800);
    assert.equal(f[14], 0x45);
    assert.equal(dv.getUint16(16), 20 + 8 + 8 + INNER.length, 'IP total length');
    assert.equal(dv.getUint16(20), 0x4000, "don't fragment, no offset");
    assert.equal(f[22], 64);
    assert.equal(f[23], 17);
    assert.ok(checksumOk(f, 14, 20), 'IPv4 header checksum');
    assert.deepEqual([dv.getUint16(34), dv.getUint16(36), dv.getUint16(38)], [40000, 4789, 8 + 8 + INNER.length]);
    assert.equal(f[42], 0x08, 'VNI-present flag');
    assert.equal(dv.getUint32(46) >>> 8, 4242);
    assert.deepEqual(f.subarray(VXLAN_OVERHEAD), INNER);
  });

  it('decapsulates what it encapsulated, with the outer addresses and VNI', () => {
    const d = decapsulate(encapsulate(ENC, 40000, INNER));
    assert.ok(d);
    assert.deepEqual([d.ipSrc, d.ipDst, d.udpDst, d.key], [ENC.ipSrc, ENC.ipDst, 4789, 4242]);
    assert.deepEqual(d.inner, INNER);
  });

  it('refuses fragments, non-UDP, runts and VXLAN without the VNI flag', () => {
    const f = encapsulate(ENC, 40000, INNER);
    const frag = f.slice();
    frag[20] = 0x20; // more fragments
    assert.equal(decapsulate(frag), null);
    const tcp = f.slice();
    tcp[23] = 6;
    assert.equal(decapsulate(tcp), null);
    assert.equal(decapsulate(f.subarray(0, 40)), null);
    const noVni = f.slice();
    noVni[42] = 0;
    assert.equal(decapsulate(noVni), null);
  });
});

describe('Geneve and GRE encapsulation', () => {
  it('Geneve: UDP to 6081, an Ethernet payload, the VNI; decapsulated back', () => {
    const enc: TunnelEncap = { ...ENC, kind: 'geneve', dstPort: 6081 };
    const f = encapsulate(enc, 40001, INNER);
    const dv = new DataView(f.buffer);
    assert.equal(f[23], 17);
    assert.equal(dv.getUint16(36), 6081);
    assert.equal(f[42], 0, 'version 0, no options');
    assert.equal(dv.getUint16(44), 0x6558);
    assert.equal(dv.getUint32(46) >>> 8, 4242);
    assert.ok(checksumOk(f, 14, 20));
    const d = decapsulate(f, 'geneve');
    assert.deepEqual([d?.udpDst, d?.key], [6081, 4242]);
    assert.deepEqual(d?.inner, INNER);
    assert.equal(decapsulate(f, 'vxlan'), null, 'not VXLAN');
  });

  it('GRE: IP protocol 47, the key only when configured', () => {
    const keyed = encapsulate({ ...ENC, kind: 'gre', dstPort: 0 }, 0, INNER);
    const dv = new DataView(keyed.buffer);
    assert.equal(keyed[23], 47);
    assert.deepEqual([dv.getUint16(34), dv.getUint16(36), dv.getUint32(38)], [0x2000, 0x6558, 4242]);
    assert.equal(dv.getUint16(16), 20 + 8 + INNER.length);
    assert.deepEqual(decapsulate(keyed, 'gre')?.inner, INNER);
    const plain = encapsulate({ ...ENC, kind: 'gre', keyPresent: false, dstPort: 0 }, 0, INNER);
    assert.equal(plain.length, 14 + 20 + 4 + INNER.length);
    assert.deepEqual([decapsulate(plain, 'gre')?.key, decapsulate(plain, 'gre')?.inner.length], [0, INNER.length]);
    const withSeq = keyed.slice();
    withSeq[34] = 0x30; // key + sequence number present
    assert.equal(decapsulate(withSeq, 'gre'), null);
  });
});

describe('vxlan port options', () => {
  const opts = (o: Record<string, string>) => new Map(Object.entries(o));
  const err = (o: Record<string, string>): string => {
    try {
      new TunnelNetdev('vx0', 'vxlan').setConfig(opts(o));
    } catch (e) {
      assert.ok(e instanceof NetdevError);
      return e.message;
    }
    return 'accepted';
  };

  it('takes remote_ip, local_ip, key and dst_port', () => {
    const t = new TunnelNetdev('vx0', 'vxlan');
    t.setConfig(opts({ remote_ip: '10.0.0.2', local_ip: '10.0.0.1', key: '0x10', dst_port: '8472' }));
    assert.deepEqual([t.remoteIp, t.localIp, t.inKey, t.outKey, t.dstPort], [parseIp4('10.0.0.2'), parseIp4('10.0.0.1'), 16, 16, 8472]);
  });

  it('takes flow for remote_ip, local_ip and the keys (in_key and out_key apart from key)', () => {
    const t = new TunnelNetdev('vx0', 'vxlan');
    t.setConfig(opts({ remote_ip: 'flow', local_ip: 'flow', key: 'flow' }));
    assert.deepEqual([t.remoteIp, t.localIp, t.inKey, t.outKey, t.keyPresent], ['flow', 'flow', 'flow', 'flow', true]);
    t.setConfig(opts({ remote_ip: '10.0.0.2', in_key: 'flow', out_key: '7' }));
    assert.deepEqual([t.inKey, t.outKey], ['flow', 7]);
    assert.deepEqual(t.getStatus(), { remote_ip: '10.0.0.2' });
  });

  it('says what is wrong with bad options', () => {
    assert.equal(err({}), "vx0: vxlan type requires valid 'remote_ip' argument");
    assert.match(err({ remote_ip: 'somewhere' }), /bad vxlan 'remote_ip' somewhere \(an IPv4 address or flow\)/);
    assert.match(err({ remote_ip: '10.0.0.2', in_key: 'x' }), /bad vxlan in_key x/);
    assert.match(err({ remote_ip: '10.0.0.2', key: '16777216' }), /VNI of at most 24 bits/);
    assert.match(err({ remote_ip: '10.0.0.2', dst_port: '0' }), /bad vxlan dst_port 0/);
    assert.match(err({ remote_ip: '10.0.0.2', tos: 'inherit' }), /has no 'tos' option/);
    assert.equal(new TunnelNetdev('g0', 'geneve').dstPort, 6081);
    const gre = new TunnelNetdev('g1', 'gre');
    assert.throws(() => gre.setConfig(opts({ remote_ip: '10.0.0.2', dst_port: '4789' })), /gre type has no 'dst_port' option/);
  });
});
