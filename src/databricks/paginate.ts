/**
 * Async iterators over the two paging styles of the Databricks and MLflow APIs:
 * `page_token` / `next_page_token` (Jobs 2.2, MLflow search, Files API directories) and
 * `has_more` / `offset` (Jobs 2.1 style lists). The caller's request is never mutated: every page is
 * fetched with a fresh copy.
 */
import type { ApiClient, ApiRequest } from './contracts';

export interface TokenPagingOptions<Page, Item> {
  /** The items of a page; a missing array (proto-JSON omits empty fields) counts as none. */
  items: (page: Page) => Item[] | undefined;
  /** Response field with the next token; default `next_page_token`. */
  nextTokenField?: string;
  /** Request parameter carrying the token; default `page_token`. Sent in the query for GET, in the body otherwise. */
  tokenParam?: string;
  /** Safety stop against a server that never ends; default 10 000 pages. */
  maxPages?: number;
}

export interface OffsetPagingOptions<Page, Item> {
  items: (page: Page) => Item[] | undefined;
  /** Request parameter for the offset; default `offset`. */
  offsetParam?: string;
  /** Whether another page exists; default `page.has_more === true`. */
  hasMore?: (page: Page) => boolean;
  maxPages?: number;
}

function withParam(req: ApiRequest, name: string, value: string | number): ApiRequest {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') {
    return { ...req, query: { ...(req.query ?? {}), [name]: value } };
  }
  const body = req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {};
  return { ...req, body: { ...(body as Record<string, unknown>), [name]: value } };
}

/** Yields every page, following `next_page_token` until it is absent or empty. */
export async function* pagesByToken<Page>(
  api: ApiClient,
  first: ApiRequest,
  opts: Pick<TokenPagingOptions<Page, unknown>, 'nextTokenField' | 'tokenParam' | 'maxPages'> = {},
): AsyncGenerator<Page> {
  const field = opts.nextTokenField ?? 'next_page_token';
  const param = opts.tokenParam ?? 'page_token';
  const maxPages = opts.maxPages ?? 10_000;
  const seen = new Set<string>();
  let req: ApiRequest = { ...first };
  for (let n = 1; ; n++) {
    const page = await api.request<Page>(req);
    yield page;
    const token = (page as Record<string, unknown> | undefined)?.[field];
    if (typeof token !== 'string' || token === '') return;
    if (seen.has(token)) throw new Error(`${first.method} ${first.path} returned the page token it was given again; stopping to avoid an endless listing.`);
    if (n >= maxPages) throw new Error(`${first.method} ${first.path} returned more than ${maxPages} pages; stopping.`);
    seen.add(token);
    req = withParam(first, param, token);
  }
}

/** Yields every item across pages (token style). */
export async function* paginateByToken<Page, Item>(api: ApiClient, first: ApiRequest, opts: TokenPagingOptions<Page, Item>): AsyncGenerator<Item> {
  for await (const page of pagesByToken<Page>(api, first, opts)) yield* opts.items(page) ?? [];
}

/** Yields every item across pages (offset style): offset advances by the number of items received. */
export async function* paginateByOffset<Page, Item>(api: ApiClient, first: ApiRequest, opts: OffsetPagingOptions<Page, Item>): AsyncGenerator<Item> {
  const param = opts.offsetParam ?? 'offset';
  const hasMore = opts.hasMore ?? ((p: Page) => (p as Record<string, unknown> | undefined)?.has_more === true);
  const maxPages = opts.maxPages ?? 10_000;
  const startOffset = Number((first.query?.[param] as number | undefined) ?? 0);
  let offset = startOffset;
  let req: ApiRequest = { ...first };
  for (let n = 1; ; n++) {
    const page = await api.request<Page>(req);
    const items = opts.items(page) ?? [];
    yield* items;
    if (!hasMore(page)) return;
    if (items.length === 0) throw new Error(`${first.method} ${first.path} said has_more but returned no items; stopping to avoid an endless listing.`);
    if (n >= maxPages) throw new Error(`${first.method} ${first.path} returned more than ${maxPages} pages; stopping.`);
    offset += items.length;
    req = withParam(first, param, offset);
  }
}

/** Collects an async iterable (optionally at most `limit` items). */
export async function toArray<T>(it: AsyncIterable<T>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const x of it) {
    out.push(x);
    if (out.length >= limit) break;
  }
  return out;
}
