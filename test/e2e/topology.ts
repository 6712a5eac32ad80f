// Network-namespace topologies for the end-to-end scenarios and the dataplane
// benchmark: hosts are `ip netns` with one veth each (eth0 inside the host),
// and the other end of each veth lives in the switch's own namespace, so a
// userspace switch (whose netdev datapath creates a tap named ovs-netdev) never
// touches the machine's root namespace.
//
// Every name carries a per-run prefix `t2e` + the pid in base 36 (5 chars) +
// one topology letter, so parallel runs stay apart and leftovers of a crashed
// run (whose pid is gone) are recognised and swept by the next one. Interface
// names stay within 15 bytes: prefix 9 + at most 6 of our own.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { runTool, type RunResult } from '../interop/real-ovs.js';

const RUN_TAG = `t2e${process.pid.toString(36).padStart(5, '0').slice(-5)}`;
let topologies = 0;

/** A one-off name with this run's prefix, outside any topology (`tag` ≤ 6 chars). */
export function runName(tag: string): string {
  return `${RUN_TAG}_${tag}`;
}

/** Why the e2e topologies cannot be built here, or null. */
export function topologyMissing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  for (const p of ['/usr/bin/ping', '/usr/sbin/ethtool', '/usr/bin/iperf3', '/usr/bin/nc']) {
    if (!existsSync(p)) return `${p} is missing (node scripts/test-deps.mjs installs it)`;
  }
  return null;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a command (never throws for a non-zero status). */
export function sh(file: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return runTool(file, args, process.env, { timeoutMs });
}

/** Runs a command and throws with its output when it fails. */
export async function must(file: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  const r = await sh(file, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Runs a command inside a namespace. */
export function inNs(ns: string, cmd: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return sh('ip', ['netns', 'exec', ns, ...cmd], timeoutMs);
}

export async function mustInNs(ns: string, cmd: readonly string[], timeoutMs = 20_000): Promise<string> {
  return must('ip', ['netns', 'exec', ns, ...cmd], timeoutMs);
}

export interface Host {
  /** The host's namespace; its interface is eth0. */
  ns: string;
  /** Address without the prefix length. */
  ip: string;
  /** The switch side of the host's veth (in the switch namespace). */
  port: string;
  mac: string;
}

export interface HostOptions {
  /** Address with prefix length, e.g. 10.77.0.1/24. */
  cidr: string;
  /** Namespace holding the switch side of the veth. */
  switchNs: string;
  mtu?: number;
}

export interface PingResult { loss: number; out: string; rttMs: number[] }
export interface TcpResult { bitsPerSecond: number; bytes: number; retransmits: number }

/** Sweeps what crashed earlier runs left: namespaces and root links whose run's pid is gone. */
export async function sweepLeftovers(): Promise<void> {
  const stale = (name: string): boolean => {
    const m = /^t2e([0-9a-z]{5})/.exec(name);
    if (!m || name.startsWith(RUN_TAG)) return false;
    return !existsSync(`/proc/${parseInt(m[1]!, 36)}`);
  };
  const names = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  for (const ns of names.filter(stale)) await sh('ip', ['netns', 'del', ns]);
  const links = (await sh('ip', ['-o', 'link', 'show'])).stdout;
  for (const m of links.matchAll(/^\d+: (t2e[0-9a-z]+)[@:]/gm)) if (stale(m[1]!)) await sh('ip', ['link', 'del', m[1]!]);
}

export class Topology {
  /** Prefix of every name this topology creates. */
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly groups = new WeakSet<ChildProcess>();

  constructor() {
    this.prefix = `${RUN_TAG}${(topologies++ % 36).toString(36)}`;
  }

  /** A name with this topology's prefix (`tag` ≤ 6 chars keeps interface names legal). */
  name(tag: string): string {
    if (tag.length > 6) throw new Error(`name tag ${tag} is longer than 6 characters`);
    return `${this.prefix}${tag}`;
  }

  /** A fresh namespace with loopback up. */
  async addNs(tag: string): Promise<string> {
    const ns = this.name(tag);
    await must('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // A userspace switch reads its ports with AF_PACKET, so the kernel still sees
    // their frames too; with the default arp_ignore=0 a port's veth would answer
    // ARP for the address on the bridge's local port with its own MAC, and the
    // peer's tunnel packets would go to that veth instead of the bridge.
    await mustInNs(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1']);
    return ns;
  }

  /** A veth pair between two namespaces, both ends up. */
  async link(nsA: string, nameA: string, nsB: string, nameB: string, mtu?: number): Promise<void> {
    await must('ip', ['-n', nsA, 'link', 'add', nameA, 'type', 'veth', 'peer', 'name', nameB, 'netns', nsB]);
    for (const [ns, dev] of [[nsA, nameA], [nsB, nameB]] as const) {
      if (mtu) await must('ip', ['-n', ns, 'link', 'set', dev, 'mtu', String(mtu)]);
      await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  /** A host namespace `tag` with eth0 at `cidr`, its peer `tag` (prefixed) in the switch namespace. */
  async addHost(tag: string, o: HostOptions): Promise<Host> {
    const ns = await this.addNs(tag);
    const port = this.name(tag);
    await this.link(ns, 'eth0', o.switchNs, port, o.mtu);
    await must('ip', ['-n', ns, 'addr', 'add', o.cidr, 'dev', 'eth0']);
    // A userspace switch forwards what the host hands it: the host must compute its own checksums.
    await mustInNs(ns, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    const mac = /link\/ether ([0-9a-f:]{17})/.exec(await must('ip', ['-n', ns, 'link', 'show', 'eth0']))?.[1];
    if (!mac) throw new Error(`no MAC on ${ns} eth0`);
    return { ns, ip: o.cidr.split('/')[0]!, port, mac };
  }

  /** Sends `count` pings 0.2 s apart; loss in percent (100 when ping could not run). */
  async ping(from: Host, toIp: string, count = 3, waitS = 1): Promise<PingResult> {
    const r = await inNs(from.ns, ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', String(waitS), toIp],
      (count * 0.2 + waitS + 5) * 1000);
    const out = r.stdout + r.stderr;
    const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(out);
    const rttMs = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    return { loss: loss ? Number(loss[1]) : 100, out, rttMs };
  }

  /** Pings once a try until one answer arrives (ports and learning may take a moment). */
  async waitPing(from: Host, toIp: string, tries = 20): Promise<PingResult> {
    let r: PingResult = { loss: 100, out: '', rttMs: [] };
    for (let i = 0; i < tries; i++) {
      r = await this.ping(from, toIp, 1, 1);
      if (r.loss === 0) return r;
    }
    return r;
  }

  /** Forgets the host's neighbours (ARP). */
  async arpFlush(h: Host): Promise<void> {
    await must('ip', ['-n', h.ns, 'neigh', 'flush', 'all']);
  }

  /** A TCP stream from `from` to `to` with iperf3 (JSON output): throughput of what arrived. */
  async tcp(from: Host, to: Host, seconds = 1): Promise<TcpResult> {
    const port = 5201;
    const server = this.spawnIn(to.ns, ['iperf3', '-s', '-1', '-B', to.ip, '-p', String(port)]);
    try {
      await this.waitListening(to.ns, port, server);
      const r = await inNs(from.ns, ['iperf3', '-J', '-c', to.ip, '-p', String(port), '-t', String(seconds), '--connect-timeout', '3000'],
        (seconds + 15) * 1000);
      let j: { error?: string; end?: { sum_received?: { bits_per_second: number; bytes: number }; sum_sent?: { retransmits?: number } } };
      try { j = JSON.parse(r.stdout) as typeof j; } catch { throw new Error(`iperf3 said: ${r.stdout}${r.stderr}`); }
      if (j.error || !j.end?.sum_received) throw new Error(`iperf3: ${j.error ?? 'no result'}; server: ${childOutput(server).trim()}`);
      return { bitsPerSecond: j.end.sum_received.bits_per_second, bytes: j.end.sum_received.bytes, retransmits: j.end.sum_sent?.retransmits ?? 0 };
    } finally {
      await this.kill(server);
    }
  }

  /** Waits until a TCP port listens in a namespace (while `child`, the listener, lives). */
  async waitListening(ns: string, port: number, child: ChildProcess, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`listener on ${port} exited: ${childOutput(child)}`);
      const r = await inNs(ns, ['ss', '-Hltn', `sport = :${port}`]);
      if (r.stdout.trim() !== '') return;
      await sleep(50);
    }
    throw new Error(`nothing listens on port ${port} in ${ns} after ${ms} ms: ${childOutput(child)}`);
  }

  /**
   * A background process in a namespace, killed by pid at cleanup at the
   * latest. With `group`, it leads a process group of its own and kill()
   * signals the whole group (for programs that fork workers, e.g. trafgen).
   */
  spawnIn(ns: string, cmd: readonly string[], o: { group?: boolean } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: o.group ?? false });
    if (o.group) this.groups.add(child);
    let out = '';
    const keep = (b: Buffer): void => { if (out.length < 100_000) out += b.toString(); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    (child as ChildProcess & { output?: () => string }).output = () => out;
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Stops one background process (SIGTERM, SIGKILL after 2 s) and waits for it. */
  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    const send = (sig: NodeJS.Signals): void => {
      if (this.groups.has(child) && child.pid) {
        try { process.kill(-child.pid, sig); } catch { /* the group is gone */ }
      } else child.kill(sig);
    };
    send(signal);
    const t = setTimeout(() => send('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }

  /** Deletes every namespace (and so every veth) of this topology; stops its background processes. */
  async cleanup(): Promise<void> {
    await Promise.all([...this.children].map((c) => this.kill(c)));
    for (const ns of this.namespaces.splice(0).reverse()) await sh('ip', ['netns', 'del', ns]);
    const links = (await sh('ip', ['-o', 'link', 'show'])).stdout;
    for (const m of links.matchAll(/^\d+: ([^@:\s]+)[@:]/gm)) if (m[1]!.startsWith(this.prefix)) await sh('ip', ['link', 'del', m[1]!]);
  }
}

/** What a background process printed so far (for error messages). */
export function childOutput(c: ChildProcess): string {
  return (c as ChildProcess & { output?: () => string }).output?.() ?? '';
}
