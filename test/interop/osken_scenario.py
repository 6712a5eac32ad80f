# An os-ken app for the controller scenario tests: it takes the switch
# through an OpenFlow 1.3 session and reports every event as one JSON line
# on stdout ("EVENT {...}"), which the test reads.
#
# Run: /usr/bin/osken-manager --ofp-tcp-listen-port PORT [--ctl-privkey ...]
#        test/interop/osken_scenario.py
# Environment: OSKEN_ROLE=master|slave (default master).

import json
import os
import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


def event(kind, **fields):
    fields['event'] = kind
    sys.stdout.write('EVENT ' + json.dumps(fields, sort_keys=True) + '\n')
    sys.stdout.flush()


class ScenarioApp(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp = dp.ofproto
        p = dp.ofproto_parser
        event('features', dpid=dp.id, n_tables=ev.msg.n_tables, version=dp.ofproto.OFP_VERSION)
        role = ofp.OFPCR_ROLE_SLAVE if os.environ.get('OSKEN_ROLE') == 'slave' else ofp.OFPCR_ROLE_MASTER
        dp.send_msg(p.OFPRoleRequest(dp, role, 0))
        dp.send_msg(p.OFPPortDescStatsRequest(dp, 0))
        dp.send_msg(p.OFPDescStatsRequest(dp, 0))
        if role == ofp.OFPCR_ROLE_SLAVE:
            # A slave may not change the tables: expect an error back.
            dp.send_msg(p.OFPFlowMod(dp, priority=5, match=p.OFPMatch(),
                                     instructions=[]))
            return
        dp.send_msg(p.OFPSetConfig(dp, ofp.OFPC_FRAG_NORMAL, ofp.OFPCML_NO_BUFFER))
        miss = [p.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        dp.send_msg(p.OFPFlowMod(dp, priority=0, match=p.OFPMatch(),
                                 instructions=[p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, miss)]))
        dp.send_msg(p.OFPGroupMod(dp, ofp.OFPGC_ADD, ofp.OFPGT_ALL, 1,
                                  [p.OFPBucket(actions=[p.OFPActionOutput(1)]),
                                   p.OFPBucket(actions=[p.OFPActionOutput(2)])]))
        dp.send_msg(p.OFPFlowMod(dp, priority=20, match=p.OFPMatch(in_port=2),
                                 instructions=[p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                                                       [p.OFPActionGroup(1)])]))
        # Expires after 1 s and comes back as FLOW_REMOVED.
        dp.send_msg(p.OFPFlowMod(dp, cookie=0x77, priority=30, hard_timeout=1,
                                 flags=ofp.OFPFF_SEND_FLOW_REM,
                                 match=p.OFPMatch(in_port=1, eth_type=0x0800, ipv4_dst='10.9.9.9'),
                                 instructions=[p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                                                       [p.OFPActionOutput(2)])]))
        dp.send_msg(p.OFPBarrierRequest(dp))

    @set_ev_cls(ofp_event.EventOFPRoleReply, MAIN_DISPATCHER)
    def role_reply(self, ev):
        event('role', role=ev.msg.role, generation_id=ev.msg.generation_id)

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def port_desc(self, ev):
        event('port_desc', ports=sorted(p.name.decode() for p in ev.msg.body))

    @set_ev_cls(ofp_event.EventOFPDescStatsReply, MAIN_DISPATCHER)
    def desc(self, ev):
        event('desc', mfr=ev.msg.body.mfr_desc.decode())

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def barrier(self, ev):
        event('barrier')

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        event('packet_in', reason=msg.reason, in_port=msg.match['in_port'], table_id=msg.table_id,
              length=len(msg.data), total_len=msg.total_len, buffer_id=msg.buffer_id)

    @set_ev_cls(ofp_event.EventOFPFlowRemoved, MAIN_DISPATCHER)
    def flow_removed(self, ev):
        event('flow_removed', cookie=ev.msg.cookie, reason=ev.msg.reason, priority=ev.msg.priority)

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error(self, ev):
        event('error', type=ev.msg.type, code=ev.msg.code)
