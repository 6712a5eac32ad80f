// The switches the e2e scenarios and bench/dataplane run through, behind one
// interface, each in a network namespace of its own:
//   ovs   - Debian's ovsdb-server + ovs-vswitchd, userspace datapath
//           (datapath_type=netdev), configured with ovs-vsctl;
//   tsw   - tsw-dbserver + tsw-vswitchd (needs `npm run build`), configured
//           with the same real ovs-vsctl against tsw's database socket;
//   linux - the kernel bridge (ip link type bridge), veth and vxlan netdevs.
// All three run by default; TSW_E2E_IMPLS=ovs,tsw (say) narrows a run.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { okOutput, realOvsMissing, startRealOvs, type RealOvs } from '../interop/real-ovs.js';
import { must, mustInNs, runName, sh, type Topology } from './topology.js';

export type E2eImpl = 'ovs' | 'linux' | 'tsw';
export const ALL_IMPLS: readonly E2eImpl[] = ['ovs', 'linux', 'tsw'];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The implementations to run: TSW_E2E_IMPLS (comma-separated) or all of
 * them, restricted to those the scenario makes sense for.
 */
export function e2eImpls(supported: readonly E2eImpl[] = ALL_IMPLS): E2eImpl[] {
  const env = process.env.TSW_E2E_IMPLS;
  const wanted = env ? env.split(',').map((s) => s.trim()).filter(Boolean) : [...ALL_IMPLS];
  for (const w of wanted) if (!ALL_IMPLS.includes(w as E2eImpl)) throw new Error(`TSW_E2E_IMPLS: unknown implementation ${w}`);
  return supported.filter((i) => wanted.includes(i));
}

/** Why an implementation cannot run here, or null. */
export function implMissing(impl: E2eImpl): string | null {
  if (impl === 'linux') return null;
  const m = realOvsMissing();
  if (m) return m;
  if (impl === 'tsw' && !existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js'))) return 'tsw is not built (npm run build)';
  return null;
}

let vlanProbe: string | null | undefined;
/** Why the Linux bridge cannot filter VLANs here (kernel without CONFIG_BRIDGE_VLAN_FILTERING), or null. */
export function linuxVlanMissing(): string | null {
  if (vlanProbe !== undefined) return vlanProbe;
  if (process.getuid?.() !== 0) return (vlanProbe = 'needs root');
  const ns = runName('vprobe');
  spawnSync('ip', ['netns', 'add', ns]);
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', 'ip link add br0 type bridge && ip link set br0 type bridge vlan_filtering 1'],
    { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', ns]);
  vlanProbe = r.status === 0 ? null : `Linux bridge VLAN filtering is not available in this kernel (${(r.stderr ?? '').trim()})`;
  return vlanProbe;
}

export interface PortOptions {
  /** Access port on this VLAN. */
  tag?: number;
  /** Trunk port carrying these VLANs (tagged). */
  trunks?: readonly number[];
}

export interface VxlanOptions { remoteIp: string; localIp: string; vni: number; /** Tunnel type (default vxlan). */ kind?: 'vxlan' | 'geneve' | 'gre' }

export interface Switch {
  readonly impl: E2eImpl;
  /** The namespace the switch (and its ports) live in. */
  readonly ns: string;
  /** The OVS-compatible stack behind ovs and tsw (undefined for linux). */
  readonly stack?: RealOvs;
  addBridge(br: string): Promise<void>;
  addPort(br: string, port: string, o?: PortOptions): Promise<void>;
  /** Joins two bridges: an OVS patch port pair, or a veth pair for the Linux bridge. */
  addPatchPair(brA: string, brB: string): Promise<void>;
  /** A VXLAN port on `br` named `name`. */
  addVxlan(br: string, name: string, o: VxlanOptions): Promise<void>;
  /** An address on the bridge's own (local/internal) port, which is brought up. */
  setLocalIp(br: string, cidr: string): Promise<void>;
  /** Hands the bridge to an OpenFlow controller (fail_mode secure). */
  setController(br: string, target: string, protocols?: string): Promise<void>;
  /** Forgets learned MACs and cached datapath flows. */
  flushCaches(): Promise<void>;
  diagnostics(): string;
  stop(): Promise<void>;
}

/** Starts an implementation in the (already created) namespace `ns`. */
export async function startSwitch(impl: E2eImpl, topo: Topology, ns: string): Promise<Switch> {
  const missing = implMissing(impl);
  if (missing) throw new Error(`${impl}: ${missing}`);
  return impl === 'linux' ? new LinuxSwitch(topo, ns) : startOvsLike(impl, topo, ns);
}

async function startOvsLike(impl: 'ovs' | 'tsw', topo: Topology, ns: string): Promise<Switch> {
  const s = await startRealOvs({ impl, dbserver: impl, dummy: false, netns: ns, bridges: [] });
  const vsctl = async (args: readonly string[]): Promise<string> => okOutput(await s.vsctl(args), `ovs-vsctl ${args.join(' ')}`);
  const bridges = new Set<string>();
  let patches = 0;
  return {
    impl, ns, stack: s,
    async addBridge(br) {
      await vsctl(['add-br', br, '--', 'set', 'Bridge', br, 'datapath_type=netdev']);
      bridges.add(br);
    },
    async addPort(br, port, o = {}) {
      const extra: string[] = [];
      if (o.tag !== undefined) extra.push(`tag=${o.tag}`);
      if (o.trunks) extra.push(`trunks=${o.trunks.join(',')}`);
      await vsctl(['add-port', br, port, ...(extra.length ? ['--', 'set', 'Port', port, ...extra] : [])]);
    },
    async addPatchPair(brA, brB) {
      const a = topo.name(`pa${patches}`);
      const b = topo.name(`pb${patches++}`);
      await vsctl(['add-port', brA, a, '--', 'set', 'Interface', a, 'type=patch', `options:peer=${b}`,
        '--', 'add-port', brB, b, '--', 'set', 'Interface', b, 'type=patch', `options:peer=${a}`]);
    },
    async addVxlan(br, name, o) {
      await vsctl(['add-port', br, name, '--', 'set', 'Interface', name, `type=${o.kind ?? 'vxlan'}`,
        `options:remote_ip=${o.remoteIp}`, `options:local_ip=${o.localIp}`, `options:key=${o.vni}`]);
    },
    async setLocalIp(br, cidr) {
      await must('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', br]);
      await must('ip', ['-n', ns, 'link', 'set', br, 'up']);
    },
    async setController(br, target, protocols = 'OpenFlow13') {
      await vsctl(['set', 'Bridge', br, 'fail_mode=secure', `protocols=${protocols}`, '--', 'set-controller', br, target]);
    },
    async flushCaches() {
      for (const br of bridges) await s.appctl(['fdb/flush', br]);
      await s.appctl(['dpctl/del-flows']);
      await s.appctl(['revalidator/purge']);
    },
    diagnostics: () => s.diagnostics(),
    stop: () => s.stop(),
  };
}

class LinuxSwitch implements Switch {
  readonly impl = 'linux' as const;
  private readonly bridges = new Set<string>();
  private patches = 0;
  private readonly vlanBridges = new Set<string>();
  constructor(private readonly topo: Topology, readonly ns: string) {}

  private ip(...args: string[]): Promise<string> {
    return must('ip', ['-n', this.ns, ...args]);
  }

  async addBridge(br: string): Promise<void> {
    await this.ip('link', 'add', br, 'type', 'bridge');
    await this.ip('link', 'set', br, 'up');
    this.bridges.add(br);
  }

  private async vlanFiltering(br: string): Promise<void> {
    if (this.vlanBridges.has(br)) return;
    const r = await sh('ip', ['-n', this.ns, 'link', 'set', br, 'type', 'bridge', 'vlan_filtering', '1']);
    if (r.code !== 0) throw new Error(`Linux bridge VLAN filtering is not available in this kernel: ${r.stderr.trim()}`);
    this.vlanBridges.add(br);
  }

  async addPort(br: string, port: string, o: PortOptions = {}): Promise<void> {
    await this.ip('link', 'set', port, 'master', br);
    await this.ip('link', 'set', port, 'up');
    if (o.tag === undefined && !o.trunks) return;
    await this.vlanFiltering(br);
    const bridge = (...a: string[]): Promise<string> => mustInNs(this.ns, ['bridge', 'vlan', ...a]);
    await bridge('del', 'dev', port, 'vid', '1');
    if (o.tag !== undefined) await bridge('add', 'dev', port, 'vid', String(o.tag), 'pvid', 'untagged');
    for (const v of o.trunks ?? []) await bridge('add', 'dev', port, 'vid', String(v));
  }

  async addPatchPair(brA: string, brB: string): Promise<void> {
    const a = this.topo.name(`pa${this.patches}`);
    const b = this.topo.name(`pb${this.patches++}`);
    await this.topo.link(this.ns, a, this.ns, b);
    await this.addPort(brA, a);
    await this.addPort(brB, b);
  }

  async addVxlan(br: string, name: string, o: VxlanOptions): Promise<void> {
    if (o.kind && o.kind !== 'vxlan') throw new Error(`the Linux bridge rows build ${o.kind} with the kernel, which has no ${o.kind} netdevs here`);
    await this.ip('link', 'add', name, 'type', 'vxlan', 'id', String(o.vni), 'local', o.localIp, 'remote', o.remoteIp, 'dstport', '4789');
    await this.addPort(br, name);
  }

  async setLocalIp(br: string, cidr: string): Promise<void> {
    await this.ip('addr', 'add', cidr, 'dev', br);
    await this.ip('link', 'set', br, 'up');
  }

  setController(): Promise<void> {
    return Promise.reject(new Error('the Linux bridge has no OpenFlow controller'));
  }

  async flushCaches(): Promise<void> {
    for (const br of this.bridges) await this.ip('link', 'set', br, 'type', 'bridge', 'fdb_flush');
  }

  diagnostics(): string {
    return `linux bridges ${[...this.bridges].join(' ')} in ${this.ns}`;
  }

  async stop(): Promise<void> {
    for (const br of this.bridges) await sh('ip', ['-n', this.ns, 'link', 'del', br]);
    this.bridges.clear();
  }
}
