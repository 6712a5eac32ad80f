// ofproto/trace against ovs-vswitchd 3.1's own traces of the same flows: the
// expected texts below were printed by a real ovs-vswitchd (userspace
// datapath, dummy ports p1-p3 with ofport 1-3; test/interop/real-ovs.ts's
// startRealOvs, then ovs-ofctl add-group/add-flow and `ovs-appctl
// ofproto/trace br0 FLOW [-generate]`) for the same flows and groups.
// Three differences are normalized, each for a reason:
//  - datapath port numbers: OVS numbers ports in its datapath (the bridge's
//    own port was 100 there); tsw has no datapath yet and prints ofports, so
//    OVS's 100 reads as 65534 (LOCAL), and a flood's outputs are compared as
//    a set, since OVS floods in hash order and tsw in port order;
//  - recirc_id in userspace(controller(...)) counts up across OVS's whole run;
//  - OVS's struct flow holds two VLAN headers and prints the inner one's TCI
//    (vlan_tci1=0x0000) after a tagged flow's dl_vlan; tsw's flow key holds
//    one tag, and its flow text (src/flow formatFlow) does not print a second.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceError, fdbShow, parsePacketHex, trace, traceCommand } from '../../src/xlate/index.js';
import { FakeBridge } from './xlate-fake.js';

const LOCAL = 0xfffe;

function normalize(text: string, ovs: boolean): string {
  return text.replace(/,vlan_tci1=0x0000/g, '').split('\n').map((line) => {
    if (!line.startsWith('Datapath actions: ')) return line;
    let acts = line.slice('Datapath actions: '.length).replace(/recirc_id=\d+/g, 'recirc_id=N');
    if (ovs) acts = acts.split(',').map((a) => (a === '100' ? '65534' : a)).join(',');
    if (/^\d+(,\d+)*$/.test(acts)) acts = acts.split(',').map(Number).sort((a, b) => a - b).join(',');
    return `Datapath actions: ${acts}`;
  }).join('\n');
}

function bridgeFor(flows: readonly string[], groups: readonly string[], portConfig: Readonly<Record<number, number>> = {}): FakeBridge {
  const br = new FakeBridge('br0', [1, 2, 3, LOCAL]);
  for (const [port, config] of Object.entries(portConfig)) br.ports.get(Number(port))!.config = config;
  for (const g of groups) br.addGroup(g);
  for (const f of flows) br.addFlow(f);
  return br;
}

function run(br: FakeBridge, args: string): string {
  return traceCommand((n) => (n === br.name ? br : undefined), ['br0', ...args.split(' ')]);
}

/** Scenarios: flows (added with ovs-ofctl -O OpenFlow13 unless noted), groups, port config, and ovs-vswitchd 3.1's trace of each flow. */
const OVS_TRACES: readonly {
  name: string; flows: readonly string[]; groups: readonly string[]; portConfig?: Readonly<Record<number, number>>; traces: readonly [string, string][];
}[] = [
  {
    name: "output",
    flows: ["table=0,priority=100,in_port=1,actions=output:2", "table=0,priority=50,ip,actions=mod_nw_dst:10.0.0.9,resubmit(,1)"],
    groups: [],
    traces: [
      ["in_port=1,dl_dst=00:00:00:00:00:02", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:02,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=1, priority 100
    output:2

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000
Datapath actions: 2
`],
      ["in_port=2,ip,nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_ttl=64", `Flow: ip,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no

bridge("br0")
-------------
 0. ip, priority 50
    set_field:10.0.0.9->ip_dst
    resubmit(,1)
 1. No match.
    drop

Final flow: ip,in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=1.2.3.4,nw_dst=10.0.0.9,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no
Megaflow: recirc_id=0,eth,ip,in_port=2,nw_dst=5.6.7.8,nw_proto=0,nw_frag=no
Datapath actions: drop
`],
      ["in_port=2,dl_dst=00:00:00:00:00:02", `Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:02,dl_type=0x0000

bridge("br0")
-------------
 0. No match.
    drop

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_type=0x0000
Datapath actions: drop
`],
    ],
  },
  {
    name: "rewrite",
    flows: ["table=0,priority=10,ip,actions=mod_dl_src:00:00:00:00:00:aa,mod_nw_dst:10.0.0.9,dec_ttl,output:2,push_vlan:0x8100,set_field:4103->vlan_vid,output:3", "table=0,priority=5,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2,pop_vlan,output:3"],
    groups: [],
    traces: [
      ["in_port=1,tcp,nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_ttl=64,tp_dst=80", `Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=1.2.3.4,nw_dst=5.6.7.8,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0

bridge("br0")
-------------
 0. ip, priority 10
    set_field:00:00:00:00:00:aa->eth_src
    set_field:10.0.0.9->ip_dst
    dec_ttl
    output:2
    push_vlan:0x8100
    set_field:4103->vlan_vid
    output:3

Final flow: tcp,in_port=1,dl_vlan=7,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:aa,dl_dst=00:00:00:00:00:00,nw_src=1.2.3.4,nw_dst=10.0.0.9,nw_tos=0,nw_ecn=0,nw_ttl=63,nw_frag=no,tp_src=0,tp_dst=80,tcp_flags=0
Megaflow: recirc_id=0,eth,tcp,in_port=1,dl_src=00:00:00:00:00:00,nw_dst=5.6.7.8,nw_ttl=64,nw_frag=no
Datapath actions: set(eth(src=00:00:00:00:00:aa)),set(ipv4(dst=10.0.0.9,ttl=63)),2,push_vlan(vid=7,pcp=0),3
`],
      ["in_port=1,arp", `Flow: arp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,arp_spa=0.0.0.0,arp_tpa=0.0.0.0,arp_op=0,arp_sha=00:00:00:00:00:00,arp_tha=00:00:00:00:00:00

bridge("br0")
-------------
 0. priority 5
    push_vlan:0x8100
    set_field:4196->vlan_vid
    output:2
    pop_vlan
    output:3

Final flow: unchanged
Megaflow: recirc_id=0,eth,arp,in_port=1
Datapath actions: push_vlan(vid=100,pcp=0),2,pop_vlan,3
`],
      ["in_port=1,ip,nw_ttl=1", `Flow: ip,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=1,nw_frag=no

bridge("br0")
-------------
 0. ip, priority 10
    set_field:00:00:00:00:00:aa->eth_src
    set_field:10.0.0.9->ip_dst
    dec_ttl
     >> IPv4 decrement TTL exception

Final flow: ip,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:aa,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=10.0.0.9,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=1,nw_frag=no
Megaflow: recirc_id=0,eth,ip,in_port=1,dl_src=00:00:00:00:00:00,nw_dst=0.0.0.0,nw_proto=0,nw_ttl=1,nw_frag=no
Datapath actions: set(eth(src=00:00:00:00:00:aa)),userspace(pid=0,controller(reason=2,dont_send=1,continuation=0,recirc_id=1,rule_cookie=0,controller_id=0,max_len=65535))
`],
    ],
  },
  {
    name: "actionset",
    flows: ["table=0,actions=write_actions(output:3),write_metadata:0x5/0xff,goto_table:2", "table=2,metadata=0x5,actions=set_field:0x7->reg1,clear_actions,write_actions(set_field:00:00:00:00:00:01->eth_dst,output:2)"],
    groups: [],
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    write_actions(output:3)
     -> action set is: output:3
    write_metadata:0x5/0xff
    goto_table:2
     2. metadata=0x5, priority 32768
            set_field:0x7->reg1
            clear_actions
             -> action set was: output:3
            write_actions(set_field:00:00:00:00:00:01->eth_dst,output:2)
             -> action set is: set_field:00:00:00:00:00:01->eth_dst,output:2
--. Executing action set:
    set_field:00:00:00:00:00:01->eth_dst
    output:2

Final flow: reg1=0x7,metadata=0x5,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:01,dl_type=0x0000
Megaflow: recirc_id=0,eth,in_port=1,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: set(eth(dst=00:00:00:00:00:01)),2
`],
    ],
  },
  {
    name: "groups",
    flows: ["table=0,in_port=1,actions=group:1", "table=0,in_port=3,actions=group:3", "table=0,in_port=LOCAL,actions=group:4"],
    groups: ["group_id=1,type=all,bucket=output:2,bucket=mod_dl_dst:00:00:00:00:00:07,output:3", "group_id=3,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3", "group_id=4,type=indirect,bucket=output:LOCAL"],
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=1, priority 32768
    group:1
    bucket 0
            output:2
    bucket 1
            set_field:00:00:00:00:00:07->eth_dst
            output:3

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: 2,set(eth(dst=00:00:00:00:00:07)),3
`],
      ["in_port=3", `Flow: in_port=3,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=3, priority 32768
    group:3
     -> using bucket 0
    bucket 0
            output:2

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=3,dl_type=0x0000
Datapath actions: 2
`],
      ["in_port=LOCAL", `Flow: in_port=LOCAL,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=LOCAL, priority 32768
    group:4
    bucket 0
            LOCAL
             >> skipping output to input port

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=LOCAL,dl_type=0x0000
Datapath actions: drop
`],
    ],
  },
  {
    name: "mpls",
    flows: ["table=0,actions=push_mpls:0x8847,set_field:10->mpls_label,output:2,dec_mpls_ttl,output:3"],
    groups: [],
    traces: [
      ["in_port=1,ip,nw_ttl=9", `Flow: ip,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=9,nw_frag=no

bridge("br0")
-------------
 0. priority 32768
    push_mpls:0x8847
    set_field:10->mpls_label
    output:2
    dec_mpls_ttl
    output:3

Final flow: mpls,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,mpls_label=10,mpls_tc=0,mpls_ttl=8,mpls_bos=1
Megaflow: recirc_id=0,eth,ip,in_port=1,nw_tos=0,nw_ttl=9,nw_frag=no
Datapath actions: push_mpls(label=10,tc=0,ttl=9,bos=1,eth_type=0x8847),2,set(mpls(label=10,tc=0,ttl=8,bos=1)),3
`],
    ],
  },
  {
    name: "ports",
    flows: ["table=0,actions=output:1,IN_PORT,LOCAL,CONTROLLER:128,note:abcd,exit,output:2", "table=0,in_port=2,actions=mod_dl_dst:00:00:00:00:00:03,resubmit(3,4)", "table=4,in_port=3,actions=output:2,output:NXM_NX_REG0[0..15]"],
    groups: [],
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    output:1
     >> skipping output to input port
    IN_PORT
    LOCAL
    CONTROLLER:128
    note:ab.cd.00.00.00.00
    exit

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000
Datapath actions: 1,100,userspace(pid=0,controller(reason=1,dont_send=1,continuation=0,recirc_id=2,rule_cookie=0,controller_id=0,max_len=128))
`],
    ],
  },
  {
    name: "miss",
    flows: ["table=0,priority=0,actions=CONTROLLER:65535", "table=0,priority=5,in_port=2,actions=goto_table:1"],
    groups: [],
    traces: [
      ["in_port=2", `Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=2, priority 5
    goto_table:1
 1. No match.
    drop

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_type=0x0000
Datapath actions: drop
`],
    ],
  },
  {
    name: "normal",
    flows: ["actions=NORMAL"],
    groups: [],
    traces: [
      ["in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02 -generate", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    NORMAL
     -> learned that 00:00:00:00:00:01 is on port p1 in VLAN 0
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000
Datapath actions: 3,2,100
`],
      ["in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01", `Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    NORMAL
     -> forwarding to learned port

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,dl_type=0x0000
Datapath actions: 1
`],
      ["in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01 -generate", `Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    NORMAL
     -> learned that 00:00:00:00:00:02 is on port p2 in VLAN 0
     -> forwarding to learned port

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,dl_type=0x0000
Datapath actions: 1
`],
      ["in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    NORMAL
     -> forwarding to learned port

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000
Datapath actions: 2
`],
      ["in_port=1,dl_src=00:00:00:00:00:01,dl_dst=01:80:c2:00:00:00", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=01:80:c2:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    NORMAL
     -> packet has reserved destination MAC, dropping

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_src=00:00:00:00:00:01,dl_dst=01:80:c2:00:00:00,dl_type=0x0000
Datapath actions: drop
`],
      ["in_port=1,dl_vlan=9,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02 -generate", `Flow: in_port=1,dl_vlan=9,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    NORMAL
     -> learned that 00:00:00:00:00:01 is on port p1 in VLAN 9
     -> no learned MAC for destination, flooding

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_vlan=9,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_type=0x0000
Datapath actions: 3,2,100
`],
    ],
  },
  {
    // flows added with -O OpenFlow10
    name: "learn",
    flows: ["actions=learn(table=5,idle_timeout=30,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),load:0x2->NXM_NX_REG0[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:2"],
    groups: [],
    traces: [
      ["in_port=1,dl_src=00:00:00:00:00:07", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:07,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    learn(table=5,idle_timeout=30,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])
     >> suppressing side effects, so learn action ignored
    load:0x2->NXM_NX_REG0[]
    move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]
     -> NXM_OF_ETH_DST[] is now 00:00:00:00:00:07
    output:2

Final flow: reg0=0x2,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:07,dl_dst=00:00:00:00:00:07,dl_type=0x0000
Megaflow: recirc_id=0,eth,in_port=1,dl_src=00:00:00:00:00:07,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: set(eth(dst=00:00:00:00:00:07)),2
`],
      ["in_port=1,dl_src=00:00:00:00:00:07 -generate", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:07,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. priority 32768
    learn(table=5,idle_timeout=30,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])
     -> table=5 dl_dst=00:00:00:00:00:07 priority=32768 idle=30 actions=output:1
    load:0x2->NXM_NX_REG0[]
    move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]
     -> NXM_OF_ETH_DST[] is now 00:00:00:00:00:07
    output:2

Final flow: reg0=0x2,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:07,dl_dst=00:00:00:00:00:07,dl_type=0x0000
Megaflow: recirc_id=0,eth,in_port=1,dl_src=00:00:00:00:00:07,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: set(eth(dst=00:00:00:00:00:07)),2
`],
    ],
  },
  {
    name: "explicit-miss",
    flows: ["table=0,priority=0,actions=CONTROLLER:65535", "table=0,priority=5,in_port=2,actions=goto_table:1"],
    groups: [],
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. priority 0
    CONTROLLER:65535

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000
Datapath actions: userspace(pid=0,controller(reason=6,dont_send=1,continuation=0,recirc_id=1,rule_cookie=0,controller_id=0,max_len=65535))
`],
      ["in_port=2", `Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=2, priority 5
    goto_table:1
 1. No match.
    drop

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=2,dl_type=0x0000
Datapath actions: drop
`],
    ],
  },
  {
    // flows added with -O OpenFlow10
    name: "ttl-controllers",
    flows: ["priority=10,ip,actions=dec_ttl(4,5),output:2", "priority=5,actions=dec_mpls_ttl,output:3"],
    groups: [],
    traces: [
      ["in_port=1,ip,nw_ttl=1", `Flow: ip,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=1,nw_frag=no

bridge("br0")
-------------
 0. ip, priority 10
    dec_ttl(4,5)
     >> IPv4 decrement TTL exception

Final flow: unchanged
Megaflow: recirc_id=0,eth,ip,in_port=1,nw_proto=0,nw_ttl=1,nw_frag=no
Datapath actions: userspace(pid=0,controller(reason=2,dont_send=1,continuation=0,recirc_id=2,rule_cookie=0,controller_id=4,max_len=65535)),userspace(pid=0,controller(reason=2,dont_send=1,continuation=0,recirc_id=2,rule_cookie=0,controller_id=5,max_len=65535))
`],
      ["in_port=1,ip,nw_ttl=8", `Flow: ip,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=8,nw_frag=no

bridge("br0")
-------------
 0. ip, priority 10
    dec_ttl(4,5)
    output:2

Final flow: ip,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=7,nw_frag=no
Megaflow: recirc_id=0,eth,ip,in_port=1,nw_proto=0,nw_ttl=8,nw_frag=no
Datapath actions: 2
`],
      ["in_port=1,arp", `Flow: arp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,arp_spa=0.0.0.0,arp_tpa=0.0.0.0,arp_op=0,arp_sha=00:00:00:00:00:00,arp_tha=00:00:00:00:00:00

bridge("br0")
-------------
 0. priority 5
    dec_mpls_ttl
     >> MPLS decrement TTL exception

Final flow: unchanged
Megaflow: recirc_id=0,eth,arp,in_port=1
Datapath actions: drop
`],
    ],
  },
  {
    name: "resubmit-port",
    flows: ["table=0,in_port=1,actions=mod_dl_dst:00:00:00:00:00:03,resubmit(3,4),resubmit(,9)", "table=4,in_port=3,actions=load:0x2->NXM_NX_REG0[],output:NXM_NX_REG0[0..15],output:IN_PORT"],
    groups: [],
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=1, priority 32768
    set_field:00:00:00:00:00:03->eth_dst
    resubmit(3,4)
     4. in_port=3, priority 32768
            load:0x2->NXM_NX_REG0[]
            output:NXM_NX_REG0[0..15]
             -> output port is 2
            IN_PORT
    resubmit(,9)
 9. No match.
    drop

Final flow: reg0=0x2,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:03,dl_type=0x0000
Megaflow: recirc_id=0,eth,in_port=1,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Datapath actions: set(eth(dst=00:00:00:00:00:03)),2,1
`],
    ],
  },
  {
    // ovs-ofctl mod-port br0 p2 no-forward; mod-port br0 p3 no-flood
    name: "no-forward",
    flows: ["table=0,in_port=1,actions=output:2,output:3,FLOOD"],
    groups: [],
    portConfig: { 2: 32, 3: 16 },
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=1, priority 32768
    output:2
     -> OFPPC_NO_FWD set, skipping output
    output:3
    FLOOD
     -> OFPPC_NO_FWD set, skipping output

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000
Datapath actions: 3,100
`],
    ],
  },
  {
    // buckets and written sets keep only their last output
    name: "bucket-two-outputs",
    flows: ["table=0,in_port=1,actions=group:1", "table=0,in_port=2,actions=write_actions(output:3,output:1)"],
    groups: ["group_id=1,type=all,bucket=output:2,output:3,bucket=output:LOCAL"],
    traces: [
      ["in_port=1", `Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=1, priority 32768
    group:1
    bucket 0
            output:3
    bucket 1
            LOCAL

Final flow: unchanged
Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000
Datapath actions: 3,100
`],
      ["in_port=2", `Flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000

bridge("br0")
-------------
 0. in_port=2, priority 32768
    write_actions(output:3,output:1)
     -> action set is: output:1
--. Executing action set:
    output:1

Final flow: in_port=2,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000
Megaflow: recirc_id=0,eth,in_port=2,dl_type=0x0000
Datapath actions: 1
`],
    ],
  },
];

for (const s of OVS_TRACES) {
  test(`ofproto/trace prints what ovs-vswitchd prints: ${s.name}`, () => {
    const br = bridgeFor(s.flows, s.groups, s.portConfig);
    for (const [args, expected] of s.traces) {
      assert.equal(normalize(run(br, args), false), normalize(expected, true), `trace ${args}`);
    }
  });
}

test('ofproto/trace of a resubmit loop stops at depth 64 and says the translation failed', () => {
  const br = bridgeFor(['table=0,cookie=0x1234,priority=10,actions=resubmit(,1)', 'table=1,actions=resubmit(,0)'], []);
  const pair = ' 0. priority 10, cookie 0x1234\n    resubmit(,1)\n 1. priority 32768\n    resubmit(,0)\n';
  const expected = 'Flow: in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000\n\n'
    + 'bridge("br0")\n-------------\n' + pair.repeat(64) + ' 0. priority 10, cookie 0x1234\n    resubmit(,1)\n'
    + '     >>>> over max translation depth 64 <<<<\n\nFinal flow: unchanged\n'
    + 'Megaflow: recirc_id=0,eth,in_port=1,dl_type=0x0000\nDatapath actions: drop\n'
    + 'Translation failed (Recursion too deep), packet is dropped.\n';
  assert.equal(run(br, 'in_port=1'), expected);
});

test('a trace changes nothing without a packet; with -generate NORMAL learns', () => {
  const br = bridgeFor(['actions=NORMAL'], []);
  const rule = br.tables[0]!.cls.rules[0]!;
  run(br, 'in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02');
  assert.equal(fdbShow(br), ' port  VLAN  MAC                Age\n');
  assert.equal(rule.packets, 0, 'traces credit no rule');
  assert.equal([1, 2, 3].map((p) => br.take(p).length).join(), '0,0,0', 'traces send nothing');
  run(br, 'in_port=1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02 -generate');
  assert.ok(fdbShow(br).endsWith('\n    1     0  00:00:00:00:00:01    0\n'));
  assert.equal([1, 2, 3].map((p) => br.take(p).length).join(), '0,0,0', 'even with a packet');
});

test('a packet in hex is traced from its own headers; ports can be named', () => {
  const br = bridgeFor(['in_port=2,ip,nw_dst=10.0.0.2,actions=output:3'], []);
  const hex = '000000000002' + '000000000001' + '0800' + '4500001c00010000400100000a0000010a000002' + '0800f7ff00000000';
  const out = run(br, `in_port=p2 ${hex}`);
  assert.match(out, /^Flow: icmp,in_port=2,/);
  assert.match(out, /Datapath actions: 3\n$/);
  const alone = trace(br, parsePacketHex(hex)!);
  assert.match(alone, /^Flow: icmp,in_port=0,/);
  assert.match(alone, /\n 0\. No match\.\n {4}drop\n/);
});

test('trace argument errors read as OVS reports them', () => {
  const br = bridgeFor([], []);
  const find = (n: string) => (n === 'br0' ? br : undefined);
  assert.throws(() => traceCommand(find, ['nosuch', 'in_port=1']), (e: unknown) => e instanceof TraceError && e.message === 'nosuch: unknown bridge');
  assert.throws(() => traceCommand(find, ['br0', 'in_port=1', '-x']), /-x: unknown option/);
  assert.throws(() => traceCommand(find, ['br0', 'bogus_field=1']), /^TraceError: Bad openflow flow syntax: /);
});
