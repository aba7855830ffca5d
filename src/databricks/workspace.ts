/**
 * Workspace API 2.0 client: import notebooks and files, create folders, read an object's status, list a
 * folder, delete, export.
 */
import type { ApiClient } from './contracts';
import { isResourceDoesNotExist } from './errors';

export type ImportFormat = 'SOURCE' | 'JUPYTER' | 'AUTO' | 'RAW';
export type NotebookLanguage = 'PYTHON' | 'SQL' | 'SCALA' | 'R';
export type ObjectType = 'NOTEBOOK' | 'DIRECTORY' | 'LIBRARY' | 'FILE' | 'REPO' | 'DASHBOARD';

/** ObjectInfo (docs/databricks-api-notes.md §3.3). Empty fields are omitted by the service. */
export interface ObjectInfo {
  object_type?: ObjectType;
  path?: string;
  object_id?: number;
  resource_id?: string;
  language?: NotebookLanguage;
  created_at?: number;
  modified_at?: number;
  size?: number;
  /**
   * Set for `DIRECTORY` objects only. `is_git_folder: true` marks a Git folder with Git CLI access: such a
   * folder is a `DIRECTORY`, not a `REPO`, and `GET /api/2.0/repos` does not list it; a standard Git folder
   * is a `REPO` without this field; a plain directory has `false` (Databricks, "Migrate from the List Repos
   * API", https://docs.databricks.com/aws/en/repos/migrate-list-repos; databricks-sdk-go
   * service/workspace/model.go `DirectoryInfo.IsGitFolder`; databricks-sdk-py `DirectoryInfo.is_git_folder`).
   * JS SDK 0.14.2 lacks the field.
   */
  directory_info?: { is_git_folder?: boolean };
}

/**
 * Whether a Workspace API object is a Git folder: `object_type` `REPO`, or `DIRECTORY` with
 * `directory_info.is_git_folder` true (Git CLI access). Both kinds are named by their `object_id` in
 * `GET /api/2.0/repos/{repo_id}` (Databricks, "Migrate from the List Repos API"; see docs/databricks-api-notes.md §2.1).
 */
export function isGitFolder(o: ObjectInfo): boolean {
  return o.object_type === 'REPO' || (o.object_type === 'DIRECTORY' && o.directory_info?.is_git_folder === true);
}

/** The largest content the import endpoint accepts (decoded), docs/databricks-api-notes.md §3.1. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

/** Typed access to `/api/2.0/workspace`. */
export class WorkspaceClient {
  constructor(private readonly api: ApiClient) {}

  /**
   * POST /api/2.0/workspace/import with base64 content. `SOURCE` needs `language`; `AUTO` lets the service
   * decide notebook vs file from the extension and header (stripping a notebook's extension). Without
   * `overwrite` an existing object answers `RESOURCE_ALREADY_EXISTS`; the parent folder must exist
   * (call {@link mkdirs}). Retried only when `overwrite` makes a repeat harmless.
   */
  async importFile(req: {
    path: string;
    content: Buffer | string;
    format: ImportFormat;
    language?: NotebookLanguage;
    overwrite: boolean;
    signal?: AbortSignal;
  }): Promise<void> {
    if (req.format === 'SOURCE' && !req.language) throw new Error(`importFile(${req.path}): SOURCE format needs a language.`);
    const bytes = typeof req.content === 'string' ? Buffer.from(req.content, 'utf8') : req.content;
    if (bytes.length > MAX_IMPORT_BYTES) {
      throw new Error(`${req.path} is ${bytes.length} bytes; the Workspace API imports at most ${MAX_IMPORT_BYTES} bytes.`);
    }
    const body: Record<string, unknown> = { path: req.path, format: req.format, content: bytes.toString('base64'), overwrite: req.overwrite };
    if (req.language) body.language = req.language;
    await this.api.request({ method: 'POST', path: '/api/2.0/workspace/import', body, idempotent: req.overwrite, signal: req.signal });
  }

  /** POST /api/2.0/workspace/mkdirs: creates the folder and its parents; a no-op when it exists. */
  async mkdirs(path: string, signal?: AbortSignal): Promise<void> {
    await this.api.request({ method: 'POST', path: '/api/2.0/workspace/mkdirs', body: { path }, idempotent: true, signal });
  }

  /**
   * GET /api/2.0/workspace/get-status. Undefined only when the service says `RESOURCE_DOES_NOT_EXIST`;
   * every other failure (permissions, a sign-in page, a network error) is thrown, so "missing" is never
   * confused with "could not tell".
   */
  async getStatus(path: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    try {
      return await this.api.request<ObjectInfo>({ method: 'GET', path: '/api/2.0/workspace/get-status', query: { path }, signal });
    } catch (err) {
      if (isResourceDoesNotExist(err)) return undefined;
      throw err;
    }
  }

  /** GET /api/2.0/workspace/list: the direct children of a folder (`[]` when empty). */
  async list(path: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const res = await this.api.request<{ objects?: ObjectInfo[] }>({ method: 'GET', path: '/api/2.0/workspace/list', query: { path }, signal });
    return res.objects ?? [];
  }

  /**
   * Every object below `path`, depth first, not descending into Git folders (their content belongs to
   * Git, not to whoever lists them).
   */
  async *walk(path: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    for (const o of await this.list(path, signal)) {
      yield o;
      // A Git folder with Git CLI access is a DIRECTORY too (see ObjectInfo.directory_info): not entered either.
      if (o.object_type === 'DIRECTORY' && !isGitFolder(o) && o.path) yield* this.walk(o.path, signal);
    }
  }

  /**
   * POST /api/2.0/workspace/delete. A non-empty folder needs `recursive` (else `DIRECTORY_NOT_EMPTY`).
   * Not retried: a repeat after a success answers `RESOURCE_DOES_NOT_EXIST`.
   */
  async delete(path: string, opts: { recursive: boolean; signal?: AbortSignal }): Promise<void> {
    await this.api.request({
      method: 'POST',
      path: '/api/2.0/workspace/delete',
      body: { path, recursive: opts.recursive },
      idempotent: false,
      signal: opts.signal,
    });
  }

  /** GET /api/2.0/workspace/export: the object's bytes in `format` (default SOURCE). */
  async exportFile(path: string, format: 'SOURCE' | 'JUPYTER' | 'AUTO' | 'RAW' = 'SOURCE', signal?: AbortSignal): Promise<Buffer> {
    const res = await this.api.request<{ content?: string }>({ method: 'GET', path: '/api/2.0/workspace/export', query: { path, format }, signal });
    return Buffer.from(res.content ?? '', 'base64');
  }
}
