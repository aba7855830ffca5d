/**
 * Workspace API 2.0 emulation (docs/databricks-api-notes.md §3): import, mkdirs, get-status, list, delete, export.
 *
 * The tree is keyed by the canonical path: `/Workspace/Users/a` and `/Users/a` name the same object, so
 * the emulator strips a leading `/Workspace` before storing or looking up. Responses report the canonical
 * path (assumption: the real service echoes the stored path; clients must not depend on either form).
 *
 * Assumptions where docs/databricks-api-notes.md §3 marks the behaviour unconfirmed:
 * - import into a missing parent folder: 404 `RESOURCE_DOES_NOT_EXIST` "The parent folder (<p>) does not exist.";
 * - SOURCE import without `language`: 400 `INVALID_PARAMETER_VALUE`;
 * - overwrite never replaces a directory or a Git folder: 400 `RESOURCE_ALREADY_EXISTS`.
 */
import { ApiFault, isObject, type EmulatorCore, type EmulatorRequest } from '../contracts';

export type ObjectType = 'NOTEBOOK' | 'DIRECTORY' | 'FILE' | 'REPO' | 'LIBRARY' | 'DASHBOARD';
export type NotebookLanguage = 'PYTHON' | 'SQL' | 'SCALA' | 'R';

export interface WorkspaceObject {
  objectType: ObjectType;
  /** Canonical path (no `/Workspace` prefix). */
  path: string;
  objectId: number;
  language?: NotebookLanguage;
  /** Bytes as imported (notebook source or ipynb JSON, or file bytes). */
  content?: Buffer;
  /** The format the object was imported with. */
  importFormat?: string;
  /** A DIRECTORY that is a Git folder with Git CLI access (its object id is the repo id). */
  gitFolder?: boolean;
  createdAt: number;
  modifiedAt: number;
}

const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
const LANGUAGES: readonly NotebookLanguage[] = ['PYTHON', 'SQL', 'SCALA', 'R'];
const FORMATS = ['SOURCE', 'HTML', 'JUPYTER', 'DBC', 'R_MARKDOWN', 'AUTO', 'RAW'] as const;
const isFormat = (v: unknown): v is (typeof FORMATS)[number] => (FORMATS as readonly unknown[]).includes(v);
const isLanguage = (v: unknown): v is NotebookLanguage => (LANGUAGES as readonly unknown[]).includes(v);
const NOTEBOOK_EXTENSIONS: Record<string, NotebookLanguage> = { '.py': 'PYTHON', '.sql': 'SQL', '.scala': 'SCALA', '.r': 'R' };
const SOURCE_HEADERS: Record<NotebookLanguage, string> = {
  PYTHON: '# Databricks notebook source',
  R: '# Databricks notebook source',
  SQL: '-- Databricks notebook source',
  SCALA: '// Databricks notebook source',
};

/**
 * Canonical form of a workspace path: absolute, no trailing slash, no `/Workspace` prefix. Returns
 * undefined for relative paths, empty segments, `.` or `..` segments.
 */
export function canonicalWorkspacePath(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || !raw.startsWith('/')) return undefined;
  let p = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
  if (p === '') p = '/';
  if (p === '/Workspace') return '/';
  if (p.startsWith('/Workspace/')) p = p.slice('/Workspace'.length);
  if (p === '/') return p;
  const segments = p.slice(1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return p;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function requirePath(raw: unknown): string {
  const p = canonicalWorkspacePath(raw);
  if (p === undefined) {
    throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Path (${String(raw ?? '')}) must be an absolute workspace path without '.' or '..' segments.`);
  }
  return p;
}

function notFound(p: string): ApiFault {
  return new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Path (${p}) doesn't exist.`);
}

function queryString(req: EmulatorRequest, name: string): string | undefined {
  const v = req.query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The handle tests use as `emu.workspace`. */
export class WorkspaceEmulator {
  private readonly objects = new Map<string, WorkspaceObject>();
  private nextObjectId = 1_100_000_000_000_001;

  constructor(private readonly now: () => number) {
    for (const p of ['/', '/Users', '/Shared', '/Repos']) this.putDirectory(p);
  }

  /** The object at a path (either form), or undefined. */
  get(path: string): WorkspaceObject | undefined {
    const p = canonicalWorkspacePath(path);
    return p === undefined ? undefined : this.objects.get(p);
  }

  /** Every canonical path, sorted. */
  paths(): string[] {
    return [...this.objects.keys()].sort();
  }

  /** Paths of objects below `folder` (not the folder itself), sorted. */
  pathsUnder(folder: string): string[] {
    const f = canonicalWorkspacePath(folder);
    if (f === undefined) return [];
    const prefix = f === '/' ? '/' : `${f}/`;
    return this.paths().filter((p) => p.startsWith(prefix));
  }

  /** Creates a directory and its parents; throws if a non-directory is on the way. */
  mkdirs(path: string): void {
    const p = requirePath(path);
    const chain: string[] = [];
    for (let cur = p; cur !== '/'; cur = parentOf(cur)) chain.unshift(cur);
    for (const dir of chain) {
      const existing = this.objects.get(dir);
      if (!existing) this.putDirectory(dir);
      else if (existing.objectType !== 'DIRECTORY') {
        throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `Path (${dir}) already exists and is not a directory.`);
      }
    }
  }

  /** Seeds a notebook directly (test setup); creates the parent folders. */
  putNotebook(path: string, language: NotebookLanguage, source: string): WorkspaceObject {
    const p = requirePath(path);
    this.mkdirs(parentOf(p));
    return this.put({ objectType: 'NOTEBOOK', path: p, language, content: Buffer.from(source), importFormat: 'SOURCE' });
  }

  /**
   * Adds a Git folder object (used by the repos module); its object id is the repo id. A standard Git folder
   * is a `REPO`; one with Git CLI access is a `DIRECTORY` marked `directory_info.is_git_folder` (Databricks,
   * "Migrate from the List Repos API"; databricks-sdk-go service/workspace/model.go `DirectoryInfo`).
   */
  putRepo(path: string, repoId: number, gitCliEnabled = false): void {
    const p = requirePath(path);
    const t = this.now();
    this.objects.set(
      p,
      gitCliEnabled
        ? { objectType: 'DIRECTORY', gitFolder: true, path: p, objectId: repoId, createdAt: t, modifiedAt: t }
        : { objectType: 'REPO', path: p, objectId: repoId, createdAt: t, modifiedAt: t },
    );
  }

  /** Removes an object and everything below it (used by the repos module on delete). */
  removeTree(path: string): void {
    const p = canonicalWorkspacePath(path);
    if (p === undefined) return;
    for (const k of [...this.objects.keys()]) if (k === p || k.startsWith(`${p}/`)) this.objects.delete(k);
  }

  /** ObjectInfo as the API returns it, with empty fields omitted. */
  objectInfo(o: WorkspaceObject): Record<string, unknown> {
    const info: Record<string, unknown> = { object_type: o.objectType, path: o.path, object_id: o.objectId, resource_id: String(o.objectId) };
    if (o.language) info.language = o.language;
    if (o.objectType !== 'DIRECTORY') {
      info.created_at = o.createdAt;
      info.modified_at = o.modifiedAt;
    }
    if (o.objectType === 'FILE' && o.content) info.size = o.content.length;
    // directory_info is set for directories only: true for a Git folder with Git CLI access, false for a
    // plain directory; a REPO does not carry it (databricks-sdk-py `DirectoryInfo.is_git_folder`).
    if (o.objectType === 'DIRECTORY') info.directory_info = { is_git_folder: o.gitFolder === true };
    return info;
  }

  private putDirectory(p: string): void {
    this.put({ objectType: 'DIRECTORY', path: p });
  }

  private put(o: Omit<WorkspaceObject, 'objectId' | 'createdAt' | 'modifiedAt'>): WorkspaceObject {
    const t = this.now();
    const existing = this.objects.get(o.path);
    const obj: WorkspaceObject = {
      ...o,
      objectId: existing?.objectId ?? this.nextObjectId++,
      createdAt: existing?.createdAt ?? t,
      modifiedAt: t,
    };
    this.objects.set(o.path, obj);
    return obj;
  }

  /** Where a child may be created: the parent must exist and be a directory or a Git folder. */
  private requireParent(p: string): void {
    const parent = parentOf(p);
    const o = this.objects.get(parent);
    if (!o) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${parent}) does not exist.`);
    if (o.objectType !== 'DIRECTORY' && o.objectType !== 'REPO') {
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `The parent (${parent}) is not a folder.`);
    }
  }

  /** POST /api/2.0/workspace/import with a JSON body. */
  importObject(body: unknown): void {
    if (!isObject(body)) throw new ApiFault(400, 'MALFORMED_REQUEST', 'Request body must be a JSON object.');
    const p = requirePath(body.path);
    if (p === '/') throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Cannot import to the workspace root.');
    const format = body.format === undefined ? 'SOURCE' : body.format;
    if (!isFormat(format)) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid format: ${String(format)}.`);
    if (format === 'DBC' || format === 'HTML' || format === 'R_MARKDOWN') {
      throw new ApiFault(501, 'NOT_IMPLEMENTED', `The emulator does not import ${format}.`);
    }
    if (typeof body.content !== 'string') throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'content is required (base64).');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.content) || body.content.length % 4 !== 0) {
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'content is not valid base64.');
    }
    const bytes = Buffer.from(body.content, 'base64');
    if (bytes.length > MAX_IMPORT_BYTES) {
      throw new ApiFault(400, 'MAX_NOTEBOOK_SIZE_EXCEEDED', `File size imported is (${bytes.length} bytes), exceeded max size (${MAX_IMPORT_BYTES} bytes)`);
    }
    const requestedLanguage = body.language;
    if (requestedLanguage !== undefined && !isLanguage(requestedLanguage)) {
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid language: ${String(requestedLanguage)}.`);
    }

    let target = p;
    let objectType: ObjectType;
    let language: NotebookLanguage | undefined;
    if (format === 'SOURCE') {
      if (!requestedLanguage)
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'The language parameter is required when importing a single file in SOURCE format.');
      objectType = 'NOTEBOOK';
      language = requestedLanguage;
    } else if (format === 'JUPYTER') {
      if (!isNotebookJson(bytes)) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'The content is not a valid Jupyter notebook.');
      objectType = 'NOTEBOOK';
      language = 'PYTHON';
    } else if (format === 'RAW') {
      objectType = 'FILE';
    } else {
      // AUTO: a notebook when the extension and the content say so (extension stripped), else a file.
      const detected = detectAuto(p, bytes);
      objectType = detected.objectType;
      language = detected.language;
      target = detected.path;
    }

    this.requireParent(target);
    const existing = this.objects.get(target);
    if (existing) {
      if (existing.objectType === 'DIRECTORY' || existing.objectType === 'REPO' || body.overwrite !== true) {
        throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `Path (${target}) already exists.`);
      }
    }
    this.put({ objectType, path: target, language, content: bytes, importFormat: format });
  }

  /** POST /api/2.0/workspace/delete. */
  deleteObject(body: unknown): void {
    const p = requirePath(isObject(body) ? body.path : undefined);
    const o = this.objects.get(p);
    if (!o) throw notFound(p);
    if (p === '/' || p === '/Users' || p === '/Shared' || p === '/Repos') {
      throw new ApiFault(400, 'DIRECTORY_PROTECTED', `Folder (${p}) is protected.`);
    }
    const children = this.pathsUnder(p);
    if (o.objectType === 'DIRECTORY' && children.length > 0 && !(isObject(body) && body.recursive === true)) {
      throw new ApiFault(400, 'DIRECTORY_NOT_EMPTY', `Folder (${p}) is not empty.`);
    }
    if (o.objectType === 'REPO' || o.gitFolder) {
      const repos = (this.core?.modules.repos as { forgetByPath?: (p: string) => void } | undefined) ?? undefined;
      repos?.forgetByPath?.(p);
    }
    this.removeTree(p);
  }

  /** Set by install(); lets a delete of a Git folder reach the repos module. */
  core?: EmulatorCore;

  listObjects(path: unknown): Record<string, unknown> {
    const p = requirePath(path);
    const o = this.objects.get(p);
    if (!o) throw notFound(p);
    if (o.objectType !== 'DIRECTORY' && o.objectType !== 'REPO') return { objects: [this.objectInfo(o)] };
    const prefix = p === '/' ? '/' : `${p}/`;
    const children = [...this.objects.values()]
      .filter((c) => c.path !== p && c.path.startsWith(prefix) && !c.path.slice(prefix.length).includes('/'))
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((c) => this.objectInfo(c));
    return children.length > 0 ? { objects: children } : {};
  }

  exportObject(req: EmulatorRequest) {
    const p = requirePath(queryString(req, 'path'));
    const o = this.objects.get(p);
    if (!o) throw notFound(p);
    if (o.objectType === 'DIRECTORY' || o.objectType === 'REPO') {
      throw new ApiFault(501, 'NOT_IMPLEMENTED', 'The emulator does not export folders.');
    }
    const content = o.content ?? Buffer.alloc(0);
    if (queryString(req, 'direct_download') === 'true') {
      return { status: 200, body: content, headers: { 'content-type': 'application/octet-stream' } };
    }
    const fileType = o.importFormat === 'JUPYTER' ? 'ipynb' : o.language ? { PYTHON: 'py', SQL: 'sql', SCALA: 'scala', R: 'r' }[o.language] : undefined;
    const body: Record<string, unknown> = { content: content.toString('base64') };
    if (fileType) body.file_type = fileType;
    return { status: 200, body };
  }
}

function isNotebookJson(bytes: Buffer): boolean {
  try {
    const j = JSON.parse(bytes.toString('utf8'));
    return !!j && typeof j === 'object' && Array.isArray(j.cells);
  } catch {
    return false;
  }
}

function detectAuto(p: string, bytes: Buffer): { objectType: ObjectType; language?: NotebookLanguage; path: string } {
  const lower = p.toLowerCase();
  if (lower.endsWith('.ipynb') && isNotebookJson(bytes)) return { objectType: 'NOTEBOOK', language: 'PYTHON', path: p.slice(0, -'.ipynb'.length) };
  for (const [ext, lang] of Object.entries(NOTEBOOK_EXTENSIONS)) {
    if (!lower.endsWith(ext)) continue;
    const firstLine = bytes.toString('utf8').split(/\r?\n/, 1)[0].trim();
    if (firstLine === SOURCE_HEADERS[lang]) return { objectType: 'NOTEBOOK', language: lang, path: p.slice(0, -ext.length) };
  }
  return { objectType: 'FILE', path: p };
}

export function install(core: EmulatorCore): WorkspaceEmulator {
  const ws = new WorkspaceEmulator(() => core.clock.now());
  ws.core = core;
  const r = core.router;
  r.add('POST', '/api/2.0/workspace/import', (req) => {
    ws.importObject(req.body);
    return { body: {} };
  });
  r.add('POST', '/api/2.0/workspace/mkdirs', (req) => {
    ws.mkdirs(requirePath(req.body?.path));
    return { body: {} };
  });
  r.add('GET', '/api/2.0/workspace/get-status', (req) => {
    const p = requirePath(queryString(req, 'path'));
    const o = ws.get(p);
    if (!o) throw notFound(p);
    return { body: ws.objectInfo(o) };
  });
  r.add('GET', '/api/2.0/workspace/list', (req) => ({ body: ws.listObjects(queryString(req, 'path')) }));
  r.add('POST', '/api/2.0/workspace/delete', (req) => {
    ws.deleteObject(req.body);
    return { body: {} };
  });
  r.add('GET', '/api/2.0/workspace/export', (req) => ws.exportObject(req));
  core.modules.workspace = ws;
  return ws;
}
