// The Open vSwitch Python IDL (python3-openvswitch) against tsw-dbserver,
// with Debian's ovsdb-server as the control: it connects, receives the
// monitor, commits a transaction, and sees its own change in its replica.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup, makeTmpDir, repoRoot, run, runOk, schemaPath, startServer, toolEnv, tswDbserverMissing,
  type RunResult, type ServerKind,
} from './harness.js';

// Debian's python3 has the ovs package; a pyenv python3 earlier in PATH may not.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SCRIPT = join(repoRoot, 'test', 'interop', 'pyidl_client.py');

interface IdlRun { result: RunResult; phases: Record<string, unknown>; after: string }

async function runIdl(kind: ServerKind): Promise<IdlRun> {
  const srv = await startServer(kind, makeTmpDir(`pyidl-${kind}`));
  try {
    const env = toolEnv(srv.dir);
    const vsctl = (...a: string[]): Promise<string> => runOk('ovs-vsctl', ['--no-wait', `--db=${srv.remote}`, ...a], { env });
    await vsctl('init');
    await vsctl('add-br', 'br0', '--', 'br-set-external-id', 'br0', 'owner', 'test');
    await vsctl('add-br', 'br1');
    const result = await run(PYTHON, [SCRIPT, srv.remote, schemaPath()], { env, timeoutMs: 30_000 });
    const phases: Record<string, unknown> = {};
    for (const line of result.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const j = JSON.parse(line) as { phase: string };
      phases[j.phase] = j;
    }
    // What a different client sees afterwards: the commit really landed.
    const after = await vsctl('--columns=name,fail_mode,external_ids', 'find', 'Bridge', 'name=pybr', '--', 'br-get-external-id', 'br0', 'pyidl', '--', 'list-br');
    return { result, phases, after };
  } finally {
    await srv.stop();
  }
}

const expectedPhases = {
  initial: {
    phase: 'initial', open_vswitch_rows: 1, bridges_in_root: ['br0', 'br1'],
    bridges: [{ name: 'br0', external_ids: { owner: 'test' } }, { name: 'br1', external_ids: {} }],
  },
  commit: { phase: 'commit', status: 'success', error: null },
  after: {
    phase: 'after', open_vswitch_rows: 1, bridges_in_root: ['br0', 'br1', 'pybr'],
    bridges: [
      { name: 'br0', external_ids: { owner: 'test', pyidl: 'yes' } },
      { name: 'br1', external_ids: {} },
      { name: 'pybr', external_ids: {} },
    ],
  },
};
const expectedAfter = 'name                : pybr\nfail_mode           : secure\nexternal_ids        : {}\nyes\nbr0\nbr1\npybr\n';

describe('OVS Python IDL interop', () => {
  after(cleanup);

  const cases: { kind: ServerKind; skip: string | null }[] = [
    { kind: 'ovs', skip: null },
    { kind: 'tsw', skip: tswDbserverMissing() },
  ];
  for (const c of cases) {
    test(`Python IDL monitors, commits and sees its change on ${c.kind === 'ovs' ? 'ovsdb-server' : 'tsw-dbserver'}`, { skip: c.skip ?? false }, async () => {
      const r = await runIdl(c.kind);
      assert.equal(r.result.code, 0, `python IDL exited ${r.result.code}\nstdout: ${r.result.stdout}\nstderr: ${r.result.stderr}`);
      assert.deepEqual(r.phases, expectedPhases, `stderr: ${r.result.stderr}`);
      assert.equal(r.after, expectedAfter);
    });
  }
});
