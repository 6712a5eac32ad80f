// tsw-ofctl's online commands side by side with the real ovs-ofctl 3.1: the
// same script (test/interop/ofctl-script.ts: flows, groups, meters, ports,
// packet-outs, bundles, errors) runs with both programs against the same
// bridge, for OpenFlow 1.0, 1.3, 1.4 and 1.5, and every step must print the
// same (after normalizing durations, ages and xids) and exit the same.
//
// The switch is a parameter: TSW_OFCTL_SWITCH=tsw runs the bridge on
// tsw-vswitchd instead of Debian's ovs-vswitchd. Needs `npm run build`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { realOvsMissing, startRealOvs, type RealOvs, type SwitchImpl } from './real-ovs.js';
import { OFCTL_SCRIPT, runOfctlScript, type StepResult } from './ofctl-script.js';

const TSW_OFCTL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsw-ofctl');
const BUILT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'ofctl', 'main.js');
const impl = (process.env.TSW_OFCTL_SWITCH ?? 'ovs') as SwitchImpl;
const missing = realOvsMissing() ?? (existsSync(BUILT) ? null : 'tsw-ofctl is not built (npm run build)');

/**
 * Steps known to differ, per version, each with the reason. The test fails
 * when a step outside this list differs, and when a listed one no longer
 * does (so the list only shrinks).
 */
const KNOWN: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

function differing(a: readonly StepResult[], b: readonly StepResult[]): { step: string; text: string }[] {
  const out: { step: string; text: string }[] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (x.code !== y.code || x.stdout !== y.stdout || x.stderr !== y.stderr) {
      out.push({ step: x.step, text: `### ${x.step}\n--- ovs-ofctl exit ${x.code}\n${x.stdout}${x.stderr}--- tsw-ofctl exit ${y.code}\n${y.stdout}${y.stderr}` });
    }
  });
  return out;
}

describe(`tsw-ofctl and ovs-ofctl print the same for ${OFCTL_SCRIPT.length} commands against a bridge on ${impl === 'tsw' ? 'tsw-vswitchd' : 'ovs-vswitchd'}`, { skip: missing ?? false }, () => {
  let ovs: RealOvs;
  let dir: string;

  before(async () => {
    ovs = await startRealOvs({ bridges: ['br0'], ports: { br0: ['p1', 'p2', 'p3'] }, impl });
    dir = mkdtempSync(join(os.tmpdir(), 'tsw-ofctl-script-'));
  });

  after(async () => {
    await ovs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const version of ['OpenFlow10', 'OpenFlow13', 'OpenFlow14', 'OpenFlow15']) {
    test(`-O ${version}: every step prints the same and exits the same`, { timeout: 600_000 }, async () => {
      const real = await runOfctlScript('ovs-ofctl', 'br0', ovs.env, ['-O', version], dir);
      const ours = await runOfctlScript(TSW_OFCTL, 'br0', ovs.env, ['-O', version], dir);
      assert.equal(ours.length, OFCTL_SCRIPT.length);
      // The script exercises errors too: some steps must fail, or the comparison proves little.
      assert.ok(real.some((r) => r.code !== 0) && real.some((r) => r.code === 0 && r.stdout.length > 0));
      const diffs = differing(real, ours);
      const known = KNOWN[version] ?? {};
      const unexpected = diffs.filter((d) => !(d.step in known));
      assert.equal(unexpected.length, 0, `${unexpected.length} steps differ:\n${unexpected.map((d) => d.text).join('\n')}`);
      const fixed = Object.keys(known).filter((k) => !diffs.some((d) => d.step === k));
      assert.deepEqual(fixed, [], `steps listed as known differences now match; remove them from KNOWN: ${fixed.join(', ')}`);
    });
  }
});
