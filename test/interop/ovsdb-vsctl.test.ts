// The real ovs-vsctl runs the same script against Debian's ovsdb-server and
// against tsw-dbserver; then tsw-vsctl runs it against the real ovsdb-server.
// Every command's stdout, stderr and exit code must agree once UUIDs,
// timestamps and hash-dependent row order are normalized.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalResult, cleanup, diffResults, makeTmpDir, run, startServer, toolEnv, tswDbserverMissing,
  tswVsctlCommand, tswVsctlMissing, type RunResult, type Server, type ServerKind,
} from './harness.js';
import { VSCTL_SCRIPT } from './vsctl-script.js';

/** A vsctl program: the executable and the arguments before the script's own. */
interface Vsctl { name: string; file: string; pre: string[]; rename?: [string, string] }

const OVS_VSCTL: Vsctl = { name: 'ovs-vsctl', file: 'ovs-vsctl', pre: [] };
const TSW_VSCTL: Vsctl = { name: 'tsw-vsctl', ...tswVsctlCommand(), rename: ['tsw-vsctl', 'ovs-vsctl'] };

async function runScript(vsctl: Vsctl, server: Server): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const step of VSCTL_SCRIPT) {
    const r = await run(vsctl.file, [...vsctl.pre, '--no-wait', `--db=${server.remote}`, ...step.args], { env: toolEnv(server.dir) });
    out.push(canonicalResult(r, step.order, vsctl.rename));
  }
  return out;
}

function compare(a: RunResult[], b: RunResult[], names: [string, string]): string[] {
  const problems: string[] = [];
  VSCTL_SCRIPT.forEach((step, i) => {
    const ra = a[i];
    const rb = b[i];
    if (ra && rb) problems.push(...diffResults(`#${i} ${step.args.join(' ')}`, ra, rb, names));
  });
  return problems;
}

async function freshServer(kind: ServerKind): Promise<Server> {
  return startServer(kind, makeTmpDir(`vsctl-${kind}`));
}

// The reference run: real ovs-vsctl against the real ovsdb-server, computed once.
let reference: Promise<RunResult[]> | null = null;
function referenceResults(): Promise<RunResult[]> {
  reference ??= freshServer('ovs').then(async (srv) => {
    try { return await runScript(OVS_VSCTL, srv); } finally { await srv.stop(); }
  });
  return reference;
}

describe('ovs-vsctl interop', () => {
  after(cleanup);

  test('the script is broad and the reference server accepts it', async () => {
    const ref = await referenceResults();
    assert.ok(VSCTL_SCRIPT.length >= 70, `script has only ${VSCTL_SCRIPT.length} commands`);
    const failures = ref.filter((r) => r.code !== 0).length;
    assert.ok(failures >= 10, `only ${failures} error cases in the script`);
    const crashed = ref.map((r, i) => [r, i] as const).filter(([r]) => r.code > 2)
      .map(([r, i]) => `#${i} ${VSCTL_SCRIPT[i]?.args.join(' ')} exited ${r.code}`);
    assert.deepEqual(crashed, [], 'reference run has unexpected exit codes');
  });

  test('ovs-vsctl gives identical results on ovsdb-server and tsw-dbserver', { skip: tswDbserverMissing() ?? false }, async () => {
    const tsw = await freshServer('tsw');
    const [ref, got] = await Promise.all([referenceResults(), runScript(OVS_VSCTL, tsw)]);
    await tsw.stop();
    const problems = compare(ref, got, ['ovsdb-server', 'tsw-dbserver']);
    assert.equal(problems.length, 0, `${problems.length} mismatches:\n${problems.join('\n')}`);
  });

  test('tsw-vsctl against the real ovsdb-server gives the same results as ovs-vsctl', { skip: tswVsctlMissing() ?? false }, async () => {
    const ovs = await freshServer('ovs');
    const [ref, got] = await Promise.all([referenceResults(), runScript(TSW_VSCTL, ovs)]);
    await ovs.stop();
    const problems = compare(ref, got, ['ovs-vsctl', 'tsw-vsctl']);
    assert.equal(problems.length, 0, `${problems.length} mismatches:\n${problems.join('\n')}`);
  });

  // Without --no-wait and with no vswitchd to bump cur_cfg, ovs-vsctl commits
  // and then waits; -t 1 makes it die from SIGALRM (shell status 142).
  const waits: { label: string; kind: ServerKind; vsctl: Vsctl; skip: string | null }[] = [
    { label: 'ovs-vsctl on ovsdb-server', kind: 'ovs', vsctl: OVS_VSCTL, skip: null },
    { label: 'ovs-vsctl on tsw-dbserver', kind: 'tsw', vsctl: OVS_VSCTL, skip: tswDbserverMissing() },
    { label: 'tsw-vsctl on ovsdb-server', kind: 'ovs', vsctl: TSW_VSCTL, skip: tswVsctlMissing() },
  ];
  for (const w of waits) {
    test(`waiting for vswitchd times out with 142: ${w.label}`, { skip: w.skip ?? false }, async () => {
      const srv = await freshServer(w.kind);
      const db = `--db=${srv.remote}`;
      const env = toolEnv(srv.dir);
      const init = await run(w.vsctl.file, [...w.vsctl.pre, '--no-wait', db, 'init'], { env });
      assert.equal(init.code, 0, init.stderr);
      const t0 = Date.now();
      const r = await run(w.vsctl.file, [...w.vsctl.pre, '-t', '1', db, 'add-br', 'brX'], { env, timeoutMs: 10_000 });
      const took = Date.now() - t0;
      assert.equal(r.code, 142, `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`);
      assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
      // The transaction stays committed, and next_cfg was bumped for vswitchd.
      const br = await run('ovs-vsctl', ['--no-wait', db, 'list-br'], { env });
      assert.equal(br.stdout, 'brX\n');
      const cfg = await run('ovs-vsctl', ['--no-wait', db, 'get', 'Open_vSwitch', '.', 'next_cfg', 'cur_cfg'], { env });
      assert.equal(cfg.stdout, '1\n0\n');
      await srv.stop();
    });
  }
});
