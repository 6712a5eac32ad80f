// Route and neighbour lookups over rtnetlink (the addon's routeGet and
// neighGet) in a network namespace of their own, checked against what
// `ip route get` says there: connected, gateway, local, policy-routed (fwmark)
// and missing routes, IPv4 and IPv6, permanent neighbours, bad input, a worker
// thread, and host-route.ts answering tunnels from them. The lookups run in a
// child process inside the namespace (`ip netns exec`). Needs root; the
// namespace carries a per-run prefix and is deleted afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeAddonPath } from '../../src/native/index.js';

const P = `tswr${process.pid % 10000}`;
const NS = `${P}ns`;
const A = `${P}a`; // veth A <-> B, both inside NS
const B = `${P}b`;
const isRoot = process.getuid?.() === 0;
const opts = { skip: isRoot ? false : 'needs root to create a network namespace' };
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function ip(...args: string[]): string {
  return execFileSync('ip', ['-n', NS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** `ip -j route get` in the namespace, as the reference answer. */
function ipRouteGet(dst: string): { dev?: string; prefsrc?: string; gateway?: string; type?: string } | null {
  const r = spawnSync('ip', ['-n', NS, '-j', 'route', 'get', dst], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0] ?? null : null;
}

// The child: runs [name, ...args] calls on the addon inside the namespace and prints each result or error.
const CHILD = `
const native = require(process.env.TSW_NATIVE_ADDON);
const out = JSON.parse(process.argv[1]).map(([fn, ...args]) => {
  try { return { value: native[fn](...args) }; }
  catch (e) { return { error: { name: e.name, code: e.code, message: e.message } }; }
});
process.stdout.write(JSON.stringify(out));
`;

interface CallResult { value?: unknown; error?: { name: string; code: string; message: string } }

function inNs(calls: unknown[][]): CallResult[] {
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', CHILD, JSON.stringify(calls)], {
    env: { ...process.env, TSW_NATIVE_ADDON: nativeAddonPath() }, stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
  return JSON.parse(out) as CallResult[];
}

function call(fn: string, ...args: unknown[]): unknown {
  const [r] = inNs([[fn, ...args]]);
  if (r!.error) throw Object.assign(new Error(r!.error.message), r!.error);
  return r!.value;
}

let ifA = 0;
let ifB = 0;

before(() => {
  if (!isRoot) return;
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  execFileSync('ip', ['netns', 'add', NS]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', A, 'type', 'veth', 'peer', 'name', B);
  ip('addr', 'add', '10.77.1.1/24', 'dev', A);
  ip('addr', 'add', 'fd77::1/64', 'dev', A, 'nodad');
  ip('link', 'set', A, 'up');
  ip('link', 'set', B, 'up');
  ip('route', 'add', '10.88.0.0/16', 'via', '10.77.1.254', 'dev', A);
  ip('-6', 'route', 'add', 'fd88::/64', 'via', 'fd77::fe', 'dev', A);
  // Policy routing: packets marked 7 reach 10.99/16 by B through table 100; unmarked ones have no route there.
  ip('route', 'add', '10.99.0.0/16', 'dev', B, 'table', '100');
  ip('rule', 'add', 'fwmark', '7', 'table', '100');
  ip('route', 'add', 'blackhole', '10.66.0.0/16');
  ip('neigh', 'add', '10.77.1.9', 'lladdr', '02:00:00:00:77:09', 'dev', A, 'nud', 'permanent');
  ip('neigh', 'add', '10.77.1.254', 'lladdr', '02:00:00:00:77:fe', 'dev', A, 'nud', 'permanent');
  ip('neigh', 'add', 'fd77::9', 'lladdr', '02:00:00:00:77:99', 'dev', A, 'nud', 'permanent');
  const links = JSON.parse(ip('-j', 'link', 'show')) as Array<{ ifname: string; ifindex: number }>;
  ifA = links.find((l) => l.ifname === A)!.ifindex;
  ifB = links.find((l) => l.ifname === B)!.ifindex;
});

after(() => {
  if (isRoot) spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
});

test('a connected route leaves by its interface with its own source address and no gateway, as ip route get says', opts, () => {
  const r = call('routeGet', '10.77.1.5');
  assert.deepEqual(r, { ifindex: ifA, dev: A, prefsrc: '10.77.1.1', gateway: null, table: 254, type: 'unicast' });
  const ref = ipRouteGet('10.77.1.5')!;
  assert.equal(ref.dev, A);
  assert.equal(ref.prefsrc, '10.77.1.1');
  assert.equal(ref.gateway, undefined);
});

test('a route via a gateway names the gateway', opts, () => {
  const r = call('routeGet', '10.88.3.4') as { dev: string; gateway: string; prefsrc: string };
  assert.equal(r.dev, A);
  assert.equal(r.gateway, '10.77.1.254');
  assert.equal(r.prefsrc, '10.77.1.1');
  assert.equal(ipRouteGet('10.88.3.4')!.gateway, '10.77.1.254');
});

test("the host's own address is a local route by lo", opts, () => {
  const r = call('routeGet', '10.77.1.1') as { dev: string; type: string; ifindex: number };
  assert.equal(r.type, 'local');
  assert.equal(r.dev, 'lo');
  assert.equal(r.ifindex, 1);
  assert.equal(ipRouteGet('10.77.1.1')!.type, 'local');
});

test('an address with no route gives null, IPv4 and IPv6; a blackhole route is refused with EINVAL', opts, () => {
  assert.equal(ipRouteGet('10.99.0.1'), null);
  assert.equal(call('routeGet', '10.99.0.1'), null);
  assert.equal(call('routeGet', '2001:db8::1'), null);
  const [blackhole] = inNs([['routeGet', '10.66.0.1']]);
  assert.equal(blackhole!.error?.code, 'EINVAL');
});

test('a packet mark selects the policy route the kernel would use for it', opts, () => {
  const r = call('routeGet', '10.99.0.1', 7) as { dev: string; ifindex: number; table: number };
  assert.equal(r.dev, B);
  assert.equal(r.ifindex, ifB);
  assert.equal(r.table, 100);
  assert.equal(call('routeGet', '10.99.0.1', 8), null);
});

test('IPv6 routes: connected with its source, via a gateway, and ::1 local', opts, () => {
  assert.deepEqual(call('routeGet', 'fd77::5'), { ifindex: ifA, dev: A, prefsrc: 'fd77::1', gateway: null, table: 254, type: 'unicast' });
  const via = call('routeGet', 'fd88::42') as { dev: string; gateway: string };
  assert.equal(via.dev, A);
  assert.equal(via.gateway, 'fd77::fe');
  assert.equal(ipRouteGet('fd88::42')!.gateway, 'fd77::fe');
  assert.equal((call('routeGet', '::1') as { type: string }).type, 'local');
});

test('a permanent neighbour is found with its MAC; a missing one is null', opts, () => {
  assert.deepEqual(call('neighGet', '10.77.1.9', ifA), { mac: '02:00:00:00:77:09', state: 0x80, stateNames: ['PERMANENT'] });
  assert.deepEqual(call('neighGet', 'fd77::9', ifA), { mac: '02:00:00:00:77:99', state: 0x80, stateNames: ['PERMANENT'] });
  assert.equal(call('neighGet', '10.77.1.10', ifA), null);
  assert.equal(call('neighGet', '10.77.1.9', ifB), null, 'the entry belongs to A, not B');
});

test('bad input is a TypeError and an unknown interface an ENODEV error', opts, () => {
  const [notIp, number, badMark, zeroIf, noDev] = inNs([
    ['routeGet', 'not-an-ip'], ['routeGet', 42], ['routeGet', '10.77.1.5', -1], ['neighGet', '10.77.1.9', 0],
    ['neighGet', '10.77.1.9', 999999],
  ]);
  assert.equal(notIp!.error?.name, 'TypeError');
  assert.match(notIp!.error!.message, /"not-an-ip" is not an IPv4 or IPv6 address/);
  assert.equal(number!.error?.name, 'TypeError');
  assert.equal(badMark!.error?.name, 'TypeError');
  assert.equal(zeroIf!.error?.name, 'TypeError');
  assert.equal(noDev!.error?.code, 'ENODEV');
});

test('a worker thread has its own lookups and the main thread keeps working after it exits', opts, () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    const path = process.env.TSW_NATIVE_ADDON;
    const w = new Worker(\`const { parentPort } = require('node:worker_threads');
      const n = require(\${JSON.stringify(path)});
      parentPort.postMessage([n.routeGet('10.88.1.1'), n.neighGet('10.77.1.9', n.linkIndex('${A}'))]);\`, { eval: true });
    w.on('message', (m) => { process.stdout.write(JSON.stringify(m)); });
    w.on('exit', () => {
      const n = require(path);
      for (let i = 0; i < 100; i++) n.routeGet('10.77.1.5');
      process.stdout.write('|' + JSON.stringify(n.routeGet('10.77.1.5').dev));
    });`;
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script], {
    env: { ...process.env, TSW_NATIVE_ADDON: nativeAddonPath() }, stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
  const [fromWorker, fromMain] = out.split('|');
  const [route, neigh] = JSON.parse(fromWorker!) as [{ gateway: string }, { mac: string }];
  assert.equal(route.gateway, '10.77.1.254');
  assert.equal(neigh.mac, '02:00:00:00:77:09');
  assert.equal(JSON.parse(fromMain!), A);
});

test('host-route answers a tunnel: the gateway and its MAC, and an unknown next hop starts its resolution', opts, () => {
  const script = `
    import { hostNeighbour, hostRoute } from ${JSON.stringify(`${ROOT}src/netdev/host-route.ts`)};
    const num = (s) => s.split('.').reduce((v, x) => v * 256 + Number(x), 0);
    const gw = hostRoute(num('10.88.7.7'));
    const connected = hostRoute(num('10.77.1.20'));
    const none = hostRoute(num('10.99.0.1'));
    const blackhole = hostRoute(num('10.66.0.1'));
    const mac = hostNeighbour(gw.nexthop, gw.dev);
    const unknown = hostNeighbour(connected.nexthop, connected.dev);
    setTimeout(() => process.stdout.write(JSON.stringify({ gw, connected, none, blackhole, mac, unknown })), 100);`;
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT, env: { ...process.env, TSW_NATIVE_ADDON: nativeAddonPath() }, stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
  const r = JSON.parse(out) as Record<string, unknown>;
  const n = (s: string): number => s.split('.').reduce((v, x) => v * 256 + Number(x), 0);
  assert.deepEqual(r['gw'], { dev: A, src: n('10.77.1.1'), nexthop: n('10.77.1.254'), gateway: n('10.77.1.254') });
  assert.deepEqual(r['connected'], { dev: A, src: n('10.77.1.1'), nexthop: n('10.77.1.20'), gateway: 0 });
  assert.equal(r['none'], null);
  assert.equal(r['blackhole'], null, 'a route the kernel refuses is no route, as when ip route get failed');
  assert.equal(r['mac'], '02:00:00:00:77:fe');
  assert.equal(r['unknown'], null);
  // The datagram sent to resolve 10.77.1.20 left the kernel an entry for it (INCOMPLETE or FAILED: nobody answers).
  const entries = JSON.parse(ip('-j', 'neigh', 'show', '10.77.1.20', 'dev', A)) as Array<{ state?: string[] }>;
  assert.equal(entries.length, 1, 'the kernel was asked to resolve the unknown next hop');
});

test('1,000 lookups in a row on one socket each get their own answer (replies stay matched to requests)', opts, () => {
  // Alternating families and outcomes (a gateway, a connected route, no route, a refused route): a reply
  // taken for the wrong request, or one left behind by an error, would show up as a wrong answer later on.
  const script = `
    const n = require(process.env.TSW_NATIVE_ADDON);
    const seen = [];
    for (let i = 0; i < 1000; i++) {
      const dst = ['10.88.1.1', 'fd77::5', '10.55.0.1', '10.66.0.1'][i % 4];
      let r;
      try { r = n.routeGet(dst); } catch (e) { r = { error: e.code }; }
      seen.push(r === null ? 'null' : r.error ?? r.gateway ?? r.dev);
    }
    process.stdout.write(JSON.stringify(seen));`;
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script], {
    env: { ...process.env, TSW_NATIVE_ADDON: nativeAddonPath() }, stdio: ['ignore', 'pipe', 'pipe'],
  }).toString();
  const seen = JSON.parse(out) as string[];
  const want = ['10.77.1.254', A, 'null', 'EINVAL'];
  assert.equal(seen.length, 1000);
  seen.forEach((got, i) => assert.equal(got, want[i % 4], `lookup ${i}`));
});
