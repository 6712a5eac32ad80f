// bench/dataplane: the same two-host topology built three ways in one run -
// tsw (tsw-vswitchd, userspace datapath), Open vSwitch (ovs-vswitchd,
// datapath_type=netdev) and the Linux bridge - each switch in a network
// namespace of its own, each host a namespace with one veth (the harness of
// test/e2e). For each implementation:
//   TCP        - iperf3 from h1 to h2 for --seconds (default 5), Gbit/s received;
//   64B UDP    - trafgen (netsniff-ng) floods 64-byte UDP frames to h2's MAC
//                from h1; packets per second counted at h2's eth0 rx counter
//                over a fixed window (--pps-seconds, default 3) after a 1 s
//                warm-up; the offered rate is h1's tx counter over the window.
//                Measured twice: once with h2's IP stack taking each frame (UDP
//                lookup, port unreachable), once with h2 a sink that discards
//                frames at ingress (a classic-BPF tc filter returning "shot",
//                after the rx counter). veth runs the receiver's stack in the
//                sender's thread, so the first number charges h2's kernel work
//                to the switch's forwarding thread; the second is the switch
//                alone, as a hardware tester's receive port would count it;
//   first pkt  - one ping right after flushing both hosts' neighbours and the
//                switch's MAC table and datapath flow cache (so ARP and the
//                ICMP packet take the slow path), median of --first N (5).
// Then ratios against Open vSwitch. An implementation that fails gets an
// error row; the others still run.
// Usage: npm run bench:dataplane [-- --only tsw,ovs,linux] [--seconds S]
//        [--pps-seconds S] [--first N] [--json]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { ALL_IMPLS, implMissing, startSwitch, type E2eImpl, type Switch } from '../test/e2e/switches.js';
import { must, mustInNs, sleep, sweepLeftovers, Topology, topologyMissing, type Host } from '../test/e2e/topology.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  if (eq) return eq.slice(name.length + 3);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const ONLY = opt('only', ALL_IMPLS.join(',')).split(',').filter(Boolean) as E2eImpl[];
for (const i of ONLY) if (!ALL_IMPLS.includes(i)) throw new Error(`--only: unknown implementation ${i}`);
const TCP_S = Number(opt('seconds', '5'));
const PPS_S = Number(opt('pps-seconds', '3'));
const FIRST_N = Number(opt('first', '5'));
const JSON_OUT = args.includes('--json');
const TRAFGEN = '/usr/sbin/trafgen';

interface Row {
  impl: E2eImpl;
  tcpGbps?: number;
  tcpRetransmits?: number;
  rxPps?: number;
  offeredPps?: number;
  sinkPps?: number;
  firstPacketMs?: number;
  warmPingMs?: number;
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

async function counters(h: Host): Promise<{ rx: number; tx: number }> {
  const j = JSON.parse(await must('ip', ['-n', h.ns, '-s', '-j', 'link', 'show', 'eth0'])) as
    { stats64: { rx: { packets: number }; tx: { packets: number } } }[];
  return { rx: j[0]!.stats64.rx.packets, tx: j[0]!.stats64.tx.packets };
}

/** 64-byte frames (60 + FCS): Ethernet 14 + IPv4 20 + UDP 8 + 18 bytes of padding. */
function trafgenConfig(from: Host, to: Host): string {
  return `{
  eth(da=${to.mac}, sa=${from.mac}, type=0x0800),
  ipv4(sa=${from.ip}, da=${to.ip}, ttl=64, df),
  udp(sp=9, dp=9),
  fill(0x00, 18),
}
`;
}

/** Makes h2 discard every frame at ingress (tc clsact, classic BPF "return TC_ACT_SHOT"); undone by `unsink`. */
async function sink(h: Host): Promise<void> {
  await mustInNs(h.ns, ['tc', 'qdisc', 'add', 'dev', 'eth0', 'clsact']);
  await mustInNs(h.ns, ['tc', 'filter', 'add', 'dev', 'eth0', 'ingress', 'bpf', 'da', 'bytecode', '1,6 0 0 2,']);
}

async function unsink(h: Host): Promise<void> {
  await mustInNs(h.ns, ['tc', 'qdisc', 'del', 'dev', 'eth0', 'clsact']);
}

async function udpPps(topo: Topology, h1: Host, h2: Host, dir: string): Promise<{ rx: number; offered: number }> {
  const conf = join(dir, `${topo.prefix}.trafgen`);
  writeFileSync(conf, trafgenConfig(h1, h2));
  // One worker (trafgen forks it: stop the whole group); leave the sysctls and IRQ affinities alone.
  const gen = topo.spawnIn(h1.ns, [TRAFGEN, '-o', 'eth0', '-i', conf, '-P', '1', '--no-sock-mem', '--notouch-irq'], { group: true });
  try {
    await sleep(1000);
    if (gen.exitCode !== null) throw new Error('trafgen exited at start');
    const a = await counters(h2);
    const sa = await counters(h1);
    const t0 = process.hrtime.bigint();
    await sleep(PPS_S * 1000);
    const b = await counters(h2);
    const sb = await counters(h1);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (gen.exitCode !== null) throw new Error('trafgen exited during the window');
    return { rx: (b.rx - a.rx) / secs, offered: (sb.tx - sa.tx) / secs };
  } finally {
    await topo.kill(gen, 'SIGINT');
  }
}

async function firstPacket(topo: Topology, sw: Switch, h1: Host, h2: Host): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < FIRST_N; i++) {
    await topo.arpFlush(h1);
    await topo.arpFlush(h2);
    await sw.flushCaches();
    await sleep(200);
    const r = await topo.ping(h1, h2.ip, 1, 2);
    if (r.loss !== 0 || r.rttMs.length === 0) throw new Error(`first ping lost:\n${r.out}`);
    times.push(r.rttMs[0]!);
  }
  return median(times);
}

async function measure(impl: E2eImpl, dir: string): Promise<Row> {
  const row: Row = { impl };
  const missing = topologyMissing() ?? implMissing(impl);
  if (missing) return { impl, error: missing };
  const topo = new Topology();
  let sw: Switch | undefined;
  try {
    const ns = await topo.addNs('sw');
    const h1 = await topo.addHost('h1', { cidr: '10.66.0.1/24', switchNs: ns });
    const h2 = await topo.addHost('h2', { cidr: '10.66.0.2/24', switchNs: ns });
    sw = await startSwitch(impl, topo, ns);
    await sw.addBridge('br0');
    await sw.addPort('br0', h1.port);
    await sw.addPort('br0', h2.port);
    const warm = await topo.waitPing(h1, h2.ip);
    if (warm.loss !== 0) throw new Error(`h1 cannot ping h2 through ${impl}:\n${warm.out}`);
    const pings = await topo.ping(h1, h2.ip, 5);
    row.warmPingMs = median(pings.rttMs);
    const tcp = await topo.tcp(h1, h2, TCP_S);
    row.tcpGbps = tcp.bitsPerSecond / 1e9;
    row.tcpRetransmits = tcp.retransmits;
    await topo.ping(h2, h1.ip, 1); // both MACs learned: the flood goes to h2 only
    const pps = await udpPps(topo, h1, h2, dir);
    row.rxPps = pps.rx;
    row.offeredPps = pps.offered;
    await sink(h2);
    try {
      row.sinkPps = (await udpPps(topo, h1, h2, dir)).rx;
    } finally {
      await unsink(h2);
    }
    row.firstPacketMs = await firstPacket(topo, sw, h1, h2);
  } catch (e) {
    row.error = (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 3).join(' | ');
  } finally {
    await sw?.stop();
    await topo.cleanup();
  }
  return row;
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;
}

async function main(): Promise<void> {
  if (!JSON_OUT) console.log(`bench/dataplane: two netns hosts through each switch; TCP ${TCP_S} s, 64-byte UDP window ${PPS_S} s, first packet median of ${FIRST_N}`);
  await sweepLeftovers();
  const dir = mkdtempSync(join(os.tmpdir(), 'tsw-dataplane-'));
  const rows: Row[] = [];
  try {
    for (const impl of ONLY) {
      if (!JSON_OUT) process.stdout.write(`  ${impl} ...`);
      const r = await measure(impl, dir);
      rows.push(r);
      if (!JSON_OUT) console.log(r.error ? ` error: ${r.error}` : ' done');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (JSON_OUT) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const ovs = rows.find((r) => r.impl === 'ovs' && !r.error);
  const head = ['implementation', 'TCP Gbit/s', 'retrans', '64B rx kpps', 'offered kpps', 'sink kpps', 'first pkt ms', 'warm ping ms',
    'TCP/ovs', 'pps/ovs', 'sink/ovs', 'first/ovs'];
  const lines = [head];
  for (const r of rows) {
    if (r.error) { lines.push([r.impl, `error: ${r.error}`]); continue; }
    lines.push([r.impl, fmt(r.tcpGbps, 2), String(r.tcpRetransmits ?? '-'), fmt((r.rxPps ?? NaN) / 1000, 0),
      fmt((r.offeredPps ?? NaN) / 1000, 0), fmt((r.sinkPps ?? NaN) / 1000, 0), fmt(r.firstPacketMs, 2), fmt(r.warmPingMs, 3),
      ratio(r.tcpGbps, ovs?.tcpGbps), ratio(r.rxPps, ovs?.rxPps), ratio(r.sinkPps, ovs?.sinkPps), ratio(r.firstPacketMs, ovs?.firstPacketMs)]);
  }
  const widths = head.map((_, i) => Math.max(...lines.filter((l) => l.length > 2).map((l) => (l[i] ?? '').length)));
  for (const l of lines) {
    console.log(l.length === 2 ? `${l[0]!.padEnd(widths[0]!)}  ${l[1]}` : l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  }
  console.log('ratios: TCP and pps above 1x mean faster than Open vSwitch; first/ovs below 1x means a quicker first packet.');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
