import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApiClient } from '../../src/databricks/contracts';
import { DatabricksApiError, isNotFound } from '../../src/databricks/errors';
import { DBFS_BLOCK_BYTES, FilesClient, RemotePathError, encodePathSegments, parseRemotePath } from '../../src/databricks/files';
import { startContext, type TestContext } from '../mlflow/helpers';
import { rejectsWith } from '../helpers/rejects';

const MB = 1024 * 1024;

describe('parseRemotePath(remotePath)', () => {
  it('classifies /Volumes and dbfs:/ paths', () => {
    assert.deepEqual(parseRemotePath('/Volumes/main/ml/data/preds.arrow'), { kind: 'volume', path: '/Volumes/main/ml/data/preds.arrow' });
    assert.deepEqual(parseRemotePath('dbfs:/FileStore/models/m.pkl'), { kind: 'dbfs', path: '/FileStore/models/m.pkl' });
  });

  it('rejects traversal, empty segments, other schemes and non-file paths with a clear message', () => {
    const cases: Array<[string, RegExp]> = [
      ['/Volumes/main/ml/data/../secret', /contains a '\.\.' segment/],
      ['dbfs:/a/./b', /contains a '\.' segment/],
      ['/Volumes/main//ml/data/x', /empty segment/],
      ['s3://bucket/key', /unsupported scheme/],
      ['abfss://c@acct.dfs.core.windows.net/x', /unsupported scheme/],
      ['https://example.com/x', /unsupported scheme/],
      ['dbfs://host/x', /must look like dbfs:\/path\/to\/file/],
      ['/dbfs/FileStore/x', /write it as dbfs:\/FileStore\/x/],
      ['/Volumes/main/ml/data', /must name a file inside a volume/],
      ['/Workspace/Users/x', /neither a Unity Catalog volume path/],
      ['relative/path', /neither/],
      ['/Volumes/main/ml/data/dir/', /ends with '\/'/],
      ['/Volumes/main/ml/data/a\nb', /control character/],
      ['/Volumes/main/ml/data\\x', /backslash/],
      ['', /empty/],
    ];
    for (const [p, re] of cases)
      assert.throws(
        () => parseRemotePath(p),
        (e: unknown) => e instanceof RemotePathError && re.test(e.message),
        p,
      );
  });

  it('encodePathSegments percent-encodes each segment and keeps the slashes', () => {
    assert.equal(encodePathSegments('/Volumes/main/ml/my data/a#b?.txt'), '/Volumes/main/ml/my%20data/a%23b%3F.txt');
  });
});

describe('FilesClient against the emulator', () => {
  let ctx: TestContext;
  let files: FilesClient;
  let dir: string;

  beforeEach(async () => {
    ctx = await startContext();
    files = new FilesClient(ctx.api);
    dir = mkdtempSync(path.join(tmpdir(), 'files-test-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await ctx.emu.close();
  });

  it('download(/Volumes/...) streams the bytes to disk through GET /api/2.0/fs/files{path}', async () => {
    const bytes = randomBytes(3 * MB + 17);
    ctx.emu.files.write('/Volumes/main/ml/eval data/preds.arrow', bytes);
    const to = path.join(dir, 'sub', 'preds.arrow');
    assert.deepEqual(await files.download('/Volumes/main/ml/eval data/preds.arrow', to), { bytes: bytes.length });
    assert.ok(readFileSync(to).equals(bytes));
    assert.deepEqual(
      ctx.emu.requests.map((r) => [r.method, r.path, r.status]),
      [['GET', '/api/2.0/fs/files/Volumes/main/ml/eval%20data/preds.arrow', 200]],
    );
    assert.deepEqual(readdirSync(path.join(dir, 'sub')), ['preds.arrow'], 'no temporary file left behind');
  });

  it('download of a missing volume file is a 404 error and leaves no file', async () => {
    const to = path.join(dir, 'x.bin');
    await rejectsWith(files.download('/Volumes/main/ml/data/missing.bin', to), 404, 'NOT_FOUND');
    assert.equal(existsSync(to), false);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('download above maxBytes fails and leaves no file', async () => {
    ctx.emu.files.write('/Volumes/main/ml/data/big.bin', randomBytes(4096));
    await assert.rejects(files.download('/Volumes/main/ml/data/big.bin', path.join(dir, 'big.bin'), { maxBytes: 1000 }));
    assert.deepEqual(readdirSync(dir), []);
    ctx.emu.files.write('dbfs:/FileStore/big.bin', randomBytes(4096));
    await assert.rejects(
      files.download('dbfs:/FileStore/big.bin', path.join(dir, 'big.bin'), { maxBytes: 1000 }),
      /is 4096 bytes, above the limit of 1000 bytes/,
    );
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/dbfs/read').length, 0);
  });

  it('download(dbfs:/...) of a 2.5 MB file: get-status, then exactly 3 read calls of at most 1 MB (base64), bytes identical', async () => {
    const bytes = randomBytes(Math.floor(2.5 * MB));
    ctx.emu.files.write('dbfs:/FileStore/models/model.pkl', bytes);
    const to = path.join(dir, 'model.pkl');
    assert.deepEqual(await files.download('dbfs:/FileStore/models/model.pkl', to), { bytes: bytes.length });
    assert.ok(readFileSync(to).equals(bytes));
    assert.deepEqual(
      ctx.emu.callsTo('GET', '/api/2.0/dbfs/get-status').map((r) => r.query),
      [{ path: '/FileStore/models/model.pkl' }],
    );
    assert.deepEqual(
      ctx.emu.callsTo('GET', '/api/2.0/dbfs/read').map((r) => r.query),
      [
        { path: '/FileStore/models/model.pkl', offset: '0', length: String(MB) },
        { path: '/FileStore/models/model.pkl', offset: String(MB), length: String(MB) },
        { path: '/FileStore/models/model.pkl', offset: String(2 * MB), length: String(bytes.length - 2 * MB) },
      ],
    );
  });

  it('download(dbfs:/...) of an exact 2 MB file makes exactly 2 read calls; an empty file makes none', async () => {
    ctx.emu.files.write('dbfs:/x/two.bin', randomBytes(2 * MB));
    await files.download('dbfs:/x/two.bin', path.join(dir, 'two.bin'));
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/dbfs/read').length, 2);
    ctx.emu.files.write('dbfs:/x/empty.bin', Buffer.alloc(0));
    assert.deepEqual(await files.download('dbfs:/x/empty.bin', path.join(dir, 'empty.bin')), { bytes: 0 });
    assert.equal(readFileSync(path.join(dir, 'empty.bin')).length, 0);
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/dbfs/read').length, 2);
  });

  it('a transient 503 on one DBFS read is retried (reads are idempotent) and the file is still exact', async () => {
    const bytes = randomBytes(MB + 5);
    ctx.emu.files.write('dbfs:/x/f.bin', bytes);
    ctx.emu.faults.add({ path: '/api/2.0/dbfs/read', kind: 'status', status: 503, afterCalls: 1 });
    await files.download('dbfs:/x/f.bin', path.join(dir, 'f.bin'));
    assert.ok(readFileSync(path.join(dir, 'f.bin')).equals(bytes));
    assert.deepEqual(
      ctx.emu.callsTo('GET', '/api/2.0/dbfs/read').map((r) => [r.query.offset, r.status]),
      [
        ['0', 200],
        [String(MB), 503],
        [String(MB), 200],
      ],
    );
  });

  it('the emulated DBFS read refuses more than 1 MB (MAX_READ_SIZE_EXCEEDED) and a missing file is RESOURCE_DOES_NOT_EXIST', async () => {
    ctx.emu.files.write('dbfs:/x/f.bin', randomBytes(10));
    await rejectsWith(
      ctx.api.request({ method: 'GET', path: '/api/2.0/dbfs/read', query: { path: '/x/f.bin', offset: 0, length: MB + 1 } }),
      400,
      'MAX_READ_SIZE_EXCEEDED',
    );
    await rejectsWith(files.download('dbfs:/x/none.bin', path.join(dir, 'n')), 404, 'RESOURCE_DOES_NOT_EXIST');
    const eof = await ctx.api.request({ method: 'GET', path: '/api/2.0/dbfs/read', query: { path: '/x/f.bin', offset: 10, length: 100 } });
    assert.deepEqual(eof, {}, 'reading at EOF returns no bytes (fields omitted)');
  });

  it('upload to a volume: PUT raw bytes with overwrite; overwrite=false on an existing file is 409 and not retried', async () => {
    const bytes = Buffer.from('hello volume');
    await files.upload('/Volumes/main/ml/out/report.json', bytes, { overwrite: true });
    assert.ok(ctx.emu.files.read('/Volumes/main/ml/out/report.json')?.equals(bytes));
    const put = ctx.emu.callsTo('PUT', '/api/2.0/fs/files/Volumes/main/ml/out/report.json');
    assert.deepEqual(
      put.map((r) => [r.query, r.status]),
      [[{ overwrite: 'true' }, 204]],
    );
    await rejectsWith(files.upload('/Volumes/main/ml/out/report.json', Buffer.from('x'), { overwrite: false }), 409, 'ALREADY_EXISTS');
    assert.ok(ctx.emu.files.read('/Volumes/main/ml/out/report.json')?.equals(bytes), 'unchanged');
  });

  it('upload to DBFS: <= 1 MB uses put (base64); larger files use create / add-block x N / close', async () => {
    const small = randomBytes(1000);
    await files.upload('dbfs:/FileStore/small.bin', small, { overwrite: true });
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/dbfs/put').map((r) => r.body),
      [{ path: '/FileStore/small.bin', contents: small.toString('base64'), overwrite: true }],
    );
    assert.ok(ctx.emu.files.read('dbfs:/FileStore/small.bin')?.equals(small));
    const big = randomBytes(2 * MB + 3);
    await files.upload('dbfs:/FileStore/big.bin', big, { overwrite: false });
    assert.ok(ctx.emu.files.read('dbfs:/FileStore/big.bin')?.equals(big));
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/dbfs/create').map((r) => r.body),
      [{ path: '/FileStore/big.bin', overwrite: false }],
    );
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/dbfs/add-block').map((r) => Buffer.from(r.body.data, 'base64').length),
      [DBFS_BLOCK_BYTES, DBFS_BLOCK_BYTES, 3],
    );
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/dbfs/close').length, 1);
    await rejectsWith(files.upload('dbfs:/FileStore/small.bin', small, { overwrite: false }), 400, 'RESOURCE_ALREADY_EXISTS');
  });

  it('getStatus: size via HEAD for volumes and get-status for DBFS; undefined only when missing; 503 is thrown', async () => {
    ctx.emu.files.write('/Volumes/main/ml/data/a.bin', randomBytes(1234));
    ctx.emu.files.write('dbfs:/x/b.bin', randomBytes(99));
    assert.deepEqual(await files.getStatus('/Volumes/main/ml/data/a.bin'), { size: 1234 });
    assert.deepEqual(await files.getStatus('dbfs:/x/b.bin'), { size: 99 });
    assert.deepEqual(await files.getStatus('dbfs:/x'), { size: 0, isDirectory: true });
    assert.equal(await files.getStatus('/Volumes/main/ml/data/none.bin'), undefined);
    assert.equal(await files.getStatus('dbfs:/x/none.bin'), undefined);
    assert.equal(ctx.emu.callsTo('HEAD', '/api/2.0/fs/files/Volumes/main/ml/data/a.bin').length, 1);
    ctx.emu.faults.add({ path: '/api/2.0/fs/files/Volumes/main/ml/data/a.bin', kind: 'status', status: 503, times: Infinity });
    await rejectsWith(files.getStatus('/Volumes/main/ml/data/a.bin'), 503, 'TEMPORARILY_UNAVAILABLE');
  });

  it('getStatus falls back to the directory listing when the client cannot return HEAD headers', async () => {
    ctx.emu.files.write('/Volumes/main/ml/data/a.bin', randomBytes(10));
    ctx.emu.files.write('/Volumes/main/ml/data/sub/c.bin', randomBytes(5));
    const plain: ApiClient = { host: ctx.api.host, request: (r) => ctx.api.request(r), download: (r) => ctx.api.download(r) };
    const viaList = new FilesClient(plain);
    assert.deepEqual(await viaList.getStatus('/Volumes/main/ml/data/a.bin'), { size: 10 });
    assert.deepEqual(await viaList.getStatus('/Volumes/main/ml/data/sub'), { size: 0, isDirectory: true });
    assert.equal(await viaList.getStatus('/Volumes/main/ml/data/zzz.bin'), undefined);
    assert.equal(await viaList.getStatus('/Volumes/main/ml/nodir/zzz.bin'), undefined);
    assert.deepEqual(
      ctx.emu.callsTo('GET', /^\/api\/2\.0\/fs\/directories/).map((r) => r.path),
      [
        '/api/2.0/fs/directories/Volumes/main/ml/data',
        '/api/2.0/fs/directories/Volumes/main/ml/data',
        '/api/2.0/fs/directories/Volumes/main/ml/data',
        '/api/2.0/fs/directories/Volumes/main/ml/nodir',
      ],
    );
  });

  it('delete removes files; a missing file throws unless missingOk', async () => {
    ctx.emu.files.write('/Volumes/main/ml/data/a.bin', 'a');
    ctx.emu.files.write('dbfs:/x/b.bin', 'b');
    await files.delete('/Volumes/main/ml/data/a.bin');
    await files.delete('dbfs:/x/b.bin');
    assert.equal(ctx.emu.files.exists('/Volumes/main/ml/data/a.bin'), false);
    assert.equal(ctx.emu.files.exists('dbfs:/x/b.bin'), false);
    await rejectsWith(files.delete('/Volumes/main/ml/data/a.bin'), 404, 'NOT_FOUND');
    await files.delete('/Volumes/main/ml/data/a.bin', { missingOk: true });
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/dbfs/delete').map((r) => r.body),
      [{ path: '/x/b.bin', recursive: false }],
    );
  });

  it('isNotFound (a missing file): RESOURCE_DOES_NOT_EXIST or any 404 of a file (whatever its error code), except ENDPOINT_NOT_FOUND / FEATURE_DISABLED; never 403 or 5xx', () => {
    const err = (status: number, code: string) =>
      new DatabricksApiError({ status, errorCode: code, message: 'x', method: 'GET', path: '/api/2.0/fs/files/Volumes/a/b/c/d' } as never);
    assert.equal(isNotFound(err(404, 'NOT_FOUND')), true);
    assert.equal(isNotFound(err(404, 'RESOURCE_DOES_NOT_EXIST')), true);
    assert.equal(isNotFound(err(400, 'RESOURCE_DOES_NOT_EXIST')), true);
    assert.equal(isNotFound(err(404, '404')), true, 'a 404 whose body carries no code (e.g. a HEAD) is a missing file');
    assert.equal(isNotFound(err(404, 'ENDPOINT_NOT_FOUND')), false);
    assert.equal(isNotFound(err(404, 'FEATURE_DISABLED')), false);
    assert.equal(isNotFound(err(403, 'PERMISSION_DENIED')), false);
    assert.equal(isNotFound(err(503, 'TEMPORARILY_UNAVAILABLE')), false);
    assert.equal(isNotFound(new Error('boom')), false);
  });

  it('a file read or delete answered 404 with another error code is still "missing" (delete missingOk, getStatus undefined)', async () => {
    ctx.emu.files.write('/Volumes/main/ml/data/gone.bin', 'g');
    ctx.emu.faults.add({
      path: '/api/2.0/fs/files/Volumes/main/ml/data/gone.bin',
      kind: 'status',
      status: 404,
      errorCode: 'RESOURCE_NOT_FOUND',
      times: Infinity,
    });
    await files.delete('/Volumes/main/ml/data/gone.bin', { missingOk: true });
    assert.equal(await files.getStatus('/Volumes/main/ml/data/gone.bin'), undefined);
    await rejectsWith(files.delete('/Volumes/main/ml/data/gone.bin'), 404, 'RESOURCE_NOT_FOUND');
  });

  it('invalid paths are refused before any request', async () => {
    await assert.rejects(files.download('/Volumes/main/ml/data/../../etc/passwd', path.join(dir, 'x')), RemotePathError);
    await assert.rejects(files.upload('s3://bucket/x', Buffer.from('x'), { overwrite: true }), RemotePathError);
    await assert.rejects(files.delete('dbfs:/a/../b'), RemotePathError);
    await assert.rejects(files.getStatus('/tmp/x'), RemotePathError);
    assert.equal(ctx.emu.requests.length, 0);
  });
});
