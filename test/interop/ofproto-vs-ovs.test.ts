// The same ovs-ofctl script (test/interop/ofctl-script.ts: every command,
// many match fields and actions, groups, meters, errors) run by the real
// ovs-ofctl against a bridge on ovs-vswitchd and against a bridge on
// tsw-vswitchd, per OpenFlow version; the normalized outputs must agree
// step by step, except for the differences listed (a ratchet: a listed step
// that starts matching must be removed, an unlisted difference fails).
// TSW_DIFF_OUT=FILE writes every difference to FILE for a look.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { OFCTL_SCRIPT, runOfctlScript, type StepResult } from './ofctl-script.js';
import { realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';

const missing = realOvsMissing()
  ?? (existsSync(join(import.meta.dirname, '..', '..', 'dist', 'vswitchd', 'main.js')) ? null : 'tsw-vswitchd is not built (npm run build)');

/** Steps whose output differs between the two switches, per version, with the reason. */
const CUSTOM = 'OVS\'s dummy netdev reports extra custom counters (rx_custom_packets_N, rx_q0_*) that tsw\'s dummy does not invent';
const PORT_STATS = { 'dump-ports BR': CUSTOM, 'dump-ports BR p1': CUSTOM, 'dump-ports BR 2': CUSTOM, 'dump-ports BR LOCAL': CUSTOM };
const KNOWN: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  OpenFlow14: PORT_STATS,
  OpenFlow15: PORT_STATS,
};

/**
 * What legitimately differs between two switches: port and bridge MAC
 * addresses (allocated per run), the DESC strings (who made it), and line
 * order (dumps list rules and groups in each switch's hash order).
 */
function canon(text: string): string {
  return text
    .replace(/addr:[0-9a-f]{2}(:[0-9a-f]{2}){5}/g, 'addr:MAC')
    .replace(/^(Manufacturer|Hardware|Software|Serial Num|DP Description): .*$/gm, '$1: X')
    .split('\n').sort().join('\n');
}

function differing(a: readonly StepResult[], b: readonly StepResult[]): { step: string; text: string }[] {
  const out: { step: string; text: string }[] = [];
  a.forEach((x, i) => {
    const y = b[i]!;
    if (x.code !== y.code || canon(x.stdout) !== canon(y.stdout) || canon(x.stderr) !== canon(y.stderr)) {
      out.push({ step: x.step, text: `### ${x.step}\n--- ovs-vswitchd: exit ${x.code}\n${x.stdout}${x.stderr}--- tsw-vswitchd: exit ${y.code}\n${y.stdout}${y.stderr}` });
    }
  });
  return out;
}

describe(`ovs-ofctl sees the same switch in tsw-vswitchd as in ovs-vswitchd (${OFCTL_SCRIPT.length} commands per version)`, { skip: missing ?? false }, () => {
  let real: RealOvs;
  let ours: RealOvs;
  let dirA: string;
  let dirB: string;

  before(async () => {
    const ports = { br0: ['p1', 'p2', 'p3'] };
    real = await startRealOvs({ bridges: ['br0'], ports });
    ours = await startRealOvs({ bridges: ['br0'], ports, impl: 'tsw' });
    dirA = mkdtempSync(join(os.tmpdir(), 'tsw-vs-ovs-'));
    dirB = mkdtempSync(join(os.tmpdir(), 'tsw-vs-ovs-'));
  });

  after(async () => {
    await real?.stop();
    await ours?.stop();
    for (const d of [dirA, dirB]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const report: string[] = [];
  for (const version of ['OpenFlow10', 'OpenFlow13', 'OpenFlow14', 'OpenFlow15']) {
    test(`-O ${version}`, { timeout: 600_000 }, async () => {
      const a = await runOfctlScript('ovs-ofctl', 'br0', real.env, ['-O', version], dirA);
      const b = await runOfctlScript('ovs-ofctl', 'br0', ours.env, ['-O', version], dirB);
      // Both runs use their own temp dir; make the paths compare equal.
      const fix = (rs: StepResult[], dir: string) => rs.map((r) => ({ ...r, stdout: r.stdout.split(dir).join('DIR'), stderr: r.stderr.split(dir).join('DIR') }));
      const diffs = differing(fix(a, dirA), fix(b, dirB));
      report.push(`===== ${version}: ${diffs.length} of ${a.length} steps differ\n${diffs.map((d) => d.text).join('\n')}`);
      if (process.env.TSW_DIFF_OUT) writeFileSync(process.env.TSW_DIFF_OUT, report.join('\n'));
      const known = KNOWN[version] ?? {};
      const unexpected = diffs.filter((d) => !(d.step in known));
      assert.equal(unexpected.length, 0, `${unexpected.length} steps differ:\n${unexpected.slice(0, 15).map((d) => d.text).join('\n')}`);
      const fixed = Object.keys(known).filter((k) => !diffs.some((d) => d.step === k));
      assert.deepEqual(fixed, [], `listed differences that now match; remove them from KNOWN: ${fixed.join(', ')}`);
    });
  }
});
