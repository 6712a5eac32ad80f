import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import {
  JsonRpcConnection, JsonRpcError, JsonStreamParser, messageFromJson, serializeMessage, connectStream, listenStream,
  parseActiveTarget, parsePassiveTarget, type StreamListener, type RequestMessage,
} from '../../src/lib/index.js';

function collect(parser: JsonStreamParser, chunks: (string | Buffer)[]): unknown[] {
  const out: unknown[] = [];
  for (const c of chunks) parser.push(typeof c === 'string' ? Buffer.from(c) : c, (v) => { out.push(v); });
  return out;
}

describe('JsonStreamParser', () => {
  it('splits several concatenated objects in one chunk, with or without whitespace', () => {
    const p = new JsonStreamParser(1 << 20);
    assert.deepEqual(collect(p, ['{"a":1}{"b":2}\n {"c":[1,{"d":3}]}\r\n\t']), [{ a: 1 }, { b: 2 }, { c: [1, { d: 3 }] }]);
    assert.ok(p.idle);
  });

  it('joins an object split across reads at every possible byte boundary', () => {
    const text = '{"id":1,"method":"transact","params":["db",{"s":"x}\\"{]["}]}{"id":2,"result":{}}';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new JsonStreamParser(1 << 20);
      const got = collect(p, [text.slice(0, cut), text.slice(cut)]);
      assert.equal(got.length, 2, `cut at ${cut}`);
      assert.deepEqual(got[0], { id: 1, method: 'transact', params: ['db', { s: 'x}"{][' }] });
    }
  });

  it('handles one byte per read, escaped backslashes before quotes, and UTF-8 split mid-character', () => {
    const value = { s: 'a\\', t: '\\"}', u: 'héllo → 世界', v: '\u0000' };
    const bytes = Buffer.from(JSON.stringify(value) + JSON.stringify({ n: 1 }));
    const p = new JsonStreamParser(1 << 20);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    assert.deepEqual(collect(p, chunks), [value, { n: 1 }]);
  });

  it('property: any objects, any whitespace between them, any split points', () => {
    const obj = fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue());
    fc.assert(fc.property(fc.array(fc.tuple(obj, fc.constantFrom('', ' ', '\n', '\r\n\t')), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 5 }), (values, cuts) => {
        const bytes = Buffer.from(values.map(([v, ws]) => JSON.stringify(v) + ws).join(''));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) { chunks.push(bytes.subarray(prev, p)); prev = p; }
        const got = collect(new JsonStreamParser(1 << 20), chunks);
        assert.deepEqual(got, values.map(([v]) => JSON.parse(JSON.stringify(v))));
      }), { numRuns: 300 });
  });

  it('rejects top-level values that are not objects', () => {
    for (const bad of ['[1,2]', '"str"', '42', 'null', '}']) {
      const p = new JsonStreamParser(1 << 20);
      assert.throws(() => collect(p, [bad]), (e: unknown) => e instanceof JsonRpcError && e.kind === 'syntax', bad);
    }
  });

  it('rejects malformed JSON inside balanced braces', () => {
    const p = new JsonStreamParser(1 << 20);
    assert.throws(() => collect(p, ['{"a":}']), (e: unknown) => e instanceof JsonRpcError && e.kind === 'syntax');
  });

  it('enforces the size limit within one chunk and across chunks', () => {
    const small = new JsonStreamParser(16);
    assert.deepEqual(collect(small, ['{"a":"0123456"}']), [{ a: '0123456' }]);   // 15 bytes: fine
    assert.throws(() => collect(small, ['{"a":"012345678"}']), (e: unknown) => e instanceof JsonRpcError && e.kind === 'too-big');
    const split = new JsonStreamParser(16);
    collect(split, ['{"a":"0123']);
    assert.throws(() => collect(split, ['4567890123']), (e: unknown) => e instanceof JsonRpcError && e.kind === 'too-big');
  });

  it('delivers the messages that precede a bad one', () => {
    const p = new JsonStreamParser(1 << 20);
    const out: unknown[] = [];
    assert.throws(() => p.push(Buffer.from('{"a":1}{"b":2}x'), (v) => { out.push(v); }));
    assert.deepEqual(out, [{ a: 1 }, { b: 2 }]);
  });

  it('parses a 20 MB stream of small messages quickly', () => {
    const one = JSON.stringify({ id: 7, method: 'transact', params: ['Open_vSwitch', { op: 'select', table: 'Bridge', where: [] }] });
    const buf = Buffer.from(one.repeat(100_000));
    const p = new JsonStreamParser(1 << 20);
    let n = 0;
    const t0 = performance.now();
    for (let off = 0; off < buf.length; off += 65536) p.push(buf.subarray(off, off + 65536), () => { n++; });
    const ms = performance.now() - t0;
    assert.equal(n, 100_000);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });
});

describe('messageFromJson (OVS validity rules)', () => {
  it('classifies request, notification, reply and error; null members count as absent', () => {
    assert.deepEqual(messageFromJson({ id: 1, method: 'echo', params: [] }), { type: 'request', method: 'echo', params: [], id: 1 });
    assert.deepEqual(messageFromJson({ id: null, method: 'update', params: [1] }), { type: 'notify', method: 'update', params: [1] });
    assert.deepEqual(messageFromJson({ method: 'update', params: [] }), { type: 'notify', method: 'update', params: [] });
    assert.deepEqual(messageFromJson({ id: 'x', result: {}, error: null }), { type: 'reply', result: {}, id: 'x' });
    assert.deepEqual(messageFromJson({ id: 3, error: 'unknown method' }), { type: 'error', error: 'unknown method', id: 3 });
    assert.deepEqual(messageFromJson({ id: 3, error: 'e', result: null }), { type: 'error', error: 'e', id: 3 });
  });

  const invalid: [unknown, string][] = [
    [{ id: 1, method: 'echo', params: [], jsonrpc: '2.0' }, 'message has unexpected member "jsonrpc"'],
    [{ id: 1, method: 'echo', params: {} }, '"params" must be JSON array'],
    [{ id: 1, method: 'echo' }, 'request must have "params"'],
    [{ id: 1, method: 7, params: [] }, 'method is not a JSON string'],
    [{ id: 1, method: null, params: [] }, 'method is not a JSON string'],
    [{ id: 1, params: [] }, 'request must have "method"'],
    [{ id: 1, result: null, error: null }, 'request must have "method"'],   // a null result makes it a request
    [{ result: 1 }, 'reply must have "id"'],
    [{ id: 1, result: 1, error: 'x' }, 'reply must not have "error"'],
    [{ id: 1, result: 1, method: 'm' }, 'reply must not have "method"'],
    [{ error: 'x' }, 'error must have "id"'],
    [[1, 2], 'message is not a JSON object'],
  ];
  for (const [json, text] of invalid) {
    it(`rejects ${JSON.stringify(json)}`, () => {
      assert.throws(() => messageFromJson(json), (e: unknown) => e instanceof JsonRpcError && e.kind === 'protocol' && e.message === text);
    });
  }

  it('serializes in exactly the shapes ovsdb-server sends', () => {
    assert.equal(serializeMessage({ type: 'reply', id: 1, result: [{}] }), '{"id":1,"result":[{}],"error":null}');
    assert.equal(serializeMessage({ type: 'error', id: 2, error: 'unknown method' }), '{"id":2,"error":"unknown method"}');
    assert.equal(serializeMessage({ type: 'notify', method: 'update3', params: [1] }), '{"id":null,"method":"update3","params":[1]}');
    assert.equal(serializeMessage({ type: 'request', id: 4, method: 'echo', params: [] }), '{"id":4,"method":"echo","params":[]}');
  });
});

describe('JsonRpcConnection over a unix socket', () => {
  let dir: string;
  let listener: StreamListener;
  const serverConns: JsonRpcConnection[] = [];

  before(async () => {
    dir = fs.mkdtempSync(os.tmpdir() + '/tsw-');
    listener = await listenStream(`punix:${dir}/db.sock`, (socket) => {
      const conn = new JsonRpcConnection(socket, { name: 'server', maxMessageBytes: 4096 });
      serverConns.push(conn);
      conn.on('request', (req: RequestMessage) => {
        if (req.method === 'add') conn.reply(req.id, (req.params as number[]).reduce((a, b) => a + b, 0));
        else if (req.method === 'later') setTimeout(() => conn.reply(req.id, 'late'), 20);
        else if (req.method === 'notify-me') { conn.notify('hello', [req.params[0]]); conn.reply(req.id, {}); }
        else conn.replyError(req.id, 'unknown method');
      });
    });
  });

  after(async () => {
    await listener.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0750 and replaces a stale one', async () => {
    assert.equal(fs.statSync(`${dir}/db.sock`).mode & 0o777, 0o750);
    const stale = net.createServer().listen(`${dir}/stale.sock`);
    await new Promise((r) => stale.once('listening', r));
    // Simulate a crashed process: the file stays, nobody listens.
    await new Promise((r) => { stale.close(r); fs.writeFileSync(`${dir}/marker`, ''); });
    const l2 = await listenStream(`punix:${dir}/stale.sock`, (s) => s.end());
    await l2.close();
    assert.equal(fs.existsSync(`${dir}/stale.sock`), false);
  });

  it('matches replies to requests, keeps order, delivers notifications and rejects error replies', async () => {
    const client = new JsonRpcConnection(await connectStream(`unix:${dir}/db.sock`));
    const notes: unknown[] = [];
    client.on('notify', (m) => notes.push(m.params));
    const results = await Promise.all([client.request('later', []), client.request('add', [1, 2, 3]), client.request('notify-me', ['x'])]);
    assert.deepEqual(results, ['late', 6, {}]);
    assert.deepEqual(notes, [['x']]);
    await assert.rejects(client.request('nosuch', []), (e: unknown) => e instanceof JsonRpcError && e.kind === 'remote' && e.remoteError === 'unknown method');
    client.close();
  });

  it('answers echo automatically with the params as result, on the wire', async () => {
    const raw = await connectStream(`unix:${dir}/db.sock`);
    raw.write('{"method":"echo","params":["a",1],"id":"echo"}');
    const reply = await new Promise<string>((r) => raw.once('data', (d: Buffer) => r(d.toString())));
    assert.equal(reply, '{"id":"echo","result":["a",1],"error":null}');
    raw.destroy();
  });

  it('closes the connection (no crash) on malformed JSON, on invalid messages and on oversized ones', async () => {
    for (const bad of ['{"id":1,,}', '[1,2]', '{"id":1,"method":"add","params":[],"jsonrpc":"2.0"}', `{"id":1,"method":"add","params":["${'x'.repeat(5000)}"]}`]) {
      const before = serverConns.length;
      const raw = await connectStream(`unix:${dir}/db.sock`);
      await new Promise((r) => setImmediate(r));
      assert.equal(serverConns.length, before + 1);
      const serverConn = serverConns[before];
      const errors: JsonRpcError[] = [];
      serverConn.on('error', (e) => errors.push(e));
      const closed = new Promise<JsonRpcError | null>((r) => serverConn.once('close', r));
      raw.write(bad);
      const err = await closed;
      assert.ok(err instanceof JsonRpcError, bad.slice(0, 30));
      assert.equal(errors.length, 1);
      await new Promise((r) => raw.once('close', r));
    }
  });

  it('rejects outstanding requests when the peer goes away', async () => {
    const client = new JsonRpcConnection(await connectStream(`unix:${dir}/db.sock`));
    const p = client.request('later', []);
    const server = serverConns[serverConns.length - 1];
    await new Promise((r) => setImmediate(r));
    server.stream.destroy();
    await assert.rejects(p, (e: unknown) => e instanceof JsonRpcError && e.kind === 'closed');
    assert.equal(client.isOpen, false);
  });
});

describe('JsonRpcConnection inactivity probes', () => {
  it('sends an echo probe after the interval and disconnects when nothing answers', async () => {
    const a = new PassThrough();   // what the connection writes
    const b = new PassThrough();   // what it reads
    const duplex = new (await import('node:stream')).Duplex({
      read() { /* fed by b */ },
      write(chunk, _enc, cb) { a.write(chunk); cb(); },
    });
    b.on('data', (d) => duplex.push(d));
    const written: string[] = [];
    a.on('data', (d: Buffer) => written.push(d.toString()));
    // Probe timers are unref'd (a real socket keeps the process alive); this in-memory stream does not.
    const keepAlive = setInterval(() => undefined, 1000);
    const conn = new JsonRpcConnection(duplex, { probeIntervalMs: 50 });
    const closed = new Promise<JsonRpcError | null>((r) => conn.once('close', r));
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(written, ['{"id":"echo","method":"echo","params":[]}']);
    const err = await closed;
    clearInterval(keepAlive);
    assert.equal(err?.kind, 'timeout');
    assert.match(err!.message, /no response to inactivity probe after 0\.05 seconds, disconnecting/);
  });

  it('stays up while the peer answers probes', async () => {
    const dir = fs.mkdtempSync(os.tmpdir() + '/tsw-');
    const l = await listenStream(`punix:${dir}/p.sock`, (s) => { new JsonRpcConnection(s); });
    const client = new JsonRpcConnection(await connectStream(`unix:${dir}/p.sock`), { probeIntervalMs: 30 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(client.isOpen, true);
    client.close();
    await l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('stream targets', () => {
  it('parses active and passive OVS target syntax', () => {
    assert.deepEqual(parseActiveTarget('unix:/run/db.sock'), { kind: 'unix', path: '/run/db.sock' });
    assert.deepEqual(parseActiveTarget('tcp:127.0.0.1:6641'), { kind: 'tcp', host: '127.0.0.1', port: 6641 });
    assert.deepEqual(parseActiveTarget('tcp:127.0.0.1'), { kind: 'tcp', host: '127.0.0.1', port: 6640 });
    assert.deepEqual(parseActiveTarget('ssl:[::1]:6643'), { kind: 'ssl', host: '::1', port: 6643 });
    assert.deepEqual(parseActiveTarget('tcp:[::1]'), { kind: 'tcp', host: '::1', port: 6640 });
    assert.deepEqual(parsePassiveTarget('ptcp:6641'), { kind: 'ptcp', host: '0.0.0.0', port: 6641 });
    assert.deepEqual(parsePassiveTarget('ptcp:0:127.0.0.1'), { kind: 'ptcp', host: '127.0.0.1', port: 0 });
    assert.deepEqual(parsePassiveTarget('pssl:6643:[::1]'), { kind: 'pssl', host: '::1', port: 6643 });
    assert.deepEqual(parsePassiveTarget('ptcp:'), { kind: 'ptcp', host: '0.0.0.0', port: 6640 });
    assert.deepEqual(parsePassiveTarget('punix:/x.sock'), { kind: 'punix', path: '/x.sock' });
    assert.throws(() => parseActiveTarget('tcp:1.2.3.4:99999'), /bad port/);
    assert.throws(() => parseActiveTarget('udp:1.2.3.4:1'), /unknown stream type/);
    assert.throws(() => parseActiveTarget('unix:'), /missing socket path/);
  });

  it('round-trips over tcp loopback on an ephemeral port', async () => {
    const l = await listenStream('ptcp:0:127.0.0.1', (s) => {
      const c = new JsonRpcConnection(s);
      c.on('request', (r) => c.reply(r.id, r.params));
    });
    const port = Number(/^ptcp:(\d+):127\.0\.0\.1$/.exec(l.boundName)![1]);
    const client = new JsonRpcConnection(await connectStream(`tcp:127.0.0.1:${port}`));
    assert.deepEqual(await client.request('x', [1, 'two']), [1, 'two']);
    client.close();
    await l.close();
  });

  it('reports a failed connect, and SSL without key files, as rejected promises', async () => {
    await assert.rejects(connectStream('unix:/nonexistent/tsw.sock'), /ENOENT/);
    await assert.rejects(listenStream('pssl:0:127.0.0.1', () => undefined), /private key/);
    await assert.rejects(connectStream('ssl:127.0.0.1:1', { tls: { privateKey: '/nonexistent' } }), /ENOENT/);
  });
});

describe('ssl: and pssl: (mutual TLS)', () => {
  const dir = fs.mkdtempSync(os.tmpdir() + '/tsw-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  }
  function keyAndCert(name: string, signer: string | null): void {
    const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`];
    if (!signer) {
      openssl(['req', '-x509', ...key, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`]);
      return;
    }
    openssl(['req', ...key, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '1']);
  }

  it('connects a client with a CA-signed certificate and refuses one without', async () => {
    keyAndCert('ca', null);
    keyAndCert('server', 'ca');
    keyAndCert('client', 'ca');
    keyAndCert('rogue', null);
    const files = (n: string, ca = 'ca') => ({ privateKey: `${dir}/${n}.key`, certificate: `${dir}/${n}.pem`, caCert: `${dir}/${ca}.pem` });
    const l = await listenStream('pssl:0:127.0.0.1', (s) => {
      const c = new JsonRpcConnection(s);
      c.on('request', (r) => c.reply(r.id, 'secure'));
    }, { tls: files('server') });
    const port = Number(l.boundName.split(':')[1]);
    const client = new JsonRpcConnection(await connectStream(`ssl:127.0.0.1:${port}`, { tls: files('client') }));
    assert.equal(await client.request('x', []), 'secure');
    client.close();
    // A client whose certificate the server's CA did not sign gets no service.
    // (With TLS 1.3 the client may finish its handshake before the server rejects it, so either step may fail.)
    await assert.rejects(connectStream(`ssl:127.0.0.1:${port}`, { tls: files('rogue') })
      .then((s) => new JsonRpcConnection(s).request('x', [])));
    await l.close();
  });
});
