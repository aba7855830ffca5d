/** Test-only emulator routes used by the client-core tests (paging, blobs, redirects, odd error bodies). */
import { ApiFault } from '../../emulator/contracts';
import type { Emulator } from '../../emulator';

export const BLOB = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7 + 3) % 256));
export const ITEMS = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));
export const PAGE_SIZE = 3;

export function installTestRoutes(emu: Emulator, opts: { otherOrigin?: string } = {}): void {
  const r = emu.router;
  r.add('GET', '/api/2.0/test/echo', (req) => ({ body: { query: req.query, principal: req.principal } }));
  let writes = 0;
  r.add('POST', '/api/2.0/test/write', () => ({ body: { n: ++writes } }));
  r.add('GET', '/api/2.0/test/items', (req) => {
    const start = req.query.page_token ? Number(String(req.query.page_token).replace('tok-', '')) : 0;
    const page = ITEMS.slice(start, start + PAGE_SIZE);
    const next = start + PAGE_SIZE < ITEMS.length ? `tok-${start + PAGE_SIZE}` : undefined;
    return { body: { items: page, ...(next ? { next_page_token: next } : {}) } };
  });
  r.add('POST', '/api/2.0/test/search', (req) => {
    const token = req.body?.page_token as string | undefined;
    const start = token ? Number(token.replace('tok-', '')) : 0;
    const page = ITEMS.slice(start, start + PAGE_SIZE);
    const next = start + PAGE_SIZE < ITEMS.length ? `tok-${start + PAGE_SIZE}` : undefined;
    // Proto-JSON omits empty arrays: an empty page has no "items" key.
    return { body: { ...(page.length ? { items: page } : {}), ...(next ? { next_page_token: next } : {}) } };
  });
  r.add('GET', '/api/2.0/test/offset-items', (req) => {
    const offset = Number(req.query.offset ?? 0);
    const limit = Number(req.query.limit ?? 2);
    const page = ITEMS.slice(offset, offset + limit);
    return { body: { items: page, has_more: offset + limit < ITEMS.length } };
  });
  r.add('GET', '/api/2.0/test/blob', () => ({ body: BLOB }));
  r.add('GET', '/api/2.0/test/big-json', () => ({ body: { data: 'x'.repeat(4096) } }));
  r.add('GET', '/api/2.0/test/redirect-same', () => ({ status: 302, headers: { location: '/api/2.0/test/echo?via=redirect' } }));
  r.add('GET', '/api/2.0/test/redirect-login', () => ({ status: 302, headers: { location: '/login.html?next=%2Fapi' } }));
  r.add(
    'GET',
    '/login.html',
    () => ({
      body: '<!DOCTYPE html><html><head><title>Databricks - Sign In</title></head><body>Sign in</body></html>',
      headers: { 'content-type': 'text/html; charset=utf-8' },
    }),
    { auth: false },
  );
  if (opts.otherOrigin) {
    const other = opts.otherOrigin;
    r.add('GET', '/api/2.0/test/redirect-away', () => ({ status: 302, headers: { location: `${other}/landing` } }));
    r.add('GET', '/api/2.0/test/redirect-away-307', () => ({ status: 307, headers: { location: `${other}/landing` } }));
  }
  r.add('GET', '/api/2.0/test/redirect-insecure', () => ({ status: 302, headers: { location: 'http://adb-1.example.net/steal' } }));
  r.add('GET', '/api/2.0/test/text-error', () => ({
    status: 400,
    body: 'INVALID_STATE: Cluster 0101-abc is terminated.',
    headers: { 'content-type': 'text/plain' },
  }));
  r.add('GET', '/api/2.0/test/pre-error', () => ({
    status: 500,
    body: '<html><head><title>Error 500</title></head><body><h2>HTTP ERROR 500</h2><pre>INTERNAL_ERROR: Something &lt;bad&gt; happened</pre></body></html>',
    headers: { 'content-type': 'text/html' },
  }));
  r.add('GET', '/api/2.0/test/legacy-error', () => ({ status: 400, body: { error: 'Cluster is in unexpected state Terminated.' } }));
  r.add('GET', '/api/2.0/test/empty-error', () => ({ status: 502 }));
  r.add('GET', '/api/2.0/test/not-json', () => ({ status: 200, body: 'hello', headers: { 'content-type': 'text/plain' } }));
  r.add('GET', '/api/2.0/test/empty', () => ({ status: 200 }));
  r.add('GET', '/api/2.0/test/missing', () => {
    throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', 'Node /Repos/x does not exist.');
  });
  r.add('GET', '/api/2.0/test/throw', () => {
    throw new Error('boom');
  });
}
