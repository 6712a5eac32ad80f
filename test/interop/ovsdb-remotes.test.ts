// Remote managers: the real ovs-vsctl reaches tsw-dbserver over ptcp: and over
// pssl: with mutual TLS, and a client whose certificate no trusted CA signed is
// turned away. Run against Debian's ovsdb-server too, as the control.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cleanup, makeTmpDir, run, runOk, startServer, tswDbserverMissing, type ServerKind } from './harness.js';

const KINDS: { kind: ServerKind; skip: string | null }[] = [
  { kind: 'ovs', skip: null },
  { kind: 'tsw', skip: tswDbserverMissing() },
];

after(cleanup);

/** A port nobody listens on right now (bound then released by the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

interface Pki { ca: string; serverKey: string; serverCert: string; clientKey: string; clientCert: string; rogueKey: string; rogueCert: string }

/** A CA, a server and a client certificate it signed, and a client signed by another CA. */
async function makePki(dir: string): Promise<Pki> {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => runOk('openssl', args);
  const selfSigned = (key: string, cert: string, cn: string) =>
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`);
  const signed = async (name: string, caKey: string, caCert: string) => {
    await ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
    await ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2');
  };
  await selfSigned(f('ca.key'), f('ca.pem'), 'tsw test CA');
  await selfSigned(f('rogue-ca.key'), f('rogue-ca.pem'), 'rogue CA');
  await signed('server', f('ca.key'), f('ca.pem'));
  await signed('client', f('ca.key'), f('ca.pem'));
  await signed('rogue', f('rogue-ca.key'), f('rogue-ca.pem'));
  return {
    ca: f('ca.pem'), serverKey: f('server.key'), serverCert: f('server.pem'),
    clientKey: f('client.key'), clientCert: f('client.pem'), rogueKey: f('rogue.key'), rogueCert: f('rogue.pem'),
  };
}

for (const { kind, skip } of KINDS) {
  describe(`remotes on ${kind === 'ovs' ? 'ovsdb-server' : 'tsw-dbserver'}`, { skip: skip ?? false }, () => {
    test('ovs-vsctl works over ptcp:', async () => {
      const dir = makeTmpDir(`remote-tcp-${kind}`);
      const port = await freePort();
      const srv = await startServer(kind, dir, { extraArgs: [`--remote=ptcp:${port}:127.0.0.1`] });
      const db = `--db=tcp:127.0.0.1:${port}`;
      // The unix socket answers first: the tcp listener may still be coming up.
      await runOk('ovs-vsctl', [`--db=${srv.remote}`, '--no-wait', 'init']);
      await runOk('ovs-vsctl', [db, '--no-wait', 'add-br', 'br0']);
      assert.equal(await runOk('ovs-vsctl', [db, '--no-wait', 'list-br']), 'br0\n');
      await srv.stop();
    });

    test('pssl: with mutual TLS lets a client signed by the CA in and keeps others out', async () => {
      const dir = makeTmpDir(`remote-ssl-${kind}`);
      const pki = await makePki(dir);
      const port = await freePort();
      const srv = await startServer(kind, dir, {
        extraArgs: [`--remote=pssl:${port}:127.0.0.1`, `--private-key=${pki.serverKey}`, `--certificate=${pki.serverCert}`, `--ca-cert=${pki.ca}`],
      });
      await runOk('ovs-vsctl', [`--db=${srv.remote}`, '--no-wait', 'init']);
      const db = `--db=ssl:127.0.0.1:${port}`;
      const good = [db, `--private-key=${pki.clientKey}`, `--certificate=${pki.clientCert}`, `--ca-cert=${pki.ca}`];
      await runOk('ovs-vsctl', [...good, '--no-wait', 'add-br', 'br-ssl']);
      assert.equal(await runOk('ovs-vsctl', [...good, '--no-wait', 'list-br']), 'br-ssl\n');

      const rogue = [db, `--private-key=${pki.rogueKey}`, `--certificate=${pki.rogueCert}`, `--ca-cert=${pki.ca}`];
      const r = await run('ovs-vsctl', [...rogue, '--timeout=3', '--no-wait', 'add-br', 'br-rogue'], { timeoutMs: 15_000 });
      assert.notEqual(r.code, 0, `a client with an untrusted certificate must be refused:\n${r.stdout}${r.stderr}`);
      assert.equal(await runOk('ovs-vsctl', [`--db=${srv.remote}`, '--no-wait', 'list-br']), 'br-ssl\n');
      await srv.stop();
    });
  });
}
