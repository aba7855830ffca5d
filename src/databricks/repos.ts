/**
 * Repos (Git folders) API 2.0 client: list (paginated), get, create, update to a branch or a tag, delete,
 * and find a Git folder by its workspace path.
 */
import type { ApiClient } from './contracts';
import { paginateByToken } from './paginate';

/** The `provider` values the Repos and Git credentials APIs accept (docs/databricks-api-notes.md §1.3, §2.2). */
export type GitProvider =
  'gitHub' | 'bitbucketCloud' | 'gitLab' | 'azureDevOpsServices' | 'gitHubEnterprise' | 'bitbucketServer' | 'gitLabEnterpriseEdition' | 'awsCodeCommit';

export const GIT_PROVIDERS: readonly GitProvider[] = [
  'gitHub',
  'bitbucketCloud',
  'gitLab',
  'azureDevOpsServices',
  'gitHubEnterprise',
  'bitbucketServer',
  'gitLabEnterpriseEdition',
  'awsCodeCommit',
];

/** RepoInfo. Fields the service leaves empty are omitted on the wire, so all but `id` are optional. */
export interface Repo {
  id: number;
  path?: string;
  url?: string;
  provider?: string;
  /** The checked-out branch; absent when the folder is detached at a tag. */
  branch?: string;
  /** SHA-1 of the commit the folder is at. */
  head_commit_id?: string;
  sparse_checkout?: { patterns?: string[] };
  /**
   * GET by id only: true for a Git folder with Git CLI access, which the listing omits (databricks-sdk-py
   * `GetRepoResponse.git_cli_enabled`; databricks-sdk-go service/workspace/model.go `GetRepoResponse.GitCliEnabled`).
   */
  git_cli_enabled?: boolean;
}

/** What to check out: a branch (checking out the same branch again pulls its latest commit) or a tag (detached HEAD). */
export type RepoCheckout = { branch: string; tag?: never } | { tag: string; branch?: never };

interface ListReposResponse {
  repos?: Repo[];
  next_page_token?: string;
}

/**
 * Canonical form of a workspace path for comparisons: `/Workspace/Repos/a/b` and `/Repos/a/b` name the same
 * folder, and a trailing slash is ignored.
 */
export function canonicalRepoPath(path: string): string {
  let p = path.trim();
  if (p.length > 1) p = p.replace(/\/+$/, '');
  if (p === '/Workspace') return '/';
  if (p.startsWith('/Workspace/')) p = p.slice('/Workspace'.length);
  return p;
}

/** Typed access to `/api/2.0/repos`. */
export class ReposClient {
  constructor(private readonly api: ApiClient) {}

  /**
   * Every Git folder whose path starts with `pathPrefix` (all of `/Repos` when omitted), following
   * `next_page_token` until the last page. Git folders with the Git CLI enabled are not listed by the
   * service (docs/databricks-api-notes.md §2.1); {@link findByPath} callers can fall back to the Workspace API.
   */
  listRepos(opts: { pathPrefix?: string; signal?: AbortSignal } = {}): AsyncIterable<Repo> {
    // The Repos API takes the token back under the same name it returns it: `next_page_token`.
    return paginateByToken<ListReposResponse, Repo>(
      this.api,
      { method: 'GET', path: '/api/2.0/repos', query: { path_prefix: opts.pathPrefix }, signal: opts.signal },
      { items: (page) => page.repos, tokenParam: 'next_page_token' },
    );
  }

  /** GET /api/2.0/repos/{id}. Throws DatabricksApiError (`RESOURCE_DOES_NOT_EXIST`) when missing. */
  getRepo(id: number, signal?: AbortSignal): Promise<Repo> {
    return this.api.request<Repo>({ method: 'GET', path: `/api/2.0/repos/${encodeURIComponent(String(id))}`, signal });
  }

  /**
   * POST /api/2.0/repos: clones `url` into a new Git folder at `path`, on the remote's default branch.
   * Not idempotent (a repeat answers `RESOURCE_ALREADY_EXISTS`), so the client never retries it once it may
   * have reached the server; callers reconcile with {@link findByPath}.
   */
  createRepo(req: { url: string; provider: GitProvider; path: string; sparseCheckoutPatterns?: string[]; signal?: AbortSignal }): Promise<Repo> {
    const body: Record<string, unknown> = { url: req.url, provider: req.provider, path: req.path };
    if (req.sparseCheckoutPatterns?.length) body.sparse_checkout = { patterns: req.sparseCheckoutPatterns };
    return this.api.request<Repo>({ method: 'POST', path: '/api/2.0/repos', body, idempotent: false, signal: req.signal });
  }

  /**
   * PATCH /api/2.0/repos/{id} with exactly one of `branch` or `tag` (a tag gives a detached HEAD). Never
   * discards uncommitted changes: the service then answers `GIT_CONFLICT`. Checking out a ref is
   * idempotent, so the call may be retried.
   */
  async updateRepo(id: number, checkout: RepoCheckout, signal?: AbortSignal): Promise<void> {
    const hasBranch = typeof checkout.branch === 'string';
    const hasTag = typeof checkout.tag === 'string';
    if (hasBranch === hasTag) throw new Error('updateRepo needs exactly one of branch or tag.');
    const body = hasBranch ? { branch: checkout.branch } : { tag: checkout.tag };
    await this.api.request({ method: 'PATCH', path: `/api/2.0/repos/${encodeURIComponent(String(id))}`, body, idempotent: true, signal });
  }

  /** DELETE /api/2.0/repos/{id}. */
  async deleteRepo(id: number, signal?: AbortSignal): Promise<void> {
    await this.api.request({ method: 'DELETE', path: `/api/2.0/repos/${encodeURIComponent(String(id))}`, idempotent: true, signal });
  }

  /**
   * The Git folder at exactly `path` (`/Repos/...` and `/Workspace/Repos/...` are the same), found by a
   * paginated listing with the path as prefix, or undefined. Folders whose names only start with the same
   * text (`/Repos/x/app-old` for `/Repos/x/app`) are not matches.
   */
  async findByPath(path: string, signal?: AbortSignal): Promise<Repo | undefined> {
    const wanted = canonicalRepoPath(path);
    for await (const repo of this.listRepos({ pathPrefix: path, signal })) {
      if (repo.path !== undefined && canonicalRepoPath(repo.path) === wanted) return repo;
    }
    return undefined;
  }
}
