// netdev-dummy/receive's packet argument in ODP syntax (as dpctl/dump-flows
// prints flows) makes the same frame as the OpenFlow flow text saying the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameFromArgument } from '../../src/vswitchd/commands.js';

const same: Array<[string, string]> = [
  ['in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0x11,ttl=9,frag=no),udp(src=9,dst=53)',
    'dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=16,nw_ecn=1,nw_ttl=9,tp_src=9,tp_dst=53'],
  ['recirc_id(0),in_port(2),eth(src=00:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=00:00:00:00:00:01,tha=00:00:00:00:00:00)',
    'dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01'],
  ['eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x86dd),ipv6(src=fe80::1,dst=ff02::1,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=fe80::2,sll=00:00:00:00:00:01))',
    'dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_vlan=10,dl_vlan_pcp=3,icmp6,ipv6_src=fe80::1,ipv6_dst=ff02::1,nw_ttl=255,icmp_type=135,icmp_code=0,nd_target=fe80::2,nd_sll=00:00:00:00:00:01'],
  ['eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,dst=10.0.0.2,proto=6,frag=no),tcp(src=1000,dst=80),tcp_flags(syn)',
    'dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1000,tp_dst=80'],
];

test('an ODP flow and the OpenFlow flow saying the same make the same frame', () => {
  for (const [odp, flow] of same) assert.deepEqual(frameFromArgument(odp), frameFromArgument(flow), odp);
});

test('bad ODP flows are refused with a message, not a crash', () => {
  for (const bad of ['eth(src=00:00:00:00:00:01', 'bogus(1)', 'eth(color=red)', 'ipv4(tos=999)', 'eth(src)']) {
    assert.throws(() => frameFromArgument(bad), /syntax error|unknown field|bad tos|expected field=value|unbalanced/, bad);
  }
});
