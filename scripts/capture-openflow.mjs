// Regenerates test/fixtures/openflow/*: real OpenFlow sessions captured on
// the loopback interface of a private network namespace, and what the real
// `ovs-ofctl ofp-parse-pcap` prints for each capture.
//
//   sudo node --import tsx scripts/capture-openflow.mjs [NAME...]
//
// NAME is one of ofctl-of10 ofctl-of13 ofctl-of14 ofctl-of15
// ofctl-names-of13 ofctl-names-of14 ofctl-names-of15 osken-of13 (default:
// all). Needs root (for the namespace and tcpdump), Debian's
// openvswitch-switch, tcpdump and, for osken-of13, python3-os-ken.
//
// The script re-runs itself under `unshare --net`, so the captures see only
// our own traffic and the well-known ports (6653 for ovs-ofctl sessions,
// 6633 for os-ken) cannot collide with anything else on the machine. Every
// daemon it starts is stopped by its pid. See test/fixtures/openflow/README.md.
// TSW_CAPTURE_DEBUG=1 prints tcpdump's statistics for each capture.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRealOvs, runTool } from '../test/interop/real-ovs.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');
const fixtures = join(repoRoot, 'test', 'fixtures', 'openflow');
const OFCTL_PORT = 6653;
const OSKEN_PORT = 6633;

const VERSIONS = {
  'ofctl-of10': 'OpenFlow10', 'ofctl-of13': 'OpenFlow13', 'ofctl-of14': 'OpenFlow14', 'ofctl-of15': 'OpenFlow15',
  'ofctl-names-of13': 'OpenFlow13', 'ofctl-names-of14': 'OpenFlow14', 'ofctl-names-of15': 'OpenFlow15',
};
/** Captures over 1 MB are stored gzipped (NAME.pcap.gz). */
const GZIPPED = new Set(['ofctl-names-of13', 'ofctl-names-of14', 'ofctl-names-of15']);
const ALL = [...Object.keys(VERSIONS), 'osken-of13'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------- namespace

if (!process.env.TSW_CAPTURE_IN_NETNS) {
  // Ethernet-sized segments on lo: with lo's default 64 KiB MTU and GSO,
  // `ovs-ofctl ofp-parse-pcap` (3.1) crashes on the big multipart replies.
  // One CPU: with two, tcpdump records some segments out of order, and
  // ofp-parse-pcap, which does not reorder, then loses the rest of the stream.
  const setup = 'ip link set lo mtu 1500 gso_max_size 1500 gso_max_segs 1 up && exec "$@"';
  const r = spawnSync('taskset', ['-c', '0', 'unshare', '--net', '--', 'sh', '-c', setup, 'sh',
    process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, TSW_CAPTURE_IN_NETNS: '1' } });
  if (r.error) console.error(`capture-openflow: cannot run unshare: ${r.error.message}`);
  else if (r.status !== 0) console.error('capture-openflow: failed (it needs root for `unshare --net` and tcpdump)');
  process.exit(r.status ?? 1);
}

// ----------------------------------------------------------------- frames

function ipv4Checksum(hdr) {
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += hdr.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A UDP/IPv4 frame 50:54:00:00:00:01 -> 50:54:00:00:00:02, 10.0.0.1:1234 -> 10.0.0.2:5678. */
function udpFrame(payload = 'tsw capture') {
  const data = Buffer.from(payload);
  const eth = Buffer.from('505400000002505400000001' + '0800', 'hex');
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0); ip.writeUInt16BE(20 + 8 + data.length, 2); ip.writeUInt16BE(1, 4);
  ip.writeUInt8(64, 8); ip.writeUInt8(17, 9);
  Buffer.from('0a0000010a000002', 'hex').copy(ip, 12);
  ip.writeUInt16BE(ipv4Checksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(1234, 0); udp.writeUInt16BE(5678, 2); udp.writeUInt16BE(8 + data.length, 4);
  const frame = Buffer.concat([eth, ip, udp, data]);
  return frame.length >= 60 ? frame : Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}
const UDP_HEX = udpFrame().toString('hex');
const ARP_HEX = 'ffffffffffff505400000001080600010800060400015054000000010a0000010000000000000a000002' + '00'.repeat(18);

// ---------------------------------------------------------------- capture

/** Starts tcpdump on lo for one TCP port; resolves once it is listening. */
async function startTcpdump(file, port) {
  // -Z root: tcpdump would otherwise drop to its own user and could not write in our 0700 temp dir.
  const child = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-B', '65536', '-s', '0', '-Z', 'root', '-w', file, `tcp port ${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((res) => child.on('exit', (code) => res(code)));
  await new Promise((res, rej) => {
    child.stderr.on('data', (b) => { err += b.toString(); if (err.includes('listening on')) res(); });
    child.on('error', rej);
    child.on('exit', () => rej(new Error(`tcpdump exited: ${err}`)));
  });
  return {
    stop: async () => {
      await sleep(300); // let the last segments reach the capture
      child.kill('SIGTERM');
      await exited;
      // On lo the filter sees every packet twice (out and in) and tcpdump keeps one.
      const captured = Number(/(\d+) packets? captured/.exec(err)?.[1] ?? NaN);
      const received = Number(/(\d+) packets? received by filter/.exec(err)?.[1] ?? NaN);
      if (!(captured * 2 >= received)) throw new Error(`tcpdump lost packets: ${err.trim()}`);
      return err;
    },
  };
}

/** A transcript of every command a session ran, kept next to the capture. */
class Transcript {
  lines = [];
  add(cmd, r) {
    this.lines.push(`$ ${cmd}`);
    if (r.stdout) this.lines.push(r.stdout.replace(/\n$/, ''));
    if (r.stderr) this.lines.push(r.stderr.replace(/\n$/, ''));
    this.lines.push(`[exit ${r.code}]`, '');
  }
  text() { return this.lines.join('\n'); }
}

function shellQuote(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

// ------------------------------------------------------- ovs-ofctl sessions

const FLOWS_COMMON = [
  'priority=100,in_port=1,dl_src=00:11:22:33:44:55,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:2',
  'priority=200,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,nw_tos=16,actions=mod_nw_tos:32,mod_dl_src:00:00:00:00:00:01,output:2',
  'priority=300,tcp,tp_src=80,tp_dst=0x1000/0xf000,actions=mod_tp_dst:8080,NORMAL',
  'cookie=0x10,udp,nw_dst=10.1.0.0/16,udp_dst=53,actions=controller:128',
  'arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_op=1,arp_sha=00:11:22:33:44:55,actions=FLOOD',
  'ipv6,ipv6_src=2001:db8::/32,ipv6_dst=fe80::1,ipv6_label=0x12345,actions=drop',
  'icmp6,icmp_type=135,nd_target=2001:db8::1,actions=LOCAL',
  'dl_vlan=100,dl_vlan_pcp=3,actions=strip_vlan,output:1',
  'priority=50,vlan_tci=0x1000/0x1000,actions=mod_vlan_vid:200,mod_vlan_pcp:5,output:in_port',
  'reg0=0x1/0xff,reg1=5,actions=load:0x2->NXM_NX_REG2[0..7],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],resubmit(,1)',
  'table=1,tun_id=0x10,ip,actions=set_field:0xa->reg3,dec_ttl,output:1',
  'table=1,priority=5,ip,actions=learn(table=2,idle_timeout=60,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),note:de.ad.be.ef,resubmit(,2)',
  'table=1,priority=6,ip,nw_src=10.0.0.1,actions=conjunction(7,1/2)',
  'table=1,priority=6,tcp,tp_dst=22,actions=conjunction(7,2/2)',
  'table=1,priority=6,conj_id=7,ip,actions=output:2',
  'table=2,cookie=0x20,idle_timeout=30,hard_timeout=60,send_flow_rem,ip,actions=ct(commit,zone=5),output:1',
  'table=2,tcp,tcp_flags=+syn-ack,actions=drop',
  'table=2,mpls,mpls_label=10,actions=pop_mpls:0x0800,output:1',
  'table=2,priority=2,ip,actions=push_mpls:0x8847,set_field:10->mpls_label,output:2',
  'table=2,priority=3,ip,nw_dst=10.9.0.0/16,actions=set_field:10.0.0.9->ip_dst,mod_nw_ttl:9,output:NXM_NX_REG0[0..15]',
  'table=2,priority=4,sctp,tp_dst=9,actions=enqueue:1:0',
  'table=3,priority=1,actions=multipath(eth_src,50,modulo_n,1,0,NXM_NX_REG0[0..15]),bundle(eth_src,0,hrw,ofport,members:1,2)',
  'table=3,priority=2,dl_type=0x88cc,actions=controller(reason=no_match,id=5,userdata=01.02),sample(probability=100,collector_set_id=1)',
  'table=3,priority=3,udp6,ipv6_dst=2001:db8::/64,udp_dst=4789,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:2',
];
// Instructions that only exist from OpenFlow 1.1 (1.3 for meters).
const FLOWS_OF11 = [
  'table=4,metadata=0x5/0xff,actions=write_metadata:0x10/0xff,goto_table:5',
  'table=5,priority=7,ip,actions=clear_actions,write_actions(output:1),goto_table:6',
];
const FLOWS_OF13 = ['table=6,priority=10,ip,actions=meter:1,output:2'];

const FLOW_FILE_1 = [
  'table=7,priority=1,in_port=1,actions=output:2',
  'table=7,priority=1,in_port=2,actions=output:1',
  'table=7,priority=2,ip,nw_src=172.16.0.0/12,actions=drop',
];
const FLOW_FILE_2 = [
  'table=7,priority=1,in_port=1,actions=output:2',
  'table=7,priority=5,udp,tp_dst=67,actions=LOCAL',
];

/**
 * The command list for one OpenFlow version: arrays of ovs-ofctl arguments,
 * run with --no-names; `{ named: args }` runs without it (ovs-ofctl then
 * looks port and table names up first: OFPST_TABLE + FEATURES in 1.0,
 * TABLE_FEATURES + PORT_DESC from 1.3 on, over 1 MB each time, so those
 * live in the gzipped ofctl-names-* captures); `{ monitor }` is the monitor
 * step.
 */
function ofctlSteps(version, files) {
  const v = Number(version.slice(-2)); // 10, 13, 14, 15
  const T = `tcp:127.0.0.1:${OFCTL_PORT}`;
  const steps = [
    ['show', T], ['dump-desc', T], ['dump-tables', T],
    // From 1.3 on this is OFPMP_TABLE_FEATURES, 1.2 MB: see the ofctl-names-* captures.
    ...(v === 10 ? [['dump-table-features', T]] : []),
    ['get-frags', T], ['set-frags', T, 'normal'],
    ['dump-ports', T], ['dump-ports', T, '1'], ['dump-ports-desc', T], ['dump-ports-desc', T, '1'],
    ['mod-port', T, 'p1', 'down'], ['mod-port', T, 'p1', 'up'], ['mod-port', T, 'p2', 'no-flood'],
    ['mod-port', T, 'p2', 'flood'],
    ['queue-stats', T], ['queue-get-config', T, '1'],
    ['probe', T], ['ping', T, '16'],
  ];
  if (v >= 14) steps.push(['dump-table-desc', T], ['mod-table', T, '0', 'evict'], ['mod-table', T, '0', 'vacancy:20,80']);

  // Groups and meters come first so that flows may use them.
  steps.push(
    ['add-group', T, 'group_id=1,type=all,bucket=output:1,bucket=output:2'],
    ['add-group', T, v >= 15
      ? 'group_id=2,type=select,selection_method=hash,fields(ip_src,nw_proto),bucket=bucket_id:1,weight:10,actions=output:1,bucket=bucket_id:2,weight:20,actions=output:2'
      : 'group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2'],
    ['add-group', T, 'group_id=3,type=indirect,bucket=actions=set_field:00:00:00:00:00:09->eth_dst,output:1'],
    ['add-group', T, 'group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2'],
    ['add-groups', T, files.groups],
    ['mod-group', T, 'group_id=1,type=all,bucket=output:2,bucket=output:LOCAL'],
    ['--may-create', 'mod-group', T, 'group_id=9,type=all,bucket=output:1'],
    ['add-group', T, 'group_id=1,type=all,bucket=output:1'], // GROUP_EXISTS
    ['mod-group', T, 'group_id=77,type=all,bucket=output:1'], // UNKNOWN_GROUP
  );
  if (v >= 15) {
    steps.push(
      ['insert-buckets', T, 'group_id=2,command_bucket_id=last,bucket=bucket_id:3,weight:5,actions=output:LOCAL'],
      ['remove-buckets', T, 'group_id=2,command_bucket_id=1'],
    );
  }
  steps.push(['dump-groups', T], ['dump-groups', T, '1'], ['dump-group-stats', T], ['dump-group-features', T]);
  if (v >= 13) {
    steps.push(
      ['add-meter', T, 'meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100'],
      ['add-meter', T, 'meter=2,pktps,bands=type=drop,rate=100'],
      ['add-meter', T, 'meter=3,kbps,bands=type=dscp_remark,rate=500,prec_level=1'],
      ['mod-meter', T, 'meter=1,kbps,stats,bands=type=drop,rate=2000'],
      ['add-meter', T, 'meter=1,kbps,bands=type=drop,rate=1'], // METER_EXISTS
      ['mod-meter', T, 'meter=99,kbps,bands=type=drop,rate=1'], // UNKNOWN_METER
      ['dump-meters', T], ['dump-meters', T, 'meter=1'], ['meter-stats', T], ['meter-stats', T, 'meter=2'], ['meter-features', T],
    );
  }

  const flows = [...FLOWS_COMMON, ...(v >= 11 ? FLOWS_OF11 : []), ...(v >= 13 ? FLOWS_OF13 : [])];
  for (const f of flows) steps.push(['add-flow', T, f]);
  steps.push(
    ['add-flow', T, 'table=3,priority=9,ip,actions=group:1'],
    ['add-flow', T, 'table=3,priority=8,ip,actions=group:99'], // BAD_OUT_GROUP
    ['add-flow', T, 'table=3,priority=8,udp,actions=output:1,resubmit(,1)'],
    ['add-flows', T, files.flows1],
    ['dump-flows', T], ['dump-flows', T, 'table=1'], ['dump-flows', T, 'ip,nw_src=10.0.0.0/8'],
    ['dump-flows', T, 'cookie=0x10/-1'],
    ['dump-aggregate', T], ['dump-aggregate', T, 'table=2'],
    ['mod-flows', T, 'ip,nw_src=10.0.0.0/8,actions=output:1'],
    ['--strict', 'mod-flows', T, 'priority=100,in_port=1,dl_src=00:11:22:33:44:55,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=output:LOCAL'],
    ['mod-flows', T, 'cookie=0x10/-1,actions=drop'],
    ['del-flows', T, 'table=1,tun_id=0x10'],
    ['--strict', 'del-flows', T, 'priority=300,tcp,tp_src=80,tp_dst=0x1000/0xf000'],
    ['del-flows', T, 'out_port=2'],
    ['replace-flows', T, files.flows2],
    ['diff-flows', T, files.flows2], // the same: exit 0
    ['diff-flows', T, files.flows1], // differs: exit 2
    ['--readd', 'add-flows', T, files.flows2],
    ['packet-out', T, `in_port=1 packet=${UDP_HEX} actions=output:2`],
    ['packet-out', T, 'LOCAL', 'output:1,output:2', ARP_HEX],
    ['packet-out', T, `in_port=controller packet=${UDP_HEX} actions=output:9999`], // bad port
  );
  if (v >= 14) {
    steps.push(
      ['bundle', T, files.bundle],
      ['bundle', T, files.badBundle], // fails: nothing applied
      ['--bundle', 'add-flows', T, files.flows1],
      ['--bundle', 'replace-flows', T, files.flows2],
    );
  }
  if (v === 10) {
    steps.push(
      { named: ['add-flow', T, 'table=10,in_port=p1,actions=output:p2'] },
      { named: ['dump-flows', T, 'table=10,in_port=p1'] },
      { named: ['del-flows', T, 'in_port=p1,table=10'] },
    );
  }
  steps.push({ monitor: T });
  steps.push(
    ['dump-tlv-map', T], ['add-tlv-map', T, '{class=0xffff,type=0,len=4}->tun_metadata0'], ['dump-tlv-map', T],
    ['del-tlv-map', T],
    ['ct-flush-zone', T, '5'], ['ct-flush', T],
    ['dump-ipfix-bridge', T], // error: no IPFIX configured
    ['del-groups', T, 'group_id=4'], ['del-groups', T],
  );
  if (v >= 13) steps.push(['del-meters', T, 'meter=2'], ['del-meters', T]);
  steps.push(['del-flows', T], ['dump-flows', T], ['dump-groups', T]);
  return steps.map((s) => {
    if (Array.isArray(s)) return ['-O', version, '--no-names', ...s];
    if (s.named) return ['-O', version, ...s.named];
    return { monitor: s.monitor, version };
  });
}

/** Name lookups and the table-features dump: the big ones (see ofctlSteps). */
function namesSteps(version) {
  const T = `tcp:127.0.0.1:${OFCTL_PORT}`;
  return [
    ['-O', version, 'dump-table-features', T],
    ['-O', version, 'add-flow', T, 'table=1,in_port=p1,actions=output:p2'],
  ];
}

function writeSessionFiles(dir) {
  const w = (name, lines) => { const p = join(dir, name); writeFileSync(p, lines.join('\n') + '\n'); return p; };
  return {
    flows1: w('flows1.txt', FLOW_FILE_1),
    flows2: w('flows2.txt', FLOW_FILE_2),
    groups: w('groups.txt', ['group_id=5,type=all,bucket=output:1', 'group_id=6,type=indirect,bucket=output:2']),
    bundle: w('bundle.txt', [
      'flow add table=8,priority=1,in_port=1,actions=output:2',
      'flow add table=8,priority=1,in_port=2,actions=output:1',
      'group add group_id=10,type=all,bucket=output:1',
      'flow modify table=8,in_port=1,actions=output:LOCAL',
      'flow delete table=8,in_port=2',
    ]),
    badBundle: w('bad-bundle.txt', [
      'flow add table=8,priority=9,in_port=1,actions=output:2',
      'group add group_id=10,type=all,bucket=output:1', // exists: the bundle fails
    ]),
  };
}

/** `ovs-ofctl monitor` with packet-ins and flow-monitor updates, while other commands run. */
async function monitorStep(ovs, transcript, target, version) {
  const args = ['-O', version, '--no-names', 'monitor', target, '65535', 'watch:'];
  const child = spawn('ovs-ofctl', args, { env: ovs.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b.toString(); });
  child.stderr.on('data', (b) => { out += b.toString(); });
  const exited = new Promise((res) => child.on('exit', (code, sig) => res(code ?? sig)));
  await sleep(700);
  const side = async (a) => {
    const full = ['-O', version, '--no-names', ...a];
    transcript.add(`ovs-ofctl ${full.map(shellQuote).join(' ')}   # while monitor runs`, await ovs.ofctl(full));
  };
  await side(['add-flow', target, 'table=9,priority=1,udp,actions=CONTROLLER:64']);
  await side(['packet-out', target, `in_port=1 packet=${UDP_HEX} actions=resubmit(,9)`]);
  await side(['mod-flows', target, 'table=9,udp,actions=CONTROLLER:32,output:2']);
  const inject = await ovs.appctl(['netdev-dummy/receive', 'p1', UDP_HEX]);
  transcript.add(`ovs-appctl netdev-dummy/receive p1 ${UDP_HEX}   # while monitor runs`, inject);
  await sleep(300);
  await side(['del-flows', target, 'table=9']);
  await sleep(500);
  child.kill('SIGTERM');
  const status = await exited;
  transcript.add(`ovs-ofctl ${args.map(shellQuote).join(' ')}   # ended by SIGTERM`, { stdout: out, stderr: '', code: status });
}

async function captureOfctl(name, version, work) {
  const ovs = await startRealOvs({ bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
  const transcript = new Transcript();
  try {
    await must(ovs.vsctl(['set-controller', 'br0', `ptcp:${OFCTL_PORT}:127.0.0.1`, '--', 'set', 'Bridge', 'br0', 'fail_mode=secure']));
    await waitListening(OFCTL_PORT);
    const pcap = join(work, `${name}.pcap`);
    const files = writeSessionFiles(work);
    const tcpdump = await startTcpdump(pcap, OFCTL_PORT);
    const steps = name.startsWith('ofctl-names-') ? namesSteps(version) : ofctlSteps(version, files);
    for (const step of steps) {
      if (!Array.isArray(step)) { await monitorStep(ovs, transcript, step.monitor, step.version); continue; }
      const r = await ovs.ofctl(step);
      const shown = step.map((a) => (a.startsWith(work) ? a.slice(work.length + 1) : a));
      transcript.add(`ovs-ofctl ${shown.map(shellQuote).join(' ')}`, r);
    }
    const tcpdumpSaid = await tcpdump.stop();
    if (process.env.TSW_CAPTURE_DEBUG) console.log(tcpdumpSaid);
    return { pcap, transcript: transcript.text() };
  } finally {
    await ovs.stop();
  }
}

// ------------------------------------------------------------ os-ken session

async function captureOsken(work) {
  const ovs = await startRealOvs({ bridges: ['br0'], ports: { br0: ['p1', 'p2'] }, protocols: ['OpenFlow13'] });
  const transcript = new Transcript();
  let osken = null;
  try {
    await must(ovs.vsctl(['set', 'Bridge', 'br0', 'fail_mode=secure']));
    const pcap = join(work, 'osken-of13.pcap');
    const tcpdump = await startTcpdump(pcap, OSKEN_PORT);
    const app = join(fixtures, 'oskenapp.py');
    const child = spawn('/usr/bin/osken-manager', ['--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(OSKEN_PORT), app],
      { env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b) => { log += b.toString(); });
    child.stderr.on('data', (b) => { log += b.toString(); });
    const exited = new Promise((res) => child.on('exit', (code, sig) => res(code ?? sig)));
    osken = { child, exited };
    const waitLog = async (what, ms = 15_000) => {
      const end = Date.now() + ms;
      while (!log.includes(what)) {
        if (Date.now() > end) throw new Error(`os-ken never logged ${what}:\n${log}`);
        await sleep(50);
      }
    };
    await waitListening(OSKEN_PORT);
    transcript.add('osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port 6633 test/fixtures/openflow/oskenapp.py &', { stdout: '', stderr: '', code: 0 });
    const step = async (what, p) => { transcript.add(what, await p); };
    await step(`ovs-vsctl set-controller br0 tcp:127.0.0.1:${OSKEN_PORT} -- set Controller br0 connection_mode=out-of-band`,
      ovs.vsctl(['set-controller', 'br0', `tcp:127.0.0.1:${OSKEN_PORT}`, '--', 'set', 'Controller', 'br0', 'connection_mode=out-of-band']));
    await waitLog('CAPTURE-READY');
    await step(`ovs-appctl netdev-dummy/receive p1 ${UDP_HEX}`, ovs.appctl(['netdev-dummy/receive', 'p1', UDP_HEX]));
    await waitLog('CAPTURE-PACKET-IN');
    await step('ovs-ofctl -O OpenFlow13 mod-port br0 p2 down', ovs.ofctl(['-O', 'OpenFlow13', 'mod-port', 'br0', 'p2', 'down']));
    await step('ovs-vsctl add-port br0 p3 -- set Interface p3 type=dummy ofport_request=3',
      ovs.vsctl(['add-port', 'br0', 'p3', '--', 'set', 'Interface', 'p3', 'type=dummy', 'ofport_request=3']));
    await waitLog('CAPTURE-FLOW-REMOVED', 5000);
    await step('ovs-vsctl del-port br0 p3', ovs.vsctl(['del-port', 'br0', 'p3']));
    await sleep(500);
    child.kill('SIGTERM');
    await exited;
    osken = null;
    const tcpdumpSaid = await tcpdump.stop();
    if (process.env.TSW_CAPTURE_DEBUG) console.log(tcpdumpSaid);
    const appLog = log.split('\n').filter((l) => l.includes('CAPTURE-')).join('\n');
    transcript.add('# os-ken app log (CAPTURE-* lines)', { stdout: appLog, stderr: '', code: 0 });
    return { pcap, transcript: transcript.text() };
  } finally {
    if (osken) { osken.child.kill('SIGKILL'); await osken.exited; }
    await ovs.stop();
  }
}

// ---------------------------------------------------------------- helpers

/**
 * Checks that every TCP direction in a pcap (Ethernet, IPv4) carries its data
 * in sequence, with no gap: ofp-parse-pcap drops any segment
 * it did not expect and then loses the rest of that stream, so a capture
 * that fails this would make an incomplete reference text.
 */
function checkInOrder(file) {
  const b = readFileSync(file);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  const next = new Map();
  const problems = [];
  let frame = 0;
  for (let off = 24; off + 16 <= b.length; frame++) {
    const caplen = b.readUInt32LE(off + 8);
    const p = b.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (p.length < 54 || p.readUInt16BE(12) !== 0x0800 || p[23] !== 6) continue;
    const ihl = (p[14] & 0x0f) * 4;
    const tcp = 14 + ihl;
    const dataLen = p.readUInt16BE(16) - ihl - (p[tcp + 12] >> 4) * 4;
    const key = `${p.readUInt32BE(26)}:${p.readUInt16BE(tcp)}>${p.readUInt32BE(30)}:${p.readUInt16BE(tcp + 2)}`;
    const seq = p.readUInt32BE(tcp + 4);
    const flags = p[tcp + 13];
    if (flags & 0x02) { next.set(key, (seq + 1) >>> 0); continue; } // SYN
    const want = next.get(key);
    if (dataLen === 0) continue;
    if (want === undefined || seq === want) { next.set(key, (seq + dataLen) >>> 0); continue; }
    // A pure repeat (a retransmission of data already seen) is skipped harmlessly.
    const behind = (want - seq) >>> 0;
    if (behind < 0x80000000 && behind >= dataLen) continue;
    problems.push(`frame ${frame + 1} ${key}: seq ${seq}, expected ${want}`);
    next.set(key, (seq + dataLen) >>> 0);
  }
  if (problems.length) throw new Error(`${file}: segments out of order (ofp-parse-pcap would lose data):\n${problems.slice(0, 5).join('\n')}`);
}


async function must(p) {
  const r = await p;
  if (r.code !== 0) throw new Error(`failed (${r.code}): ${r.stderr}`);
  return r;
}

async function waitListening(port, ms = 10_000) {
  const { createConnection } = await import('node:net');
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((res) => {
      const s = createConnection(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await sleep(50);
  }
}

// ------------------------------------------------------------------- main

async function main() {
  const wanted = process.argv.slice(2);
  for (const w of wanted) if (!ALL.includes(w)) throw new Error(`unknown capture ${w}; one of ${ALL.join(' ')}`);
  mkdirSync(fixtures, { recursive: true });
  const work = mkdtempSync(join(os.tmpdir(), 'tsw-capture-'));
  try {
    for (const name of wanted.length ? wanted : ALL) {
      // Lo may still drop or reorder a segment of a burst now and then: try again.
      let result;
      for (let attempt = 1; ; attempt++) {
        try {
          result = name === 'osken-of13' ? await captureOsken(work) : await captureOfctl(name, VERSIONS[name], work);
          checkInOrder(result.pcap);
          break;
        } catch (e) {
          if (attempt === 3) throw e;
          console.log(`${name}: attempt ${attempt}: ${e.message.split('\n')[0]}; capturing again`);
        }
      }
      const { pcap, transcript } = result;
      const base = join(fixtures, `${name}.pcap`);
      for (const old of [base, `${base}.gz`, `${base}.txt`]) rmSync(old, { force: true });
      const dest = GZIPPED.has(name) ? `${base}.gz` : base;
      if (GZIPPED.has(name)) writeFileSync(dest, gzipSync(readFileSync(pcap), { level: 9 }));
      else copyFileSync(pcap, dest);
      writeFileSync(join(fixtures, `${name}.session.txt`), transcript);
      // The text is made from the raw capture, the same bytes the .gz holds.
      const parsed = await runTool('ovs-ofctl', ['ofp-parse-pcap', pcap], process.env, { timeoutMs: 60_000 });
      if (parsed.code !== 0 || parsed.stderr) throw new Error(`ofp-parse-pcap ${pcap} exited ${parsed.code}: ${parsed.stderr}`);
      writeFileSync(`${base}.txt`, parsed.stdout);
      const messages = parsed.stdout.split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+\.\d+ > \d+\.\d+\.\d+\.\d+\.\d+:$/.test(l)).length;
      console.log(`${name}: ${statSync(dest).size} bytes (${statSync(pcap).size} raw), ${messages} messages -> ${dest}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e instanceof Error ? e.stack : e); process.exit(1); });
