// Interfaces that cannot be opened or configured: the Interface error column
// and ofport must read as ovs-vswitchd writes them (a missing kernel device,
// a patch port without a peer, tunnels without a remote end or with bad
// options), and the bridge keeps working. Real ports (no dummy override).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { okOutput, realOvsMissing, startRealOvs, type RealOvs, type SwitchImpl } from './real-ovs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const missing = realOvsMissing()
  ?? (process.getuid?.() === 0 ? null : 'needs root (real ports)')
  ?? (existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js')) ? null : 'not built (npm run build)');

// Names unlikely to exist on the host, unique per run.
const P = `ie${process.pid % 10000}`;
const PORTS: ReadonlyArray<readonly string[]> = [
  [`${P}none`],
  [`${P}pa`, '--', 'set', 'Interface', `${P}pa`, 'type=patch'],
  [`${P}pb`, '--', 'set', 'Interface', `${P}pb`, 'type=patch', `options:peer=${P}pb`],
  [`${P}vx`, '--', 'set', 'Interface', `${P}vx`, 'type=vxlan'],
  [`${P}gn`, '--', 'set', 'Interface', `${P}gn`, 'type=geneve'],
];

describe('Interface error column for ports that cannot work, tsw vs OVS', { skip: missing ?? false }, () => {
  const stacks = new Map<SwitchImpl, RealOvs>();
  const rows = new Map<SwitchImpl, string>();
  before(async () => {
    // One after the other: both would create the same local tap in this namespace. tsw stays up for the second test.
    for (const impl of ['ovs', 'tsw'] as const) {
      const s = await startRealOvs({ impl, dummy: false, bridges: [] });
      stacks.set(impl, s);
      okOutput(await s.vsctl(['add-br', `${P}br`, '--', 'set', 'bridge', `${P}br`, 'datapath_type=netdev']), 'add-br');
      for (const p of PORTS) okOutput(await s.vsctl(['add-port', `${P}br`, ...p]), `add-port ${p[0]}`);
      await new Promise((r) => setTimeout(r, 500));
      const out = okOutput(await s.vsctl(['--format=csv', '--columns=name,ofport,error', 'list', 'Interface']), 'list Interface');
      rows.set(impl, out.split('\n').slice(1).filter(Boolean).sort().join('\n'));
      if (impl === 'ovs') {
        await s.stop();
        stacks.delete(impl);
      }
    }
  });
  after(async () => {
    for (const s of stacks.values()) await s.stop();
  });

  test('each failing port has ofport -1 and the same error text', () => {
    assert.equal(rows.get('tsw'), rows.get('ovs'));
    assert.match(rows.get('tsw') ?? '', /No such device/);
    assert.match(rows.get('tsw') ?? '', /patch type requires valid 'peer' argument/);
  });

  test('the bridge itself still works', async () => {
    const show = okOutput(await stacks.get('tsw')!.ofctl(['show', `${P}br`]), 'ofctl show');
    assert.match(show, /LOCAL\(/);
  });
});
