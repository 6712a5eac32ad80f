import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { connectStream, UnixctlError, UnixctlServer, unixctlCall, vlogModule, vlogRegisterCommands } from '../../src/lib/index.js';

interface Run { code: number; stdout: string; stderr: string }

function appctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile('ovs-appctl', args, { env: { ...process.env, ...env }, timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('UnixctlServer with the real ovs-appctl', () => {
  let dir: string;
  let server: UnixctlServer;
  let ctl: string;

  before(async () => {
    dir = fs.mkdtempSync(os.tmpdir() + '/tsw-');
    server = await UnixctlServer.create({ path: `${dir}/tsw-test.ctl`, program: 'tsw-test', version: '1.2.3' });
    ctl = server.path!;
    vlogModule('unixctl_test');
    vlogRegisterCommands(server);
    server.register('fdb/show', 'bridge', 1, 1, (args) => ` port  VLAN  MAC                Age\n(${args[0]})`);
    server.register('slow', '', 0, 0, () => new Promise<string>((r) => setTimeout(() => r('slow done'), 30)));
    server.register('fail', '', 0, 0, () => { throw new UnixctlError('multicast snooping is disabled'); });
    server.register('hidden', null, 0, 0, () => 'you found me');
    // The argument order of the shared contract in docs/HELPERS.md works too.
    server.register('ofproto/list', 0, 0, '', () => 'br0');
  });

  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists commands sorted, with usage padded like OVS, hiding null-usage commands', async () => {
    const r = await appctl(['-t', ctl, 'list-commands']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'The available commands are:');
    assert.ok(lines.includes('  fdb/show                bridge'));
    assert.ok(lines.includes('  list-commands           '));
    assert.ok(lines.includes('  vlog/set                {spec | PATTERN:destination:pattern}'));
    assert.ok(!r.stdout.includes('hidden'));
    const names = lines.slice(1).filter((l) => l).map((l) => l.trim().split(' ')[0]);
    assert.deepEqual(names, [...names].sort());
  });

  it('answers version as "<program> (tsw) <version>"', async () => {
    const r = await appctl(['-t', ctl, 'version']);
    assert.deepEqual(r, { code: 0, stdout: 'tsw-test (tsw) 1.2.3\n', stderr: '' });
  });

  it('passes arguments and appends the missing newline', async () => {
    const r = await appctl(['-t', ctl, 'fdb/show', 'br0']);
    assert.equal(r.stdout, ' port  VLAN  MAC                Age\n(br0)\n');
    assert.equal((await appctl(['-t', ctl, 'hidden'])).stdout, 'you found me\n');
    assert.equal((await appctl(['-t', ctl, 'slow'])).stdout, 'slow done\n');
  });

  it('fails unknown commands and wrong argument counts with OVS text and exit status 2', async () => {
    let r = await appctl(['-t', ctl, 'nosuch']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '"nosuch" is not a valid command (use "list-commands" to see a list of valid commands)\n'
      + `ovs-appctl: ${ctl}: server returned an error\n`);
    r = await appctl(['-t', ctl, 'fdb/show']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^"fdb\/show" command requires at least 1 arguments\n/);
    r = await appctl(['-t', ctl, 'version', 'extra']);
    assert.match(r.stderr, /^"version" command takes at most 0 arguments\n/);
    r = await appctl(['-t', ctl, 'fail']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^multicast snooping is disabled\n/);
  });

  it('serves vlog/list and vlog/set', async () => {
    let r = await appctl(['-t', ctl, 'vlog/set', 'unixctl_test:file:dbg']);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    r = await appctl(['-t', ctl, 'vlog/list']);
    assert.match(r.stdout, /^ {17}console {4}syslog {4}file\n {17}------- {4}------ {4}------\n/);
    assert.match(r.stdout, /\nunixctl_test {6}INFO {7}INFO {8}DBG\n/);
    r = await appctl(['-t', ctl, 'vlog/set', 'nosuchmodule:dbg']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^no destination, level, or module "nosuchmodule"\n/);
  });

  it('answers the raw wire format of Appendix A.1, in order, for pipelined requests', async () => {
    const raw = await connectStream(`unix:${ctl}`);
    let got = '';
    raw.on('data', (d: Buffer) => { got += d.toString(); });
    raw.write('{"id":0,"method":"slow","params":[]}{"id":"x","method":"nosuch","params":[]}{"id":2,"method":"fdb/show","params":[7]}');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(got, '{"id":0,"result":"slow done\\n","error":null}'
      + '{"id":"x","error":"\\"nosuch\\" is not a valid command (use \\"list-commands\\" to see a list of valid commands)\\n"}'
      + '{"id":2,"error":"\\"fdb/show\\" command has non-string argument\\n"}');
    raw.destroy();
  });

  it('unixctlCall returns the text or throws UnixctlError', async () => {
    assert.equal(await unixctlCall(ctl, 'ofproto/list'), 'br0\n');
    await assert.rejects(unixctlCall(ctl, 'fail'), (e: unknown) => e instanceof UnixctlError && e.message === 'multicast snooping is disabled\n');
  });
});
