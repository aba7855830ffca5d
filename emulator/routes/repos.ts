/**
 * Repos (Git folders) API 2.0 emulation (docs/databricks-api-notes.md §2), backed by fake Git remotes whose branches and
 * tags point at commits. Tests move refs (`setBranch`, `setTag`) to simulate pushes, grant or withhold a
 * Git credential per principal, and mark a folder dirty to simulate uncommitted changes.
 *
 * Error answers (docs/databricks-api-notes.md §2 marks most Git folder codes and statuses unconfirmed):
 * - no Git credential for the caller on a private remote: 403 `PERMISSION_DENIED` "Missing Git provider
 *   credentials. Go to User Settings > Git Integration to add your personal access token." (observed in
 *   public issue reports, e.g. databricks/databricks-vscode#623, terraform-provider-databricks#945);
 * - unknown branch or tag: 400 `GIT_UNKNOWN_REF` (code from the shared enum; status and text assumed);
 * - uncommitted changes blocking a checkout: 400 `GIT_CONFLICT` (same);
 * - unknown or unreachable remote: 400 `GIT_REMOTE_ERROR` (same);
 * - path not under `/Repos/{folder}/{name}` or `/Workspace/...`: 400 `INVALID_PARAMETER_VALUE` (assumed);
 * - path taken: 400 `RESOURCE_ALREADY_EXISTS`; unknown id: 404 `RESOURCE_DOES_NOT_EXIST` (assumed).
 */
import { ApiFault, type EmulatorCore, type EmulatorRequest } from '../contracts';
import { canonicalWorkspacePath, type WorkspaceEmulator } from './workspace';

/** The `provider` enum (docs/databricks-api-notes.md §1.3 / §2.2), matched case-insensitively, echoed in canonical case. */
export const GIT_PROVIDERS = [
  'gitHub',
  'bitbucketCloud',
  'gitLab',
  'azureDevOpsServices',
  'gitHubEnterprise',
  'bitbucketServer',
  'gitLabEnterpriseEdition',
  'awsCodeCommit',
] as const;

export const MISSING_GIT_CREDENTIAL_MESSAGE = 'Missing Git provider credentials. Go to User Settings > Git Integration to add your personal access token.';

export interface FakeRemote {
  url: string;
  branches: Map<string, string>;
  tags: Map<string, string>;
  defaultBranch: string;
  /** Private remotes need a Git credential for the caller's provider. */
  isPrivate: boolean;
}

export interface EmulatedRepo {
  id: number;
  /** Canonical path (no `/Workspace` prefix). */
  path: string;
  url: string;
  provider: string;
  /** Checked-out branch; undefined when detached at a tag. */
  branch?: string;
  /** The tag a detached HEAD was checked out at (emulator bookkeeping; not in the API response). */
  tag?: string;
  headCommitId: string;
  /** Simulates edits made in the workspace that block a checkout. */
  uncommittedChanges: boolean;
  sparseCheckoutPatterns?: string[];
  /**
   * Git CLI access: the folder is left out of `GET /api/2.0/repos` and is a DIRECTORY with
   * `directory_info.is_git_folder` in the Workspace API; GET by id reports `git_cli_enabled`
   * (Databricks REST reference, Repos "List"; "Migrate from the List Repos API"; databricks-sdk-py
   * `GetRepoResponse.git_cli_enabled`).
   */
  gitCliEnabled?: boolean;
}

function normalizeRemoteUrl(url: string): string {
  return url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .toLowerCase();
}

/** The handle tests use as `emu.repos`. */
export class ReposEmulator {
  /** Page size of GET /api/2.0/repos; tests lower it to cover several pages. */
  pageSize = 20;
  private readonly remotes = new Map<string, FakeRemote>();
  private readonly repos = new Map<number, EmulatedRepo>();
  private readonly credentials = new Map<string, Set<string>>();
  private nextId = 1_200_000_000_000_001;

  constructor(private readonly core: EmulatorCore) {}

  private get workspace(): WorkspaceEmulator | undefined {
    return this.core.modules.workspace;
  }

  /** Registers a fake Git remote. Its default branch is `main` unless given (or the first branch). */
  addRemote(
    url: string,
    refs: { branches?: Record<string, string>; tags?: Record<string, string>; defaultBranch?: string; isPrivate?: boolean } = {},
  ): FakeRemote {
    const branches = new Map(Object.entries(refs.branches ?? {}));
    const defaultBranch = refs.defaultBranch ?? (branches.has('main') ? 'main' : ([...branches.keys()][0] ?? 'main'));
    const remote: FakeRemote = { url, branches, tags: new Map(Object.entries(refs.tags ?? {})), defaultBranch, isPrivate: refs.isPrivate ?? true };
    this.remotes.set(normalizeRemoteUrl(url), remote);
    return remote;
  }

  remote(url: string): FakeRemote | undefined {
    return this.remotes.get(normalizeRemoteUrl(url));
  }

  /** Moves (or creates) a branch on a remote, as a push would. */
  setBranch(url: string, branch: string, sha: string): void {
    this.requireRemote(url).branches.set(branch, sha);
  }

  setTag(url: string, tag: string, sha: string): void {
    this.requireRemote(url).tags.set(tag, sha);
  }

  /** Gives `principal` a Git credential for `provider` (what `POST /api/2.0/git-credentials` would do). */
  grantGitCredential(principal: string, provider: string): void {
    const set = this.credentials.get(principal) ?? new Set<string>();
    set.add(provider.toLowerCase());
    this.credentials.set(principal, set);
  }

  revokeGitCredential(principal: string, provider: string): void {
    this.credentials.get(principal)?.delete(provider.toLowerCase());
  }

  hasGitCredential(principal: string | undefined, provider: string): boolean {
    return this.credentials.get(principal ?? '')?.has(provider.toLowerCase()) ?? false;
  }

  /** Creates a Git folder directly (test setup), checked out at the remote's default branch unless told. */
  addRepo(opts: { path: string; url: string; provider: string; branch?: string; uncommittedChanges?: boolean; gitCliEnabled?: boolean }): EmulatedRepo {
    const remote = this.requireRemote(opts.url);
    const branch = opts.branch ?? remote.defaultBranch;
    const sha = remote.branches.get(branch);
    if (!sha) throw new Error(`remote ${opts.url} has no branch ${branch}`);
    const path = canonicalWorkspacePath(opts.path);
    if (!path) throw new Error(`bad path ${opts.path}`);
    return this.store({
      path,
      url: opts.url,
      provider: canonicalProvider(opts.provider) ?? opts.provider,
      branch,
      headCommitId: sha,
      uncommittedChanges: !!opts.uncommittedChanges,
      gitCliEnabled: opts.gitCliEnabled ? true : undefined,
    });
  }

  list(): EmulatedRepo[] {
    return [...this.repos.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  get(id: number): EmulatedRepo | undefined {
    return this.repos.get(id);
  }

  findByPath(path: string): EmulatedRepo | undefined {
    const p = canonicalWorkspacePath(path);
    return this.list().find((r) => r.path === p);
  }

  setUncommittedChanges(id: number, dirty: boolean): void {
    const r = this.repos.get(id);
    if (!r) throw new Error(`no repo ${id}`);
    r.uncommittedChanges = dirty;
  }

  /** Called by the workspace module when a Git folder is deleted through workspace/delete. */
  forgetByPath(path: string): void {
    const r = this.findByPath(path);
    if (r) this.repos.delete(r.id);
  }

  private requireRemote(url: string): FakeRemote {
    const r = this.remote(url);
    if (!r) throw new Error(`no fake remote ${url}; call addRemote first`);
    return r;
  }

  private store(fields: Omit<EmulatedRepo, 'id'>): EmulatedRepo {
    const repo: EmulatedRepo = { id: this.nextId++, ...fields };
    this.repos.set(repo.id, repo);
    const ws = this.workspace;
    if (ws) {
      ws.mkdirs(repo.path.slice(0, repo.path.lastIndexOf('/')) || '/');
      ws.putRepo(repo.path, repo.id, repo.gitCliEnabled === true);
    }
    return repo;
  }

  /** RepoInfo as the API returns it, empty fields omitted. */
  info(r: EmulatedRepo): Record<string, unknown> {
    const out: Record<string, unknown> = { id: r.id, path: r.path, url: r.url, provider: r.provider };
    if (r.branch) out.branch = r.branch;
    out.head_commit_id = r.headCommitId;
    if (r.sparseCheckoutPatterns?.length) out.sparse_checkout = { patterns: r.sparseCheckoutPatterns };
    if (r.gitCliEnabled) out.git_cli_enabled = true;
    return out;
  }

  private checkCredential(principal: string | undefined, remote: FakeRemote, provider: string): void {
    if (remote.isPrivate && !this.hasGitCredential(principal, provider)) {
      throw new ApiFault(403, 'PERMISSION_DENIED', MISSING_GIT_CREDENTIAL_MESSAGE);
    }
  }

  handleList(req: EmulatorRequest) {
    const rawPrefix = queryString(req, 'path_prefix');
    let prefix: string;
    if (rawPrefix === undefined || rawPrefix === '' || rawPrefix === '/' || rawPrefix === '/Workspace') prefix = '/Repos';
    else {
      // A prefix may end in a partial name ("/Repos/Staging/pro"), so only the /Workspace alias is removed.
      prefix = rawPrefix.startsWith('/Workspace/') ? rawPrefix.slice('/Workspace'.length) : rawPrefix;
    }
    // Creation order (ids ascending): assumption, the service documents no order.
    // Git folders with the Git CLI enabled are not listed (Databricks REST reference, Repos "List").
    const matching = [...this.repos.values()].sort((a, b) => a.id - b.id).filter((r) => r.path.startsWith(prefix) && !r.gitCliEnabled);
    let offset = 0;
    const token = queryString(req, 'next_page_token');
    if (token !== undefined) {
      const decoded = decodeToken(token);
      if (!decoded || decoded.prefix !== prefix) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Invalid next_page_token.');
      offset = decoded.offset;
    }
    const page = matching.slice(offset, offset + this.pageSize);
    const body: Record<string, unknown> = {};
    if (page.length > 0) body.repos = page.map((r) => this.info(r));
    if (offset + this.pageSize < matching.length) body.next_page_token = encodeToken({ prefix, offset: offset + this.pageSize });
    return { body };
  }

  handleCreate(req: EmulatorRequest) {
    const b = req.body;
    if (!b || typeof b !== 'object') throw new ApiFault(400, 'MALFORMED_REQUEST', 'Request body must be a JSON object.');
    if (typeof b.url !== 'string' || b.url.trim() === '') throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: url');
    if (typeof b.provider !== 'string' || b.provider === '') throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: provider');
    const provider = canonicalProvider(b.provider);
    if (!provider) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid provider: ${b.provider}`);
    if (b.branch !== undefined || b.tag !== undefined)
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Create does not take a branch or tag; update the repo after creating it.');

    const remote = this.remote(b.url);
    const name =
      b.url
        .replace(/\/+$/, '')
        .replace(/\.git$/i, '')
        .split('/')
        .pop() || 'repo';
    const rawPath = b.path === undefined ? `/Repos/${req.principal ?? 'user'}/${name}` : b.path;
    const path = canonicalWorkspacePath(rawPath);
    if (path === undefined) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid path: ${String(rawPath)}`);
    const segments = path.split('/').slice(1);
    if (segments[0] === 'Repos') {
      if (segments.length !== 3) {
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Repo path ${path} is invalid: a Git folder under /Repos must be at /Repos/{folder}/{repo-name}.`);
      }
    } else if (segments.length < 2 || !rawPath.startsWith('/Workspace/')) {
      throw new ApiFault(
        400,
        'INVALID_PARAMETER_VALUE',
        `Repo path ${String(rawPath)} is invalid: use /Repos/{folder}/{repo-name} or a path under /Workspace.`,
      );
    }
    const ws = this.workspace;
    if (this.findByPath(path) || ws?.get(path)) throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `Path (${path}) already exists.`);
    if (segments[0] !== 'Repos' && ws) {
      const parent = path.slice(0, path.lastIndexOf('/'));
      const p = ws.get(parent);
      if (!p || p.objectType !== 'DIRECTORY') throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `The parent folder (${parent}) does not exist.`);
    }
    if (!remote) throw new ApiFault(400, 'GIT_REMOTE_ERROR', `Remote repository ${b.url} is not reachable or does not exist.`);
    this.checkCredential(req.principal, remote, provider);
    const head = remote.branches.get(remote.defaultBranch);
    if (!head) throw new ApiFault(400, 'GIT_REMOTE_ERROR', `Remote repository ${b.url} has no default branch.`);
    const sparse = b.sparse_checkout?.patterns;
    const repo = this.store({
      path,
      url: b.url,
      provider,
      branch: remote.defaultBranch,
      headCommitId: head,
      uncommittedChanges: false,
      sparseCheckoutPatterns: Array.isArray(sparse) ? sparse.map(String) : undefined,
    });
    return { body: this.info(repo) };
  }

  private requireRepo(req: EmulatorRequest): EmulatedRepo {
    const raw = req.params.id;
    if (!/^\d+$/.test(raw ?? '')) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid repo id: ${raw}`);
    const repo = this.repos.get(Number(raw));
    if (!repo) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Repo ${raw} does not exist.`);
    return repo;
  }

  handleGet(req: EmulatorRequest) {
    return { body: this.info(this.requireRepo(req)) };
  }

  handleUpdate(req: EmulatorRequest) {
    const repo = this.requireRepo(req);
    const b = req.body ?? {};
    const hasBranch = typeof b.branch === 'string' && b.branch !== '';
    const hasTag = typeof b.tag === 'string' && b.tag !== '';
    if (hasBranch && hasTag) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Only one of branch or tag can be given.');
    if (!hasBranch && !hasTag) {
      if (b.sparse_checkout) {
        if (!repo.sparseCheckoutPatterns) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Sparse checkout was not enabled when the repo was created.');
        repo.sparseCheckoutPatterns = (b.sparse_checkout.patterns ?? []).map(String);
        return { body: {} };
      }
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'One of branch or tag is required.');
    }
    const remote = this.remote(repo.url);
    if (!remote) throw new ApiFault(400, 'GIT_REMOTE_ERROR', `Remote repository ${repo.url} is not reachable or does not exist.`);
    this.checkCredential(req.principal, remote, repo.provider);
    const sha = hasBranch ? remote.branches.get(b.branch) : remote.tags.get(b.tag);
    if (!sha) {
      throw new ApiFault(
        400,
        'GIT_UNKNOWN_REF',
        hasBranch ? `Branch ${b.branch} does not exist in the remote repository.` : `Tag ${b.tag} does not exist in the remote repository.`,
      );
    }
    if (repo.uncommittedChanges && b.dangerously_force_discard_all !== true) {
      throw new ApiFault(
        400,
        'GIT_CONFLICT',
        'Your local changes would be overwritten by checkout. Commit or discard the uncommitted changes in the Git folder, then try again.',
      );
    }
    repo.uncommittedChanges = false;
    if (hasBranch) {
      repo.branch = b.branch;
      repo.tag = undefined;
    } else {
      repo.branch = undefined;
      repo.tag = b.tag;
    }
    repo.headCommitId = sha;
    return { body: {} };
  }

  handleDelete(req: EmulatorRequest) {
    const repo = this.requireRepo(req);
    this.repos.delete(repo.id);
    this.workspace?.removeTree(repo.path);
    return { body: {} };
  }
}

export function canonicalProvider(raw: string): string | undefined {
  return GIT_PROVIDERS.find((p) => p.toLowerCase() === raw.toLowerCase());
}

function queryString(req: EmulatorRequest, name: string): string | undefined {
  const v = req.query[name];
  return Array.isArray(v) ? v[0] : v;
}

function encodeToken(t: { prefix: string; offset: number }): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(token: string): { prefix: string; offset: number } | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof t?.prefix === 'string' && Number.isInteger(t?.offset) && t.offset >= 0) return t;
  } catch {
    // fall through: an unreadable token is a client error
  }
  return undefined;
}

export function install(core: EmulatorCore): ReposEmulator {
  const repos = new ReposEmulator(core);
  const r = core.router;
  r.add('GET', '/api/2.0/repos', (req) => repos.handleList(req));
  r.add('POST', '/api/2.0/repos', (req) => repos.handleCreate(req));
  r.add('GET', '/api/2.0/repos/:id', (req) => repos.handleGet(req));
  r.add('PATCH', '/api/2.0/repos/:id', (req) => repos.handleUpdate(req));
  r.add('DELETE', '/api/2.0/repos/:id', (req) => repos.handleDelete(req));
  core.modules.repos = repos;
  return repos;
}
