// The ovs-vsctl script the interop tests run against each server: every
// command tsw-vsctl ports, the database commands with their options, and the
// error cases. Each step runs as its own `ovs-vsctl --no-wait --db=...`.

import type { OrderMode } from './harness.js';

export interface Step {
  args: string[];
  /** How to put the output in canonical order (see harness canonicalOrder). */
  order?: OrderMode;
}

const s = (line: string, order?: OrderMode): Step => ({ args: splitArgs(line), order });

/** Splits on spaces; single quotes group (no escapes needed in this script). */
function splitArgs(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

export const VSCTL_SCRIPT: readonly Step[] = [
  // Starting point, bridges, fake bridges.
  s('init'),
  s('show', 'tree'),
  s('list-br'),
  s('add-br br0'),
  s('add-br br1'),
  s('add-br br0'), // error: duplicate
  s('--may-exist add-br br0'),
  s('add-br fake10 br0 10'),
  s('--may-exist add-br fake10 br0 10'),
  s('--may-exist add-br fake10 br0 11'), // error: exists with a different VLAN
  s('add-br fake11 br1 11'),
  s('add-br fake12 nosuch 12'), // error: unknown parent
  s('add-br fake13 br0 5000'), // error: VLAN out of range
  s('list-br'),
  s('br-exists br0'),
  s('br-exists nosuch'), // exit 2
  s('br-to-vlan fake10'),
  s('br-to-vlan br0'),
  s('br-to-parent fake10'),
  s('br-to-parent br1'),
  s('br-to-vlan nosuch'), // error: unknown bridge
  s('br-set-external-id br0 k1 v1'),
  s('br-set-external-id fake10 kf vf'),
  s('br-get-external-id br0 k1'),
  s('br-get-external-id br0'),
  s('br-get-external-id fake10'),
  s('br-set-external-id br0 k1'),
  s('br-get-external-id br0'),
  // Ports, bonds, interfaces.
  s('add-port br0 p1'),
  s('add-port br0 p2 tag=5 other_config:foo=bar -- set Interface p2 type=internal'),
  s('add-port br0 p1'), // error: duplicate port
  s('--may-exist add-port br0 p1'),
  s('--may-exist add-port br1 p1'), // error: exists on another bridge
  s('add-port nosuch p9'), // error: unknown bridge
  s('add-port fake10 p10'),
  s('add-port br0 p3 nosuchcol=1'), // error: unknown column
  s('list-ports br0'),
  s('list-ports fake10'),
  s('list-ports nosuch'), // error
  s('add-bond br1 bond0 e1 e2'),
  s('add-bond br1 bond1 e3 e4 lacp=active bond_mode=balance-tcp'),
  s('add-bond br1 bond2 e1 e5'), // error: e1 already exists
  s('list-ports br1'),
  s('list-ifaces br1'),
  s('list-ifaces br0'),
  s('port-to-br p1'),
  s('port-to-br p10'),
  s('port-to-br bond0'),
  s('port-to-br nosuch'), // error
  s('iface-to-br e1'),
  s('iface-to-br p10'),
  s('iface-to-br nosuch'), // error
  s('del-port br0 p2'),
  s('del-port br0 p2'), // error: no port
  s('--if-exists del-port br0 p2'),
  s('del-port bond1'),
  s('del-port br1 p1'), // error: p1 is on br0
  // Controllers, fail mode, managers, SSL.
  s('set-controller br0 tcp:127.0.0.1:6653 ptcp:6654'),
  s('get-controller br0'),
  s('get-controller fake10'),
  s('del-controller br0'),
  s('get-controller br0'),
  s('set-fail-mode br0 secure'),
  s('get-fail-mode br0'),
  s('set-fail-mode br0 bogus'), // error: bad mode (vsctl-side)
  s('set Bridge br0 fail_mode=bogus'), // error: constraint violation (server-side)
  s('set-manager ptcp:6640 tcp:127.0.0.1:6641'),
  s('get-manager'),
  s('del-manager'),
  s('get-manager'),
  s('set-ssl /etc/k.pem /etc/c.pem /etc/ca.pem'),
  s('get-ssl'),
  s('del-ssl'),
  s('get-ssl'),
  // Database commands.
  s('list Bridge br0'),
  s('list Open_vSwitch'),
  s('--columns=name,fail_mode,external_ids list Bridge', 'records'),
  s('--columns=name,tag find Port tag=10', 'records'),
  s('--columns=name find Interface type=internal', 'records'),
  s('find Bridge name=nosuch'),
  s('get Bridge br0 name fail_mode'),
  s('get Bridge br0 external_ids:kf'), // error: no such key
  s('--if-exists get Bridge br0 external_ids:kf'),
  s('get Bridge fake10 name'), // error: a fake bridge is not a Bridge row
  s('set Bridge br0 external_ids:a=b other_config:hwaddr="00:11:22:33:44:55"'),
  s('get Bridge br0 external_ids other_config'),
  s('add Bridge br0 flood_vlans 10 20 30'),
  s('remove Bridge br0 flood_vlans 10'),
  s('get Bridge br0 flood_vlans'),
  s('remove Bridge br0 external_ids a'),
  s('clear Bridge br0 flood_vlans'),
  s('get Bridge br0 flood_vlans external_ids'),
  s('-- --id=@m create Mirror name=m0 select_all=true -- add Bridge br0 mirrors @m'),
  s('list Mirror'),
  s('create QoS type=linux-htb other_config:max-rate=1000000'),
  s('--columns=type,other_config list QoS'),
  s('-- --id=@q create Queue dscp=7 -- set Port p1 qos=@q'), // error: Port.qos refs QoS
  s('-- --id=@q create QoS type=linux-hfsc -- set Port p1 qos=@q'),
  s('--all destroy QoS'), // error: referential integrity (Port p1 -> QoS)
  s('clear Port p1 qos'),
  s('--all destroy QoS'),
  s('list QoS'),
  s('destroy Bridge nosuch'), // error: no row
  s('--if-exists destroy Bridge nosuch'),
  s('wait-until Bridge br0 fail_mode=secure'),
  s('--timeout=5 wait-until Bridge br0 name=br0 datapath_type=""'),
  // Output formats.
  s('--format=table --columns=name,tag list Port', 'rows'),
  s('--format=csv --columns=name,tag,trunks list Port', 'rows'),
  s('--format=json --columns=name,tag list Port', 'json-rows'),
  s('--format=table list Interface p1'),
  s('--format=json list Bridge br1'),
  s('--bare --columns=name find Interface type=internal', 'records'),
  s('--format=csv --data=json --columns=name,external_ids list Bridge', 'rows'),
  // More errors.
  s('set Bridge br0 nosuchcol=1'), // unknown column
  s('set Bridge br0 stp_enable=maybe'), // bad value type
  s('set Interface p1 ofport_request=70000'), // range constraint
  s('add Bridge br0 flood_vlans 5000'), // range constraint
  s('set Bridge br0 name=other'), // immutable column
  s('list NoSuchTable'), // unknown table
  s('set Bridge nosuch fail_mode=secure'), // unknown record
  s('frobnicate'), // unknown command
  s('add-br'), // missing argument
  s('--no-such-option list-br'), // unknown option
  // Chaining and teardown.
  s('add-br br2 -- set Bridge br2 datapath_type=netdev -- br-set-external-id br2 x y -- add-port br2 p20'),
  s('-- --id=@p get Port p20 -- --id=@m create Mirror name=m1 select_src_port=@p output_port=@p -- add Bridge br2 mirrors @m'),
  s('--columns=name,select_src_port,output_port list Mirror m1'),
  s('del-port br2 p20'), // weak references to p20 disappear from the mirror
  s('--columns=name,select_src_port,output_port list Mirror m1'),
  s('show', 'tree'),
  s('emer-reset'),
  s('show', 'tree'),
  s('del-br fake10'),
  s('del-br br1'),
  s('del-br nosuch'), // error
  s('--if-exists del-br nosuch'),
  s('list-br'),
  s('--timeout=5 list-ports br0'),
  s('list-ifaces br2'),
  s('list Mirror'),
];
