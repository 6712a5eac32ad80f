// Flow table semantics of one switch (no sockets): flow_mods written in
// ovs-ofctl syntax, encoded for a protocol, decoded as the switch decodes
// them, and applied; then what the tables hold is checked.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OfError, decodeMessage, encodeMessage, flowModMessage, parseFlow, formatWireMatch, formatActions,
  type FlowCommand, type Protocol, type MessageOf,
} from '../../src/openflow/index.js';
import { Ofproto, decodeFlowMod, REMOVED_REASON, type Rule } from '../../src/ofproto/index.js';

function newSwitch(): Ofproto {
  return new Ofproto({ name: 'br0', datapathId: 1n, rundir: mkdtempSync(join(tmpdir(), 'tsw-ofproto-')) });
}

function mod(of: Ofproto, text: string, command: FlowCommand = 'add', p: Protocol = 'OpenFlow13'): void {
  const wire = decodeMessage(encodeMessage(flowModMessage(parseFlow(text, command), p))) as MessageOf<'FLOW_MOD'>;
  of.flowMod(decodeFlowMod(wire, false));
}

function flows(of: Ofproto): string[] {
  const out: string[] = [];
  for (const t of of.tables) {
    for (const r of t.sortedRules()) {
      out.push(`${r.tableId ? `table=${r.tableId}, ` : ''}${formatWireMatch(r.match, r.priority)} actions=${formatActions(r.actions, 'OpenFlow13')}`);
    }
  }
  return out;
}

describe('ofproto flow table', () => {
  it('starts standalone with the one NORMAL flow, as a fresh OVS bridge', () => {
    const of = newSwitch();
    of.flushFlows();
    assert.deepEqual(flows(of), ['priority=0 actions=NORMAL']);
  });

  it('adds, replaces same match+priority, and keeps distinct priorities apart', () => {
    const of = newSwitch();
    mod(of, 'priority=10,in_port=1,actions=output:2');
    mod(of, 'priority=10,in_port=1,actions=output:3');
    mod(of, 'priority=20,in_port=1,actions=drop');
    assert.deepEqual(flows(of), ['priority=20,in_port=1 actions=drop', 'priority=10,in_port=1 actions=output:3']);
  });

  it('loose modify changes every flow the match covers; strict only the exact one', () => {
    const of = newSwitch();
    mod(of, 'priority=10,ip,nw_src=10.0.0.1,actions=output:1');
    mod(of, 'priority=20,ip,nw_src=10.0.0.2,actions=output:1');
    mod(of, 'priority=30,arp,actions=output:1');
    mod(of, 'ip,actions=output:9', 'modify');
    assert.deepEqual(flows(of), [
      'priority=30,arp actions=output:1', 'priority=20,ip,nw_src=10.0.0.2 actions=output:9', 'priority=10,ip,nw_src=10.0.0.1 actions=output:9',
    ]);
    mod(of, 'priority=10,ip,nw_src=10.0.0.1,actions=output:5', 'modify_strict');
    assert.match(flows(of)[2]!, /output:5$/);
  });

  it('OF1.0 modify that matches nothing adds the flow; OF1.3 modify does not', () => {
    const a = newSwitch();
    mod(a, 'in_port=3,actions=output:1', 'modify', 'OpenFlow10');
    assert.equal(a.totalRules(), 1);
    const b = newSwitch();
    mod(b, 'in_port=3,actions=output:1', 'modify', 'OpenFlow13');
    assert.equal(b.totalRules(), 0);
  });

  it('delete honours out_port, cookie masks and strictness', () => {
    const of = newSwitch();
    mod(of, 'cookie=0x1,priority=1,in_port=1,actions=output:2');
    mod(of, 'cookie=0x2,priority=2,in_port=1,actions=output:3');
    mod(of, 'cookie=0x3,priority=3,in_port=2,actions=output:2');
    mod(of, 'out_port=3', 'delete');
    assert.equal(of.totalRules(), 2);
    mod(of, 'cookie=0x3/0xff', 'delete');
    assert.deepEqual(flows(of), ['priority=1,in_port=1 actions=output:2']);
    mod(of, 'priority=2,in_port=1', 'delete_strict');
    assert.equal(of.totalRules(), 1);
    mod(of, 'priority=1,in_port=1', 'delete_strict');
    assert.equal(of.totalRules(), 0);
  });

  it('refuses an overlapping flow with check_overlap (OFPFMFC_OVERLAP)', () => {
    const of = newSwitch();
    mod(of, 'priority=5,ip,actions=drop');
    assert.throws(() => mod(of, 'priority=5,ip,nw_dst=10.0.0.1,check_overlap,actions=drop'), (e: unknown) => e instanceof OfError && e.message.includes('overlap'));
    mod(of, 'priority=6,ip,nw_dst=10.0.0.1,check_overlap,actions=drop');
    assert.equal(of.totalRules(), 2);
  });

  it('refuses goto_table backwards and groups that do not exist', () => {
    const of = newSwitch();
    assert.throws(() => mod(of, 'table=3,actions=goto_table:2'), OfError);
    assert.throws(() => mod(of, 'actions=group:7'), OfError);
    mod(of, 'table=3,actions=goto_table:4');
    assert.equal(of.totalRules(), 1);
  });

  it('a full table refuses (TABLE_FULL) or evicts the least important flow', () => {
    const of = newSwitch();
    of.setTableConfig(new Map([[0, { flowLimit: 2 }], [1, { flowLimit: 2, evict: true }]]));
    mod(of, 'in_port=1,actions=drop');
    mod(of, 'in_port=2,actions=drop');
    assert.throws(() => mod(of, 'in_port=3,actions=drop'), OfError);
    mod(of, 'table=1,importance=5,hard_timeout=100,in_port=1,actions=drop', 'add', 'OpenFlow14');
    mod(of, 'table=1,importance=1,hard_timeout=100,in_port=2,actions=drop', 'add', 'OpenFlow14');
    mod(of, 'table=1,importance=3,hard_timeout=100,in_port=3,actions=drop', 'add', 'OpenFlow14');
    assert.deepEqual(flows(of).filter((f) => f.startsWith('table=1')).map((f) => /in_port=(\d)/.exec(f)![1]).sort(), ['1', '3']);
  });

  it('refuses set_field, load and move into read-only fields with OFPBAC_BAD_SET_ARGUMENT; the text parser refuses set_field first', () => {
    assert.throws(() => parseFlow('eth_type=0x894f,actions=set_field:1->nsh_mdtype'), /nsh_mdtype is read-only/);
    assert.throws(() => parseFlow('actions=set_field:0x800->dl_type'), /dl_type is read-only/);
    const of = newSwitch();
    // A client that does not check (the wire allows it) gets the switch's error.
    const nsh = parseFlow('eth_type=0x894f,actions=set_field:1->nsh_si');
    const bad = { ...nsh, actions: nsh.actions.map((a) => (a.type === 'set_field' ? { ...a, field: { ...a.field, name: 'nsh_mdtype' } } : a)) };
    const send = (flow: typeof nsh, p: Protocol): void => {
      of.flowMod(decodeFlowMod(decodeMessage(encodeMessage(flowModMessage(flow, p))) as MessageOf<'FLOW_MOD'>, false));
    };
    for (const p of ['OpenFlow13', 'NXM'] as const) {
      assert.throws(() => send(bad, p), (e: unknown) => e instanceof OfError && e.error === 'OFPBAC_BAD_SET_ARGUMENT', p);
    }
    assert.throws(() => mod(of, 'actions=move:NXM_OF_ETH_SRC[0..15]->NXM_OF_ETH_TYPE[]'),
      (e: unknown) => e instanceof OfError && e.error === 'OFPBAC_BAD_SET_ARGUMENT');
    assert.throws(() => mod(of, 'actions=load:6->NXM_OF_IP_PROTO[]'), (e: unknown) => e instanceof OfError && e.error === 'OFPBAC_BAD_SET_ARGUMENT');
    mod(of, 'eth_type=0x894f,actions=set_field:1->nsh_si');
    assert.equal(flows(of).length, 1);
  });

  it('expires idle and hard timeouts with their reasons', () => {
    const of = newSwitch();
    const removed: Array<{ rule: Rule; reason?: number }> = [];
    of.onRuleEvent((e) => { if (e.event === 'removed') removed.push(e); });
    mod(of, 'idle_timeout=1,in_port=1,actions=drop');
    mod(of, 'hard_timeout=2,in_port=2,actions=drop');
    const t0 = performance.now();
    assert.equal(of.expireRules(t0 + 500), 0);
    assert.equal(of.expireRules(t0 + 1500), 1);
    assert.equal(removed[0]!.reason, REMOVED_REASON.IDLE_TIMEOUT);
    assert.equal(of.expireRules(t0 + 2500), 1);
    assert.equal(removed[1]!.reason, REMOVED_REASON.HARD_TIMEOUT);
  });

  it('keeps one spelling for VLAN and DSCP matches whatever version added them', () => {
    const of = newSwitch();
    mod(of, 'priority=7,dl_vlan=100,ip,nw_tos=8,actions=drop', 'add', 'OpenFlow10');
    mod(of, 'priority=7,dl_vlan=100,ip,nw_tos=8,actions=output:1', 'add', 'OpenFlow13');
    assert.equal(of.totalRules(), 1);
  });
});

