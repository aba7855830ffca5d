/**
 * Reading and writing workspace files for the tasks: Unity Catalog volumes through the Files API
 * (`/api/2.0/fs/files{path}`, raw bytes, streamed to disk) and legacy DBFS through the DBFS API
 * (`/api/2.0/dbfs/...`, base64 JSON in blocks of at most 1 MB). Facts and sources: docs/databricks-api-notes.md §4.
 *
 * Remote paths are `/Volumes/<catalog>/<schema>/<volume>/<file...>` or `dbfs:/<path>`. Paths are
 * validated before any request: no `.`/`..`/empty segments, no control characters, no other schemes,
 * so a pipeline input can never address something other than what it names.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ApiClient } from './contracts';
import { isNotFound } from './errors';
import type { DatabricksApiClient } from './http';
import { paginateByToken } from './paginate';

/** DBFS `read` and `put`/`add-block` accept at most 1 MB per call (MAX_READ_SIZE_EXCEEDED / MAX_BLOCK_SIZE_EXCEEDED). */
export const DBFS_BLOCK_BYTES = 1024 * 1024;

/** Thrown for a remote path the client refuses to use. */
export class RemotePathError extends Error {
  override name = 'RemotePathError';
}

/** A validated remote path: which API serves it and the path that API expects. */
export type RemoteLocation =
  | { kind: 'volume'; /** `/Volumes/c/s/v/a.txt` */ path: string }
  | { kind: 'dbfs'; /** DBFS API path without the scheme, e.g. `/FileStore/a.txt` */ path: string };

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Validates and classifies a remote path (`/Volumes/...` or `dbfs:/...`). Throws {@link RemotePathError}
 * naming the problem for anything else.
 */
export function parseRemotePath(remotePath: string): RemoteLocation {
  if (typeof remotePath !== 'string' || remotePath.trim() === '') throw new RemotePathError('The remote path is empty.');
  const raw = remotePath;
  if (CONTROL_CHARS.test(raw)) throw new RemotePathError(`The remote path ${JSON.stringify(raw)} contains a control character.`);
  if (raw.includes('\\')) throw new RemotePathError(`The remote path ${JSON.stringify(raw)} contains a backslash; use forward slashes.`);
  let kind: 'volume' | 'dbfs';
  let p: string;
  if (/^dbfs:/i.test(raw)) {
    if (!raw.startsWith('dbfs:/') || raw.startsWith('dbfs://')) {
      throw new RemotePathError(`The DBFS path ${JSON.stringify(raw)} must look like dbfs:/path/to/file.`);
    }
    kind = 'dbfs';
    p = raw.slice('dbfs:'.length);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    throw new RemotePathError(
      `The remote path ${JSON.stringify(raw)} uses an unsupported scheme; use a Unity Catalog volume path (/Volumes/<catalog>/<schema>/<volume>/...) or dbfs:/...`,
    );
  } else if (raw.startsWith('/Volumes/')) {
    kind = 'volume';
    p = raw;
  } else if (raw.startsWith('/dbfs/')) {
    throw new RemotePathError(`The remote path ${JSON.stringify(raw)} is a cluster FUSE path; write it as dbfs:${raw.slice('/dbfs'.length)} instead.`);
  } else {
    throw new RemotePathError(
      `The remote path ${JSON.stringify(raw)} is neither a Unity Catalog volume path (/Volumes/<catalog>/<schema>/<volume>/...) nor a dbfs:/ path.`,
    );
  }
  const segments = p.split('/').slice(1);
  if (p.endsWith('/')) throw new RemotePathError(`The remote path ${JSON.stringify(raw)} ends with '/'; name a file.`);
  for (const s of segments) {
    if (s === '') throw new RemotePathError(`The remote path ${JSON.stringify(raw)} contains an empty segment ('//').`);
    if (s === '.' || s === '..') throw new RemotePathError(`The remote path ${JSON.stringify(raw)} contains a '${s}' segment; use a normalized absolute path.`);
  }
  if (kind === 'volume' && segments.length < 5) {
    throw new RemotePathError(`The volume path ${JSON.stringify(raw)} must name a file inside a volume: /Volumes/<catalog>/<schema>/<volume>/<file>.`);
  }
  if (kind === 'dbfs' && segments.length < 1) throw new RemotePathError(`The DBFS path ${JSON.stringify(raw)} must name a file.`);
  return { kind, path: p };
}

/** `/Volumes/a b/c` -> `/Volumes/a%20b/c`: each segment percent-encoded, `/` kept (Go SDK behaviour). */
export function encodePathSegments(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

export interface RemoteFileStatus {
  size: number;
  /** True for a DBFS directory. */
  isDirectory?: boolean;
}

/** Files API + DBFS client. */
export class FilesClient {
  constructor(private readonly api: ApiClient) {}

  /**
   * Downloads a remote file to `localPath` (written to a temporary sibling first, then renamed, so a
   * failed download never leaves a truncated file under the final name). Volumes stream through
   * `ApiClient.download`; DBFS files are read in 1 MB base64 blocks after a `get-status` that fixes the
   * expected size (so the number of `read` calls is `ceil(size / 1 MB)`).
   * @throws RemotePathError for invalid paths; DatabricksApiError for API failures (including a missing file);
   *   Error when the file exceeds `maxBytes` or the bytes received differ from the announced size.
   */
  async download(remotePath: string, localPath: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<{ bytes: number }> {
    const loc = parseRemotePath(remotePath);
    const tmp = `${localPath}.${randomBytes(4).toString('hex')}.partial`;
    await fsp.mkdir(path.dirname(path.resolve(localPath)), { recursive: true });
    try {
      let bytes: number;
      if (loc.kind === 'volume') {
        const res = await this.api.download({
          path: `/api/2.0/fs/files${encodePathSegments(loc.path)}`,
          toFile: tmp,
          maxBytes: opts.maxBytes,
          signal: opts.signal,
        });
        bytes = res.bytes;
      } else {
        bytes = await this.downloadDbfs(loc.path, remotePath, tmp, opts);
      }
      await fsp.rename(tmp, localPath);
      return { bytes };
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Uploads `content`. With `overwrite: false` an existing file is an error (409 / RESOURCE_ALREADY_EXISTS).
   * Overwriting uploads of one call are repeatable and marked idempotent; DBFS files above 1 MB go through
   * create/add-block/close, which is never retried blindly.
   */
  async upload(remotePath: string, content: Buffer, opts: { overwrite: boolean; signal?: AbortSignal }): Promise<void> {
    const loc = parseRemotePath(remotePath);
    if (!Buffer.isBuffer(content)) throw new Error('upload content must be a Buffer.');
    const overwrite = opts.overwrite === true;
    if (loc.kind === 'volume') {
      await this.api.request({
        method: 'PUT',
        path: `/api/2.0/fs/files${encodePathSegments(loc.path)}`,
        query: { overwrite },
        body: content,
        idempotent: overwrite,
        signal: opts.signal,
      });
      return;
    }
    if (content.length <= DBFS_BLOCK_BYTES) {
      await this.api.request({
        method: 'POST',
        path: '/api/2.0/dbfs/put',
        body: { path: loc.path, contents: content.toString('base64'), overwrite },
        idempotent: overwrite,
        signal: opts.signal,
      });
      return;
    }
    const { handle } = await this.api.request<{ handle?: number }>({
      method: 'POST',
      path: '/api/2.0/dbfs/create',
      body: { path: loc.path, overwrite },
      idempotent: false,
      signal: opts.signal,
    });
    if (handle === undefined) throw new Error(`DBFS create for ${remotePath} returned no handle.`);
    for (let off = 0; off < content.length; off += DBFS_BLOCK_BYTES) {
      await this.api.request({
        method: 'POST',
        path: '/api/2.0/dbfs/add-block',
        body: { handle, data: content.subarray(off, off + DBFS_BLOCK_BYTES).toString('base64') },
        idempotent: false,
        signal: opts.signal,
      });
    }
    await this.api.request({ method: 'POST', path: '/api/2.0/dbfs/close', body: { handle }, idempotent: false, signal: opts.signal });
  }

  /**
   * Deletes a file. A missing file is an error unless `missingOk` is set (then only "does not exist" is
   * tolerated; any other failure still throws).
   */
  async delete(remotePath: string, opts: { missingOk?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const loc = parseRemotePath(remotePath);
    try {
      if (loc.kind === 'volume') {
        await this.api.request({ method: 'DELETE', path: `/api/2.0/fs/files${encodePathSegments(loc.path)}`, idempotent: true, signal: opts.signal });
      } else {
        await this.api.request({
          method: 'POST',
          path: '/api/2.0/dbfs/delete',
          body: { path: loc.path, recursive: false },
          idempotent: true,
          signal: opts.signal,
        });
      }
    } catch (err) {
      if (opts.missingOk && isNotFound(err)) return;
      throw err;
    }
  }

  /**
   * Size of a remote file, or undefined when it does not exist. Volumes: `HEAD /api/2.0/fs/files{path}`
   * (content-length) when the client exposes response headers (`requestFull`), else the parent directory
   * listing; DBFS: `get-status`. Failures other than "does not exist" are thrown (fail closed).
   */
  async getStatus(remotePath: string, opts: { signal?: AbortSignal } = {}): Promise<RemoteFileStatus | undefined> {
    const loc = parseRemotePath(remotePath);
    if (loc.kind === 'dbfs') {
      try {
        const st = await this.api.request<{ file_size?: number; is_dir?: boolean }>({
          method: 'GET',
          path: '/api/2.0/dbfs/get-status',
          query: { path: loc.path },
          signal: opts.signal,
        });
        return st.is_dir ? { size: 0, isDirectory: true } : { size: st.file_size ?? 0 };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    }
    const requestFull = (this.api as Partial<DatabricksApiClient>).requestFull;
    if (typeof requestFull === 'function') {
      try {
        const res = await requestFull.call(this.api, { method: 'HEAD', path: `/api/2.0/fs/files${encodePathSegments(loc.path)}`, signal: opts.signal });
        const size = Number(res.headers['content-length']);
        if (!Number.isFinite(size) || size < 0) throw new Error(`HEAD ${remotePath} returned no usable content-length.`);
        return { size };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    }
    return this.statusFromListing(loc.path, opts.signal);
  }

  /** Volume file status from the parent directory listing, for ApiClients that cannot return HEAD headers. */
  private async statusFromListing(volumePath: string, signal?: AbortSignal): Promise<RemoteFileStatus | undefined> {
    const parent = volumePath.slice(0, volumePath.lastIndexOf('/'));
    const name = volumePath.slice(volumePath.lastIndexOf('/') + 1);
    try {
      const entries = paginateByToken<
        { contents?: Array<{ path?: string; name?: string; is_directory?: boolean; file_size?: number }> },
        { path?: string; name?: string; is_directory?: boolean; file_size?: number }
      >(this.api, { method: 'GET', path: `/api/2.0/fs/directories${encodePathSegments(parent)}`, signal }, { items: (p) => p.contents });
      for await (const e of entries) {
        if ((e.name ?? e.path?.slice(e.path.lastIndexOf('/') + 1)) === name)
          return e.is_directory ? { size: 0, isDirectory: true } : { size: e.file_size ?? 0 };
      }
      return undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async downloadDbfs(dbfsPath: string, display: string, toFile: string, opts: { maxBytes?: number; signal?: AbortSignal }): Promise<number> {
    const st = await this.api.request<{ file_size?: number; is_dir?: boolean }>({
      method: 'GET',
      path: '/api/2.0/dbfs/get-status',
      query: { path: dbfsPath },
      signal: opts.signal,
    });
    if (st.is_dir) throw new Error(`${display} is a DBFS directory, not a file.`);
    const size = st.file_size ?? 0;
    if (opts.maxBytes !== undefined && size > opts.maxBytes) {
      throw new Error(`${display} is ${size} bytes, above the limit of ${opts.maxBytes} bytes.`);
    }
    const fh = await fsp.open(toFile, 'w');
    let offset = 0;
    try {
      while (offset < size) {
        const length = Math.min(DBFS_BLOCK_BYTES, size - offset);
        const res = await this.api.request<{ bytes_read?: number; data?: string }>({
          method: 'GET',
          path: '/api/2.0/dbfs/read',
          query: { path: dbfsPath, offset, length },
          signal: opts.signal,
        });
        const chunk = Buffer.from(res.data ?? '', 'base64');
        if (chunk.length !== (res.bytes_read ?? 0)) {
          throw new Error(`DBFS read of ${display} at offset ${offset}: bytes_read ${res.bytes_read ?? 0} does not match the ${chunk.length} bytes of data.`);
        }
        if (chunk.length === 0)
          throw new Error(`DBFS read of ${display} ended at ${offset} bytes, but get-status reported ${size}; the file changed during download.`);
        await fh.write(chunk);
        offset += chunk.length;
      }
    } finally {
      await fh.close();
    }
    return offset;
  }
}
