/**
 * Files API (`/api/2.0/fs/files{path}`, `/api/2.0/fs/directories{path}`) and DBFS API 2.0
 * (`/api/2.0/dbfs/*`) emulation, docs/databricks-api-notes.md §4. Bytes live in memory. Two namespaces:
 * Unity Catalog volume paths (`/Volumes/c/s/v/...`) and DBFS paths (stored as `dbfs:/...`, addressed
 * on the DBFS API without the scheme, since `dbfs:/` acceptance there is unconfirmed).
 *
 * Error answers: DBFS codes are documented (RESOURCE_DOES_NOT_EXIST 404, MAX_READ_SIZE_EXCEEDED,
 * MAX_BLOCK_SIZE_EXCEEDED, RESOURCE_ALREADY_EXISTS, INVALID_PARAMETER_VALUE, IO_ERROR: 400); Files API
 * codes are unconfirmed, we answer 404 NOT_FOUND and 409 ALREADY_EXISTS as docs/databricks-api-notes.md §4 notes (unconfirmed).
 */
import { ApiFault, type EmulatorCore, type EmulatorRequest, type EmulatorResponse } from '../contracts';

/** DBFS read/put/add-block cap. */
export const DBFS_MAX_BYTES = 1024 * 1024;
/** DBFS read default length when `length` is absent (0.5 MB). */
export const DBFS_DEFAULT_READ = 512 * 1024;

interface StoredFile {
  data: Buffer;
  modifiedAt: number;
}

/** Canonical key: `/Volumes/...` or `dbfs:/...`. Throws for anything else. */
export function canonicalFilePath(p: string): string {
  if (p.startsWith('dbfs:/')) return 'dbfs:' + normalizeAbs(p.slice(5), p);
  if (p.startsWith('/Volumes/')) return normalizeAbs(p, p);
  throw new Error(`emu.files paths are '/Volumes/<catalog>/<schema>/<volume>/...' or 'dbfs:/...', got ${JSON.stringify(p)}.`);
}

function normalizeAbs(p: string, original: string): string {
  const segs = p.split('/').filter((s) => s !== '');
  if (segs.some((s) => s === '.' || s === '..')) throw new Error(`Path ${JSON.stringify(original)} contains '.' or '..' segments.`);
  return '/' + segs.join('/');
}

/** The handle tests use as `emu.files`. */
export class FilesEmulator {
  private readonly files = new Map<string, StoredFile>();
  /** Explicitly created directories (Files API PUT directories / DBFS mkdirs), canonical keys. */
  private readonly dirs = new Set<string>();
  private readonly handles = new Map<number, { key: string; chunks: Buffer[] }>();
  private nextHandle = 7_000_001;

  constructor(private readonly core: EmulatorCore) {}

  /** Stores bytes at `/Volumes/...` or `dbfs:/...` (replacing any file there). */
  write(path: string, bytes: Buffer | string): void {
    const key = canonicalFilePath(path);
    this.files.set(key, { data: Buffer.isBuffer(bytes) ? Buffer.from(bytes) : Buffer.from(bytes, 'utf8'), modifiedAt: this.core.clock.now() });
  }

  /** The bytes at a path, or undefined. */
  read(path: string): Buffer | undefined {
    const f = this.files.get(canonicalFilePath(path));
    return f ? Buffer.from(f.data) : undefined;
  }

  exists(path: string): boolean {
    return this.files.has(canonicalFilePath(path));
  }

  /** Removes a file; returns whether it existed. */
  remove(path: string): boolean {
    return this.files.delete(canonicalFilePath(path));
  }

  /** Every stored file path (sorted), optionally only those under `prefix`. */
  list(prefix?: string): string[] {
    const keys = [...this.files.keys()].sort();
    if (!prefix) return keys;
    const p = canonicalFilePath(prefix.replace(/\/+$/, '') || prefix);
    return keys.filter((k) => k === p || k.startsWith(p + '/'));
  }

  /** Whether `key` is a directory: explicitly created, or the parent of some file. */
  isDirectory(key: string): boolean {
    if (this.dirs.has(key)) return true;
    const prefix = key.endsWith('/') ? key : key + '/';
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return true;
    for (const d of this.dirs) if (d.startsWith(prefix)) return true;
    return false;
  }

  /** Direct children of a directory key: files and sub-directories, sorted by name. */
  children(dirKey: string): Array<{ key: string; name: string; isDir: boolean; size?: number; modifiedAt?: number }> {
    const prefix = dirKey.endsWith('/') ? dirKey : dirKey + '/';
    const out = new Map<string, { key: string; name: string; isDir: boolean; size?: number; modifiedAt?: number }>();
    const consider = (k: string, file?: StoredFile) => {
      if (!k.startsWith(prefix)) return;
      const rest = k.slice(prefix.length);
      if (rest === '') return;
      const slash = rest.indexOf('/');
      if (slash < 0 && file) out.set(rest, { key: k, name: rest, isDir: false, size: file.data.length, modifiedAt: file.modifiedAt });
      else {
        const name = slash < 0 ? rest : rest.slice(0, slash);
        if (!out.has(name)) out.set(name, { key: prefix + name, name, isDir: true });
      }
    };
    for (const [k, f] of this.files) consider(k, f);
    for (const d of this.dirs) consider(d);
    return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- Files API -------------------------------------------------------------------------------

  /** `/api/2.0/fs/files/Volumes/a/b` captured rest (the router already percent-decoded it) -> `/Volumes/a/b`. */
  private volumeKey(req: EmulatorRequest, kind: 'file' | 'directory'): string {
    const raw = (req.params.path ?? '').replace(/^\/+/, '');
    const segs = raw.split('/');
    if (segs[0] !== 'Volumes' || segs.some((s) => s === '' || s === '.' || s === '..')) {
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid path /${raw}: expected an absolute path /Volumes/<catalog>/<schema>/<volume>/...`);
    }
    const min = kind === 'file' ? 5 : 4;
    if (segs.length < min) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid path /${raw}: it must be inside a volume.`);
    return '/' + segs.join('/');
  }

  private fileHeaders(f: StoredFile): Record<string, string> {
    return {
      'content-type': 'application/octet-stream',
      'content-length': String(f.data.length),
      'last-modified': new Date(f.modifiedAt).toUTCString(),
    };
  }

  private getFile(req: EmulatorRequest, head: boolean): EmulatorResponse {
    const key = this.volumeKey(req, 'file');
    const f = this.files.get(key);
    if (!f) throw new ApiFault(404, 'NOT_FOUND', `The file ${key} does not exist.`);
    return { status: 200, headers: this.fileHeaders(f), body: head ? undefined : Buffer.from(f.data) };
  }

  private putFile(req: EmulatorRequest): EmulatorResponse {
    const key = this.volumeKey(req, 'file');
    const overwrite = String(req.query.overwrite ?? 'true') !== 'false';
    if (this.isDirectory(key)) throw new ApiFault(409, 'ALREADY_EXISTS', `${key} is a directory.`);
    if (this.files.has(key) && !overwrite) throw new ApiFault(409, 'ALREADY_EXISTS', `The file ${key} already exists.`);
    this.files.set(key, { data: Buffer.from(req.rawBody ?? Buffer.alloc(0)), modifiedAt: this.core.clock.now() });
    return { status: 204 };
  }

  private deleteFile(req: EmulatorRequest): EmulatorResponse {
    const key = this.volumeKey(req, 'file');
    if (!this.files.delete(key)) throw new ApiFault(404, 'NOT_FOUND', `The file ${key} does not exist.`);
    return { status: 204 };
  }

  private listDirectory(req: EmulatorRequest): EmulatorResponse {
    const key = this.volumeKey(req, 'directory');
    if (!this.isDirectory(key)) throw new ApiFault(404, 'NOT_FOUND', `The directory ${key} does not exist.`);
    const pageSize = Number(req.query.page_size ?? 1000);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'page_size must be 1..1000.');
    const all = this.children(key);
    const start = req.query.page_token ? Number(Buffer.from(String(req.query.page_token), 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Invalid page_token.');
    const page = all.slice(start, start + pageSize).map((c) => {
      const e: Record<string, unknown> = { path: c.key, name: c.name };
      if (c.isDir) e.is_directory = true;
      else {
        e.file_size = c.size;
        e.last_modified = c.modifiedAt;
      }
      return e;
    });
    const body: Record<string, unknown> = {};
    if (page.length) body.contents = page;
    if (start + pageSize < all.length) body.next_page_token = Buffer.from(String(start + pageSize), 'utf8').toString('base64');
    return { status: 200, body };
  }

  // ---- DBFS ------------------------------------------------------------------------------------

  private dbfsKey(raw: unknown, field = 'path'): string {
    if (typeof raw !== 'string' || raw === '') throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Missing required field: ${field}`);
    if (!raw.startsWith('/')) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${raw} (DBFS paths are absolute, e.g. /FileStore/x).`);
    const segs = raw.split('/').filter((s) => s !== '');
    if (segs.some((s) => s === '.' || s === '..')) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${raw}`);
    return 'dbfs:/' + segs.join('/');
  }

  private static apiPath(key: string): string {
    return key.slice('dbfs:'.length);
  }

  private dbfsRead(req: EmulatorRequest): EmulatorResponse {
    const src = { ...req.query, ...(req.body ?? {}) } as Record<string, unknown>;
    const key = this.dbfsKey(src.path);
    const offset = src.offset === undefined ? 0 : Number(src.offset);
    const length = src.length === undefined ? DBFS_DEFAULT_READ : Number(src.length);
    if (!Number.isInteger(offset) || offset < 0) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid offset: ${String(src.offset)}`);
    if (!Number.isInteger(length) || length < 0) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid length: ${String(src.length)}`);
    if (length > DBFS_MAX_BYTES) {
      throw new ApiFault(400, 'MAX_READ_SIZE_EXCEEDED', `Cannot read more than ${DBFS_MAX_BYTES} bytes (1 MB) at a time; requested ${length}.`);
    }
    const f = this.files.get(key);
    if (!f) {
      if (this.isDirectory(key)) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Cannot read a directory: ${FilesEmulator.apiPath(key)}`);
      throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `No file or directory exists on path ${FilesEmulator.apiPath(key)}.`);
    }
    const chunk = f.data.subarray(Math.min(offset, f.data.length), Math.min(offset + length, f.data.length));
    const body: Record<string, unknown> = {};
    if (chunk.length) {
      body.bytes_read = chunk.length;
      body.data = chunk.toString('base64');
    }
    return { status: 200, body };
  }

  private dbfsStatusOf(key: string): Record<string, unknown> {
    const f = this.files.get(key);
    if (f) {
      const s: Record<string, unknown> = { path: FilesEmulator.apiPath(key), file_size: f.data.length, modification_time: f.modifiedAt };
      if (f.data.length === 0) delete s.file_size;
      return s;
    }
    if (this.isDirectory(key)) return { path: FilesEmulator.apiPath(key), is_dir: true };
    throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `No file or directory exists on path ${FilesEmulator.apiPath(key)}.`);
  }

  private decodeBlock(data: unknown, field: string): Buffer {
    if (data === undefined || data === '') return Buffer.alloc(0);
    if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `${field} must be base64-encoded.`);
    }
    const buf = Buffer.from(data, 'base64');
    if (buf.length > DBFS_MAX_BYTES) {
      throw new ApiFault(400, 'MAX_BLOCK_SIZE_EXCEEDED', `The ${field} block is ${buf.length} bytes; the maximum is ${DBFS_MAX_BYTES} (1 MB).`);
    }
    return buf;
  }

  private dbfsPut(req: EmulatorRequest): EmulatorResponse {
    const b = req.body ?? {};
    const key = this.dbfsKey(b.path);
    const data = this.decodeBlock(b.contents, 'contents');
    if (this.files.has(key) && b.overwrite !== true)
      throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `A file or directory already exists at the input path ${FilesEmulator.apiPath(key)}.`);
    if (this.isDirectory(key))
      throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `A directory already exists at the input path ${FilesEmulator.apiPath(key)}.`);
    this.files.set(key, { data, modifiedAt: this.core.clock.now() });
    return { status: 200, body: {} };
  }

  private dbfsCreate(req: EmulatorRequest): EmulatorResponse {
    const b = req.body ?? {};
    const key = this.dbfsKey(b.path);
    if (this.files.has(key) && b.overwrite !== true)
      throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `A file or directory already exists at the input path ${FilesEmulator.apiPath(key)}.`);
    const handle = this.nextHandle++;
    this.handles.set(handle, { key, chunks: [] });
    return { status: 200, body: { handle } };
  }

  private handleOf(raw: unknown): { key: string; chunks: Buffer[] } {
    const h = this.handles.get(Number(raw));
    if (!h) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `The handle ${String(raw)} does not exist.`);
    return h;
  }

  private dbfsAddBlock(req: EmulatorRequest): EmulatorResponse {
    const b = req.body ?? {};
    const h = this.handleOf(b.handle);
    h.chunks.push(this.decodeBlock(b.data, 'data'));
    return { status: 200, body: {} };
  }

  private dbfsClose(req: EmulatorRequest): EmulatorResponse {
    const b = req.body ?? {};
    const h = this.handleOf(b.handle);
    this.handles.delete(Number(b.handle));
    this.files.set(h.key, { data: Buffer.concat(h.chunks), modifiedAt: this.core.clock.now() });
    return { status: 200, body: {} };
  }

  private dbfsDelete(req: EmulatorRequest): EmulatorResponse {
    const b = req.body ?? {};
    const key = this.dbfsKey(b.path ?? req.query.path);
    if (this.files.delete(key)) return { status: 200, body: {} };
    if (this.isDirectory(key)) {
      const inside = this.list(key);
      if (inside.length > 0 && b.recursive !== true)
        throw new ApiFault(400, 'IO_ERROR', `Directory ${FilesEmulator.apiPath(key)} is not empty; use recursive delete.`);
      for (const k of inside) this.files.delete(k);
      for (const d of [...this.dirs]) if (d === key || d.startsWith(key + '/')) this.dirs.delete(d);
      return { status: 200, body: {} };
    }
    // DBFS delete of a missing path succeeds (rm -f semantics are documented for recursive deletes; assumed here).
    return { status: 200, body: {} };
  }

  /** Registers the routes. */
  install(): void {
    const r = this.core.router;
    r.add('GET', '/api/2.0/fs/files/*path', (req) => this.getFile(req, false));
    r.add('HEAD', '/api/2.0/fs/files/*path', (req) => this.getFile(req, true));
    r.add('PUT', '/api/2.0/fs/files/*path', (req) => this.putFile(req));
    r.add('DELETE', '/api/2.0/fs/files/*path', (req) => this.deleteFile(req));
    r.add('GET', '/api/2.0/fs/directories/*path', (req) => this.listDirectory(req));
    r.add('HEAD', '/api/2.0/fs/directories/*path', (req) => {
      const key = this.volumeKey(req, 'directory');
      if (!this.isDirectory(key)) throw new ApiFault(404, 'NOT_FOUND', `The directory ${key} does not exist.`);
      return { status: 200 };
    });
    r.add('PUT', '/api/2.0/fs/directories/*path', (req) => {
      const key = this.volumeKey(req, 'directory');
      if (this.files.has(key)) throw new ApiFault(409, 'ALREADY_EXISTS', `${key} is a file.`);
      this.dirs.add(key);
      return { status: 204 };
    });
    r.add('DELETE', '/api/2.0/fs/directories/*path', (req) => {
      const key = this.volumeKey(req, 'directory');
      if (!this.isDirectory(key)) throw new ApiFault(404, 'NOT_FOUND', `The directory ${key} does not exist.`);
      if (this.children(key).length > 0) throw new ApiFault(409, 'DIRECTORY_NOT_EMPTY', `The directory ${key} is not empty.`);
      this.dirs.delete(key);
      return { status: 204 };
    });

    r.add('GET', '/api/2.0/dbfs/read', (req) => this.dbfsRead(req));
    r.add('GET', '/api/2.0/dbfs/get-status', (req) => ({ status: 200, body: this.dbfsStatusOf(this.dbfsKey(req.query.path)) }));
    r.add('GET', '/api/2.0/dbfs/list', (req) => {
      const key = this.dbfsKey(req.query.path);
      if (this.files.has(key)) return { status: 200, body: { files: [this.dbfsStatusOf(key)] } };
      if (!this.isDirectory(key)) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `No file or directory exists on path ${FilesEmulator.apiPath(key)}.`);
      const files = this.children(key).map((c) => this.dbfsStatusOf(c.key));
      return { status: 200, body: files.length ? { files } : {} };
    });
    r.add('POST', '/api/2.0/dbfs/put', (req) => this.dbfsPut(req));
    r.add('POST', '/api/2.0/dbfs/create', (req) => this.dbfsCreate(req));
    r.add('POST', '/api/2.0/dbfs/add-block', (req) => this.dbfsAddBlock(req));
    r.add('POST', '/api/2.0/dbfs/close', (req) => this.dbfsClose(req));
    r.add('POST', '/api/2.0/dbfs/delete', (req) => this.dbfsDelete(req));
    r.add('POST', '/api/2.0/dbfs/mkdirs', (req) => {
      const key = this.dbfsKey((req.body ?? {}).path);
      if (this.files.has(key)) throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `A file exists at ${FilesEmulator.apiPath(key)}.`);
      this.dirs.add(key);
      return { status: 200, body: {} };
    });
  }
}

/** Installs the Files API and DBFS routes and returns the `emu.files` handle. */
export function install(core: EmulatorCore): FilesEmulator {
  const handle = new FilesEmulator(core);
  handle.install();
  core.modules.files = handle;
  return handle;
}
