// A script of ovs-ofctl online commands (flows with many match fields and
// actions, groups, meters, ports, packet-outs, bundles, errors), runnable
// with any ofctl binary against any switch: the real ovs-ofctl and tsw-ofctl
// against a real ovs-vswitchd, and later against tsw-vswitchd. Outputs are
// normalized (durations, ages, xids, the program name, log timestamps) so two
// runs can be compared line by line.
//
// The bridge needs ports p1, p2, p3 (ofport 1-3). "BR" in a step is the
// target; "DIR" is the directory of the script's input files.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool, type RealOvs, type RunResult } from './real-ovs.js';

/** The built tsw-ofctl. */
export const TSW_OFCTL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsw-ofctl');

export interface Step {
  args: readonly string[];
  /** Compare the output lines as a set (order is the switch's hash order). */
  unordered?: boolean;
  /** Standard input. */
  input?: string;
}

const FLOWS_FILE = `# flows for add-flows
table=0,priority=100,in_port=1,dl_vlan=10,actions=strip_vlan,output:2
table=0,priority=90,ip,nw_src=10.1.0.0/16,nw_dst=10.2.0.1,actions=mod_nw_tos:8,output:3
table=0,priority=80,tcp,tp_dst=22,actions=drop
table=0,priority=70,udp,udp_src=53,actions=controller:128

table=0,priority=60,arp,arp_tpa=10.0.0.1,actions=NORMAL
table=1,priority=50,dl_src=00:11:22:33:44:55,actions=resubmit(,2)
`;

const REPLACE_FILE = `priority=100,in_port=1,dl_vlan=10,actions=strip_vlan,output:2
priority=95,in_port=2,actions=output:1
table=1,priority=50,dl_src=00:11:22:33:44:55,actions=output:3
`;

const GROUPS_FILE = `group_id=20,type=all,bucket=output:1,bucket=output:2
group_id=21,type=indirect,bucket=output:3
`;

const BUNDLE_FILE = `flow add table=0,priority=300,in_port=3,actions=output:1
flow add table=0,priority=301,in_port=2,ip,actions=output:3
flow delete table=0,priority=100,in_port=1,dl_vlan=10
`;

const BUNDLE_OK_FILE = `flow add table=0,priority=300,in_port=3,actions=output:1
flow add table=0,priority=301,in_port=2,ip,actions=output:3
flow delete_strict table=0,priority=100,in_port=1,dl_vlan=10
group add group_id=50,type=all,bucket=output:2
`;

const BUNDLE_FAIL_FILE = `flow add table=0,priority=302,in_port=3,actions=output:2
flow add table=0,priority=303,actions=group:4242
`;

const BAD_FLOWS_FILE = `priority=1,in_port=1,actions=output:2
priority=2,nosuchfield=1,actions=drop
`;

/** Writes the script's input files into `dir`. */
export function writeScriptFiles(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'flows.txt'), FLOWS_FILE);
  writeFileSync(join(dir, 'replace.txt'), REPLACE_FILE);
  writeFileSync(join(dir, 'groups.txt'), GROUPS_FILE);
  writeFileSync(join(dir, 'bundle.txt'), BUNDLE_FILE);
  writeFileSync(join(dir, 'bad-flows.txt'), BAD_FLOWS_FILE);
  writeFileSync(join(dir, 'bundle-ok.txt'), BUNDLE_OK_FILE);
  writeFileSync(join(dir, 'bundle-fail.txt'), BUNDLE_FAIL_FILE);
}

const s = (...args: string[]): Step => ({ args });
const u = (...args: string[]): Step => ({ args, unordered: true });

/** The script. Every step runs with the version options the runner is given. */
export const OFCTL_SCRIPT: readonly Step[] = [
  // A clean start, then what the switch says about itself.
  s('del-flows', 'BR'),
  s('del-groups', 'BR'),
  s('del-meters', 'BR'),
  s('show', 'BR'),
  s('dump-desc', 'BR'),
  s('dump-tables', 'BR'),
  s('dump-table-features', 'BR'),
  s('dump-table-desc', 'BR'),
  s('dump-ports-desc', 'BR'),
  s('dump-ports-desc', 'BR', 'p2'),
  s('dump-ports', 'BR'),
  s('dump-ports', 'BR', 'p1'),
  s('dump-ports', 'BR', '2'),
  s('dump-ports', 'BR', 'LOCAL'),
  s('dump-ports', 'BR', 'nosuchport'),
  s('probe', 'BR'),
  // Flows: many match fields and actions.
  s('add-flow', 'BR', 'priority=10,in_port=1,actions=output:2'),
  s('add-flow', 'BR', 'priority=11,in_port=p2,actions=output:p1'),
  s('add-flow', 'BR', 'priority=12,dl_src=00:01:02:03:04:05,dl_dst=ff:ff:ff:ff:ff:ff,actions=FLOOD'),
  s('add-flow', 'BR', 'priority=13,dl_type=0x0800,nw_src=192.168.1.0/24,nw_dst=192.168.2.7,nw_proto=6,tp_src=1234,tp_dst=80,actions=mod_dl_src:00:00:00:00:00:01,output:3'),
  s('add-flow', 'BR', 'priority=14,udp,nw_tos=32,tp_dst=53,actions=mod_nw_dst:10.0.0.53,mod_tp_dst:5353,output:2'),
  s('add-flow', 'BR', 'priority=15,icmp,icmp_type=8,icmp_code=0,actions=CONTROLLER:64'),
  s('add-flow', 'BR', 'priority=16,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,actions=LOCAL'),
  s('add-flow', 'BR', 'priority=17,dl_vlan=100,dl_vlan_pcp=3,actions=mod_vlan_vid:200,mod_vlan_pcp:5,output:1'),
  s('add-flow', 'BR', 'priority=18,ipv6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::/32,actions=dec_ttl,output:2'),
  s('add-flow', 'BR', 'priority=19,tcp6,tp_src=443,actions=drop'),
  s('add-flow', 'BR', 'table=1,priority=20,reg0=0x5,actions=load:0x1->NXM_NX_REG1[],resubmit(,2)'),
  s('add-flow', 'BR', 'table=2,priority=21,metadata=0x10/0xff,actions=set_field:00:aa:bb:cc:dd:ee->eth_dst,output:3'),
  s('add-flow', 'BR', 'priority=22,cookie=0x1234,idle_timeout=300,hard_timeout=600,ip,nw_ttl=64,actions=output:1'),
  s('add-flow', 'BR', 'priority=23,tcp,tcp_flags=+syn-ack,actions=note:01.02.03,output:2'),
  s('add-flow', 'BR', 'priority=24,in_port=3,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],IN_PORT'),
  s('add-flow', 'BR', 'priority=25,send_flow_rem,in_port=2,dl_type=0x88cc,actions=drop'),
  s('add-flow', 'BR', 'priority=26,ip,actions=ct(commit,zone=5),output:1'),
  s('add-flow', 'BR', 'priority=27,mpls,mpls_label=100,actions=pop_mpls:0x0800,output:2'),
  // NSH, ND extension and ERSPAN/GTP-U tunnel fields (experimenter and ERICOXM codes), masked where they take masks.
  s('add-flow', 'BR', 'priority=28,eth_type=0x894f,nsh_mdtype=1,nsh_flags=1/3,nsh_ttl=20,nsh_np=3,nsh_spi=0x123,nsh_si=5,nsh_c1=0x10/0xf0,nsh_c3=0x3,actions=set_field:4->nsh_si,set_field:0x1/0xf->nsh_c2,output:2'),
  s('add-flow', 'BR', 'priority=29,eth_type=0x894f,nsh_mdtype=2,nsh_c1=0x5,actions=set_field:9->nsh_ttl,output:1'),
  s('add-flow', 'BR', 'priority=30,icmp6,icmp_type=136,nd_target=fe80::1,nd_reserved=0x60000000,nd_options_type=2,actions=set_field:5->nd_reserved,output:1'),
  s('add-flow', 'BR', 'priority=31,tun_erspan_ver=1,tun_erspan_idx=0x12/0xff,tun_gtpu_flags=0x30/0xf0,tun_gtpu_msgtype=255,actions=output:3'),
  s('add-flow', 'BR', 'priority=32,tun_erspan_ver=2,tun_erspan_dir=1,tun_erspan_hwid=0x3/0x7,actions=set_field:0x7->tun_erspan_hwid,set_field:0x5/0xff->tun_erspan_idx,output:3'),
  s('add-flow', 'BR', 'priority=33,nsh_spi=0x5,actions=drop'),
  s('add-flow', 'BR', 'priority=33,eth_type=0x894f,nsh_mdtype=3,actions=drop'),
  s('add-flow', 'BR', 'priority=33,eth_type=0x894f,nsh_ttl=64,actions=drop'),
  // Read-only fields cannot be set (the client refuses before sending).
  s('add-flow', 'BR', 'priority=34,eth_type=0x894f,actions=set_field:1->nsh_mdtype'),
  s('add-flow', 'BR', 'priority=34,actions=set_field:0x800->dl_type'),
  s('add-flow', 'BR', 'priority=34,ip,actions=set_field:1->nw_frag'),
  s('add-flows', 'BR', 'DIR/flows.txt'),
  s('dump-flows', 'BR'),
  s('dump-flows', 'BR', 'table=0'),
  s('dump-flows', 'BR', 'in_port=1'),
  s('dump-flows', 'BR', 'ip'),
  s('dump-flows', 'BR', 'cookie=0x1234/-1'),
  s('dump-flows', 'BR', 'eth_type=0x894f,nsh_spi=0x123'),
  s('dump-flows', 'BR', 'tun_erspan_ver=1'),
  s('dump-flows', 'BR', 'out_port=2'),
  s('--no-stats', 'dump-flows', 'BR'),
  s('--sort', 'dump-flows', 'BR'),
  s('--rsort=priority', 'dump-flows', 'BR'),
  s('--sort=in_port', '--no-stats', 'dump-flows', 'BR'),
  s('dump-aggregate', 'BR'),
  s('dump-aggregate', 'BR', 'table=0,ip'),
  s('mod-flows', 'BR', 'in_port=1,actions=output:3'),
  s('--strict', 'mod-flows', 'BR', 'priority=11,in_port=2,actions=output:3'),
  s('--no-stats', 'dump-flows', 'BR', 'in_port=1'),
  s('del-flows', 'BR', 'tcp6'),
  s('--strict', 'del-flows', 'BR', 'priority=12,dl_src=00:01:02:03:04:05,dl_dst=ff:ff:ff:ff:ff:ff'),
  s('del-flows', 'BR', 'table=1'),
  s('--no-stats', 'dump-flows', 'BR'),
  s('replace-flows', 'BR', 'DIR/replace.txt'),
  s('--no-stats', 'dump-flows', 'BR'),
  u('diff-flows', 'BR', 'DIR/replace.txt'),
  u('diff-flows', 'BR', 'DIR/flows.txt'),
  s('--readd', 'replace-flows', 'BR', 'DIR/replace.txt'),
  // Flow errors: syntax, bad ports, bad files, table range.
  s('add-flow', 'BR', 'priority=1,nosuchfield=3,actions=drop'),
  s('add-flow', 'BR', 'priority=1,in_port=1'),
  s('add-flow', 'BR', 'actions=group:5'),
  s('add-flow', 'BR', 'table=255,actions=drop'),
  s('add-flow', 'BR', 'in_port=1,actions=output:nosuchport'),
  s('add-flows', 'BR', 'DIR/bad-flows.txt'),
  s('add-flows', 'BR', 'DIR/missing.txt'),
  s('dump-flows', 'BR', 'nosuchfield=1'),
  s('del-flows', 'BR', 'priority=5'),
  // Ports.
  s('mod-port', 'BR', 'p1', 'down'),
  s('dump-ports-desc', 'BR', 'p1'),
  s('mod-port', 'BR', 'p1', 'up'),
  s('mod-port', 'BR', '2', 'noflood'),
  s('mod-port', 'BR', 'p2', 'flood'),
  s('mod-port', 'BR', 'p3', 'no-receive'),
  s('mod-port', 'BR', 'p3', 'receive'),
  s('mod-port', 'BR', 'p1', 'nopacket-in'),
  s('mod-port', 'BR', 'p1', 'packet-in'),
  s('mod-port', 'BR', 'p1', 'noforward'),
  s('mod-port', 'BR', 'p1', 'forward'),
  s('mod-port', 'BR', 'p1', 'fwd'),
  s('mod-port', 'BR', 'nosuch', 'up'),
  s('show', 'BR'),
  // Groups.
  s('add-group', 'BR', 'group_id=1,type=all,bucket=output:1,bucket=output:2'),
  s('add-group', 'BR', 'group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2'),
  s('add-group', 'BR', 'group_id=3,type=indirect,bucket=actions=mod_dl_src:00:00:00:00:00:09,output:3'),
  s('add-group', 'BR', 'group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2'),
  s('add-groups', 'BR', 'DIR/groups.txt'),
  s('add-group', 'BR', 'group_id=1,type=all,bucket=output:3'),
  s('add-group', 'BR', 'group_id=9,type=nosuch,bucket=output:3'),
  u('dump-groups', 'BR'),
  u('dump-groups', 'BR', '2'),
  s('mod-group', 'BR', 'group_id=1,type=all,bucket=output:3'),
  s('mod-group', 'BR', 'group_id=99,type=all,bucket=output:3'),
  u('dump-group-stats', 'BR'),
  s('dump-group-stats', 'BR', 'group_id=1'),
  s('dump-group-features', 'BR'),
  s('add-flow', 'BR', 'priority=40,in_port=3,actions=group:1'),
  s('del-groups', 'BR', 'group_id=3'),
  u('dump-groups', 'BR'),
  // Meters.
  s('add-meter', 'BR', 'meter=1,kbps,band=type=drop,rate=1000'),
  s('add-meter', 'BR', 'meter=2,pktps,burst,stats,band=type=drop,rate=100,burst_size=10'),
  s('add-meter', 'BR', 'meter=3,kbps,band=type=dscp_remark,rate=500,prec_level=1'),
  s('add-meter', 'BR', 'meter=1,kbps,band=type=drop,rate=5'),
  s('add-meter', 'BR', 'meter=4,kbps'),
  s('dump-meters', 'BR'),
  s('dump-meter', 'BR', 'meter=2'),
  s('mod-meter', 'BR', 'meter=1,kbps,band=type=drop,rate=2000'),
  s('mod-meter', 'BR', 'meter=77,kbps,band=type=drop,rate=2000'),
  s('meter-stats', 'BR'),
  s('meter-stats', 'BR', 'meter=1'),
  s('meter-features', 'BR'),
  s('del-meter', 'BR', 'meter=2'),
  s('dump-meters', 'BR'),
  s('del-meters', 'BR'),
  s('dump-meters', 'BR'),
  // Packet-outs.
  s('packet-out', 'BR', 'in_port=1 packet=ffffffffffff0000000000010806000108000604000100000000000100000000000000000000000000 actions=output:2'),
  s('packet-out', 'BR', 'LOCAL', 'output:1', 'ffffffffffff00000000000108060001080006040001000000000001000000000000000000000000'),
  s('packet-out', 'BR', 'in_port=1 packet=ffff actions=output:99'),
  s('packet-out', 'BR', 'in_port=1 actions=output:2'),
  // Bundles.
  s('bundle', 'BR', 'DIR/bundle.txt'),
  s('bundle', 'BR', 'DIR/bundle-ok.txt'),
  s('bundle', 'BR', 'DIR/bundle-fail.txt'),
  u('dump-groups', 'BR', '50'),
  s('--bundle', 'add-flow', 'BR', 'priority=500,in_port=1,actions=output:3'),
  s('--no-stats', 'dump-flows', 'BR'),
  // Command-line errors.
  s('show'),
  s('show', 'BR', 'extra'),
  s('nosuchcommand', 'BR'),
  s('show', 'nosuchbridge'),
  s('--timeout=0', 'show', 'BR'),
  s('--nosuchoption', 'show', 'BR'),
  s('-F', 'nosuchformat', 'show', 'BR'),
  s('del-flows', 'BR'),
  s('--no-stats', 'dump-flows', 'BR'),
];

export interface StepResult { step: string; code: number; stdout: string; stderr: string }

/** Normalizes what changes between runs: durations, ages, xids, the program's name, log timestamps, temp paths. */
export function normalize(text: string, dir: string): string {
  return text
    .split(dir).join('DIR')
    .replace(/duration([=:])\d+(\.\d+)?s/g, 'duration$1Xs')
    .replace(/\b(idle_age|hard_age)=\d+/g, '$1=X')
    .replace(/xid=0x[0-9a-f]+/g, 'xid=X')
    .replace(/^(ovs|tsw)-ofctl: /gm, 'OFCTL: ')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|/g, 'TIME|N|')
    .replace(/\b(pkts|bytes)=\d+/g, '$1=N')
    .replace(/\b([rt]x_\w+)=\d+/g, '$1=N')
    .replace(/tsw-realovs-[A-Za-z0-9]+/g, 'RUNDIR');
}

/**
 * Runs every step with `ofctl` (a binary path) and `versionArgs` (e.g. ['-O',
 * 'OpenFlow13']) against `target`, in `env`; `dir` holds the input files.
 */
export async function runOfctlScript(ofctl: string, target: string, env: NodeJS.ProcessEnv, versionArgs: readonly string[], dir: string,
  steps: readonly Step[] = OFCTL_SCRIPT): Promise<StepResult[]> {
  writeScriptFiles(dir);
  const out: StepResult[] = [];
  for (const step of steps) {
    const args = step.args.map((a) => a.replace(/^BR$/, target).replace(/^DIR\//, `${dir}/`));
    const r: RunResult = await runTool(ofctl, [...versionArgs, ...args], env, { timeoutMs: 20_000, input: step.input });
    const fix = (t: string) => {
      const n = normalize(t, dir);
      return step.unordered ? n.split('\n').sort().join('\n') : n;
    };
    out.push({ step: step.args.join(' '), code: r.code, stdout: fix(r.stdout), stderr: fix(r.stderr) });
  }
  return out;
}

/** The steps whose exit status or output differ between two runs, each as both runs' text. */
export function differingSteps(a: readonly StepResult[], b: readonly StepResult[], names: [string, string]): string[] {
  const out: string[] = [];
  a.forEach((x, i) => {
    const y = b[i]!;
    if (x.code !== y.code || x.stdout !== y.stdout || x.stderr !== y.stderr) {
      out.push(`### ${x.step}\n--- ${names[0]}: exit ${x.code}\n${x.stdout}${x.stderr}--- ${names[1]}: exit ${y.code}\n${y.stdout}${y.stderr}`);
    }
  });
  return out;
}

/**
 * Runs `steps` with the real ovs-ofctl against `real` (the reference, which
 * `checkReference` looks at first, so the script is known to show what it is
 * about), then with ovs-ofctl against `ours` and with tsw-ofctl against both,
 * on bridge br0; each run must print and exit as the reference does.
 */
export async function assertSameAsOvs(o: {
  real: RealOvs; ours: RealOvs; versionArgs: readonly string[]; dir: string; steps: readonly Step[];
  checkReference: (reference: readonly StepResult[]) => void;
}): Promise<void> {
  const reference = await runOfctlScript('ovs-ofctl', 'br0', o.real.env, o.versionArgs, o.dir, o.steps);
  o.checkReference(reference);
  const runs: [string, StepResult[]][] = [
    ['ovs-ofctl, tsw-vswitchd', await runOfctlScript('ovs-ofctl', 'br0', o.ours.env, o.versionArgs, o.dir, o.steps)],
    ['tsw-ofctl, tsw-vswitchd', await runOfctlScript(TSW_OFCTL, 'br0', o.ours.env, o.versionArgs, o.dir, o.steps)],
    ['tsw-ofctl, ovs-vswitchd', await runOfctlScript(TSW_OFCTL, 'br0', o.real.env, o.versionArgs, o.dir, o.steps)],
  ];
  for (const [name, results] of runs) {
    const diffs = differingSteps(reference, results, ['ovs-ofctl, ovs-vswitchd', name]);
    assert.equal(diffs.length, 0, `${name}: ${diffs.length} steps differ:\n${diffs.slice(0, 10).join('\n')}`);
  }
}
