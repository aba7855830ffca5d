/**
 * Parses the Deploy task's inputs into a typed, validated object. Pure: reads only the InputSource, so
 * every rule is unit-tested without an agent. Everything that can be checked before talking to the
 * workspace is checked here, so a bad input never causes a remote change.
 */
import { GIT_PROVIDERS, type GitProvider } from '../../databricks/repos';
import { InputError, type Inputs, truncate } from '../../pipeline/inputs';

export type GitRef = { kind: 'branch'; name: string } | { kind: 'tag'; name: string };

export interface ReposDeployInputs {
  mode: 'repos';
  /** The Git folder's path as given (validated: /Repos/{folder}/{name} or under /Workspace). */
  repoPath: string;
  /** The remote, needed only to create the folder. https, no credentials. */
  repoUrl?: string;
  /** Detected from repoUrl or given explicitly; set whenever repoUrl is. */
  gitProvider?: GitProvider;
  createIfMissing: boolean;
  ref: GitRef;
  /** How the ref was derived, for the log (e.g. "refs/pull/7/merge -> System.PullRequest.SourceBranch"). */
  refOrigin: string;
  verifyCommit: boolean;
  /** Lower-case hex commit the folder must end on; set when verifyCommit is true. */
  expectedCommit?: string;
  /** Where expectedCommit came from, for the log. */
  expectedCommitOrigin?: string;
}

export interface WorkspaceImportInputs {
  mode: 'workspaceImport';
  /** Folder on the agent holding the notebooks. */
  sourceFolder: string;
  /** Workspace folder to import into (validated, as given). */
  workspaceFolder: string;
  cleanTarget: boolean;
}

export type DeployInputs = ReposDeployInputs | WorkspaceImportInputs;

const PROVIDER_BY_HOST: Array<[RegExp, GitProvider]> = [
  [/^(ssh\.)?dev\.azure\.com$/, 'azureDevOpsServices'],
  [/^[a-z0-9-]+\.visualstudio\.com$/, 'azureDevOpsServices'],
  [/^(www\.)?github\.com$/, 'gitHub'],
  [/^(www\.)?gitlab\.com$/, 'gitLab'],
  [/^(www\.)?bitbucket\.org$/, 'bitbucketCloud'],
  [/^git-codecommit\.[a-z0-9-]+\.amazonaws\.com$/, 'awsCodeCommit'],
];

/**
 * The provider for a well-known Git host, or undefined for anything else (GitHub Enterprise, self-managed
 * GitLab, Bitbucket Server, Azure DevOps Server), which must be given explicitly.
 */
export function detectGitProvider(repoUrl: string): GitProvider | undefined {
  const host = new URL(repoUrl).hostname.toLowerCase();
  return PROVIDER_BY_HOST.find(([re]) => re.test(host))?.[1];
}

/**
 * Validates a Git remote URL: https only, no user name or password (the workspace's Git credential is used,
 * never one embedded in the URL, and the URL is logged), no query or fragment. Returns it trimmed, without
 * a trailing slash. Error messages never repeat the URL, which may hold a token.
 */
export function validateRepoUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InputError('repoUrl', 'repoUrl is not a valid URL. Use the https clone URL, e.g. https://dev.azure.com/contoso/mlops/_git/churn-model.');
  }
  if (url.username || url.password) {
    throw new InputError(
      'repoUrl',
      'repoUrl must not contain credentials (user name, password or token before "@"). Remove them and give the identity a Git credential in the workspace instead.',
    );
  }
  if (url.protocol !== 'https:') {
    throw new InputError('repoUrl', `repoUrl must use https (got ${url.protocol.replace(':', '')}). Use the https clone URL of the repository.`);
  }
  if (url.search || url.hash) throw new InputError('repoUrl', 'repoUrl must not have a query string or fragment. Use the plain https clone URL.');
  if (url.pathname === '/' || url.pathname === '')
    throw new InputError('repoUrl', 'repoUrl has no repository path. Use the https clone URL of the repository.');
  return url.toString().replace(/\/+$/, '');
}

/** U+0000-001F and DEL (U+007F): the C0 controls, not the C1 range that \p{Cc} alone would add. */
const ASCII_CONTROL_CHAR = /(?=\p{ASCII})\p{Cc}/u;

/**
 * Validates a workspace path: absolute, under an allowed root, no `.`/`..`/empty segments, no control
 * characters. Returns it without a trailing slash.
 */
function validateWorkspacePath(input: string, raw: string, roots: readonly string[]): string {
  const p = raw.trim().replace(/(.)\/+$/, '$1');
  if (ASCII_CONTROL_CHAR.test(p)) throw new InputError(input, `${input} must not contain control characters.`);
  if (!p.startsWith('/')) throw new InputError(input, `${input} must be an absolute workspace path starting with ${roots.join(' or ')}; got "${truncate(p)}".`);
  const segments = p.slice(1).split('/');
  if (segments.some((s) => s === '.' || s === '..')) throw new InputError(input, `${input} must not contain "." or ".." segments; got "${truncate(p)}".`);
  if (segments.some((s) => s === '')) throw new InputError(input, `${input} must not contain empty segments ("//"); got "${truncate(p)}".`);
  if (!roots.some((r) => p === r || p.startsWith(`${r}/`))) {
    throw new InputError(input, `${input} must be under ${roots.join(' or ')}; got "${truncate(p)}".`);
  }
  return p;
}

/** A Git folder path: /Repos/{folder}/{name} (also as /Workspace/Repos/...) or a folder below /Workspace/<root>/... */
export function validateRepoPath(raw: string): string {
  const p = validateWorkspacePath('repoPath', raw, ['/Repos', '/Workspace']);
  const segments = p.slice(1).split('/');
  const underRepos = segments[0] === 'Repos' ? segments.slice(1) : segments[0] === 'Workspace' && segments[1] === 'Repos' ? segments.slice(2) : undefined;
  if (underRepos) {
    if (underRepos.length !== 2) {
      throw new InputError(
        'repoPath',
        `repoPath under Repos must be exactly /Repos/<folder>/<repo-name> (e.g. /Repos/Production/churn-model); got "${truncate(p)}".`,
      );
    }
  } else if (segments.length < 3) {
    throw new InputError(
      'repoPath',
      `repoPath under /Workspace must name a folder inside a workspace folder (e.g. /Workspace/Shared/churn-model); got "${truncate(p)}".`,
    );
  }
  return p;
}

// git check-ref-format: no ASCII control character (below 0x20, or DEL), space, ~ ^ : ? * [ or backslash.
const FORBIDDEN_REF_CHARS = /[\s~^:?*[\\]|(?=\p{ASCII})\p{Cc}/u;

function validateRefName(kind: 'branch' | 'tag', name: string, origin: string): string {
  if (
    name === '' ||
    FORBIDDEN_REF_CHARS.test(name) ||
    name.includes('..') ||
    name.includes('//') ||
    name.includes('@{') ||
    name.startsWith('/') ||
    name.startsWith('-') ||
    name.endsWith('/') ||
    name.endsWith('.') ||
    name.endsWith('.lock') ||
    name === '@'
  ) {
    throw new InputError('ref', `${origin} does not give a valid Git ${kind} name ("${truncate(name)}").`);
  }
  return name;
}

/**
 * Turns a ref as Azure Pipelines gives it into what the Repos API needs:
 * `refs/heads/feature/x` -> branch `feature/x` (slashes kept); `refs/tags/v1.2` -> tag `v1.2` (sent as a tag,
 * never as a branch); `refs/pull/<n>/merge` -> the PR's source branch from `System.PullRequest.SourceBranch`
 * (the merge ref exists only in the build's clone, not as a branch Databricks can check out); anything
 * else without `refs/` -> a branch of that name.
 */
export function parseRef(raw: string, variable: (name: string) => string | undefined): { ref: GitRef; origin: string; isPullRequest: boolean } {
  const value = raw.trim();
  if (value.startsWith('refs/heads/')) {
    return {
      ref: { kind: 'branch', name: validateRefName('branch', value.slice('refs/heads/'.length), `ref "${truncate(value)}"`) },
      origin: value,
      isPullRequest: false,
    };
  }
  if (value.startsWith('refs/tags/')) {
    return {
      ref: { kind: 'tag', name: validateRefName('tag', value.slice('refs/tags/'.length), `ref "${truncate(value)}"`) },
      origin: value,
      isPullRequest: false,
    };
  }
  if (/^refs\/pull\/\d+\/(merge|head)$/.test(value)) {
    const source = variable('System.PullRequest.SourceBranch')?.trim();
    if (!source) {
      throw new InputError(
        'ref',
        `ref ${value} is a pull request ref, but System.PullRequest.SourceBranch is not set, so the source branch is unknown. Set ref to the branch to deploy (refs/heads/<branch>).`,
      );
    }
    // Documented as refs/heads/<branch> but observed short in some contexts, so accept both.
    const name = source.startsWith('refs/heads/') ? source.slice('refs/heads/'.length) : source;
    if (name.startsWith('refs/'))
      throw new InputError('ref', `System.PullRequest.SourceBranch (${truncate(source)}) is not a branch; set ref to the branch to deploy.`);
    return {
      ref: { kind: 'branch', name: validateRefName('branch', name, 'System.PullRequest.SourceBranch') },
      origin: `${value} -> System.PullRequest.SourceBranch ${source}`,
      isPullRequest: true,
    };
  }
  if (value.startsWith('refs/')) {
    throw new InputError('ref', `ref ${truncate(value)} is not a branch (refs/heads/...), tag (refs/tags/...) or pull request (refs/pull/<n>/merge) ref.`);
  }
  return { ref: { kind: 'branch', name: validateRefName('branch', value, `ref "${truncate(value)}"`) }, origin: `branch name ${value}`, isPullRequest: false };
}

function parseCommit(input: string, raw: string, origin: string): string {
  const v = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(v) && !/^[0-9a-f]{64}$/.test(v)) {
    throw new InputError(
      input,
      `${origin} must be a full commit id (40 hex characters); got "${truncate(raw.trim())}". Set ${input}, or set verifyCommit: false.`,
    );
  }
  return v;
}

/** Reads and validates every Deploy input (not the connection inputs). Throws InputError. */
export function parseDeployInputs(inputs: Inputs): DeployInputs {
  const mode = inputs.oneOf('mode', ['repos', 'workspaceImport'] as const, 'repos');
  const repoPathRaw = inputs.optional('repoPath');
  const workspaceFolderRaw = inputs.optional('workspaceFolder');

  if (mode === 'workspaceImport') return parseWorkspaceImportInputs(inputs, repoPathRaw, workspaceFolderRaw);

  if (workspaceFolderRaw !== undefined) {
    throw new InputError(
      'workspaceFolder',
      'workspaceFolder is set but mode is repos, which deploys to repoPath. Remove workspaceFolder, or set mode: workspaceImport.',
    );
  }
  if (repoPathRaw === undefined) throw new InputError('repoPath', 'Input required: repoPath (the Git folder to update, e.g. /Repos/Production/churn-model).');
  const repoPath = validateRepoPath(repoPathRaw);

  const repoUrlRaw = inputs.optional('repoUrl');
  const repoUrl = repoUrlRaw === undefined ? undefined : validateRepoUrl(repoUrlRaw);
  const gitProvider = parseGitProvider(inputs, repoUrl);
  const createIfMissing = inputs.bool('createIfMissing', true);

  const rawRef = inputs.optional('ref') ?? inputs.variable('Build.SourceBranch');
  if (rawRef === undefined || rawRef.trim() === '') {
    throw new InputError('ref', 'Input required: ref (refs/heads/<branch>, refs/tags/<tag> or a branch name); Build.SourceBranch is not available either.');
  }
  const { ref, origin, isPullRequest } = parseRef(rawRef, (n) => inputs.variable(n));

  const verifyCommit = inputs.bool('verifyCommit', true);
  const { expectedCommit, expectedCommitOrigin } = verifyCommit ? parseExpectedCommit(inputs, isPullRequest) : {};

  return { mode, repoPath, repoUrl, gitProvider, createIfMissing, ref, refOrigin: origin, verifyCommit, expectedCommit, expectedCommitOrigin };
}

/** The inputs of mode workspaceImport (repoPath and workspaceFolder already read). */
function parseWorkspaceImportInputs(inputs: Inputs, repoPathRaw: string | undefined, workspaceFolderRaw: string | undefined): WorkspaceImportInputs {
  const sourceFolder = inputs.optional('sourceFolder');
  if (repoPathRaw !== undefined) {
    throw new InputError(
      'repoPath',
      'repoPath is set but mode is workspaceImport, which deploys to workspaceFolder. Remove repoPath, or set mode: repos to update the Git folder.',
    );
  }
  if (sourceFolder === undefined && workspaceFolderRaw === undefined) {
    throw new InputError(
      'sourceFolder',
      'mode workspaceImport needs sourceFolder (the folder of notebooks on the agent) and workspaceFolder (where to import them); neither is set.',
    );
  }
  if (sourceFolder === undefined)
    throw new InputError('sourceFolder', 'Input required: sourceFolder (the folder of notebooks on the agent to import) for mode workspaceImport.');
  if (workspaceFolderRaw === undefined)
    throw new InputError('workspaceFolder', 'Input required: workspaceFolder (the workspace folder to import into) for mode workspaceImport.');
  const workspaceFolder = validateWorkspacePath('workspaceFolder', workspaceFolderRaw, ['/Workspace', '/Users', '/Shared']);
  const depth = workspaceFolder
    .replace(/^\/Workspace(?=\/)/, '')
    .slice(1)
    .split('/').length;
  if (depth < 2) throw new InputError('workspaceFolder', `workspaceFolder must be a folder inside ${workspaceFolder}, not a top-level workspace folder.`);
  if (/^\/(Workspace\/)?Repos(\/|$)/.test(workspaceFolder)) {
    throw new InputError('workspaceFolder', 'workspaceFolder must not be under /Repos: Git folders are deployed with mode: repos.');
  }
  return { mode: 'workspaceImport', sourceFolder, workspaceFolder, cleanTarget: inputs.bool('cleanTarget', false) };
}

/** The Git provider: detected from repoUrl, or given explicitly (only together with repoUrl). */
function parseGitProvider(inputs: Inputs, repoUrl: string | undefined): GitProvider | undefined {
  const providerChoice = inputs.oneOf('gitProvider', ['auto', ...GIT_PROVIDERS] as const, 'auto');
  if (repoUrl !== undefined) {
    if (providerChoice !== 'auto') return providerChoice;
    const gitProvider = detectGitProvider(repoUrl);
    if (!gitProvider) {
      throw new InputError(
        'gitProvider',
        `Cannot tell the Git provider from the host ${new URL(repoUrl).hostname}. Set gitProvider (gitHubEnterprise, gitLabEnterpriseEdition, bitbucketServer, azureDevOpsServices, ...).`,
      );
    }
    return gitProvider;
  }
  if (providerChoice !== 'auto') {
    throw new InputError(
      'gitProvider',
      'gitProvider is set but repoUrl is not; the provider is only used with repoUrl to create the Git folder. Set repoUrl or remove gitProvider.',
    );
  }
  return undefined;
}

/** The commit the Git folder must end on when verifyCommit is true, and where it came from. */
function parseExpectedCommit(inputs: Inputs, isPullRequest: boolean): { expectedCommit: string; expectedCommitOrigin: string } {
  const given = inputs.optional('expectedCommit');
  const buildCommit = inputs.variable('Build.SourceVersion')?.trim();
  // For a PR build, Build.SourceVersion is the merge commit, which never exists on the source branch.
  if (isPullRequest && (given === undefined || given.toLowerCase() === buildCommit?.toLowerCase())) {
    const prCommit = inputs.variable('System.PullRequest.SourceCommitId');
    if (!prCommit) {
      throw new InputError(
        'expectedCommit',
        'ref is a pull request, whose Build.SourceVersion is the merge commit, and System.PullRequest.SourceCommitId is not set. Set expectedCommit to the source branch commit, or verifyCommit: false.',
      );
    }
    return {
      expectedCommit: parseCommit('expectedCommit', prCommit, 'System.PullRequest.SourceCommitId'),
      expectedCommitOrigin: 'System.PullRequest.SourceCommitId',
    };
  }
  if (given !== undefined) return { expectedCommit: parseCommit('expectedCommit', given, 'expectedCommit'), expectedCommitOrigin: 'expectedCommit' };
  if (buildCommit) return { expectedCommit: parseCommit('expectedCommit', buildCommit, 'Build.SourceVersion'), expectedCommitOrigin: 'Build.SourceVersion' };
  throw new InputError('expectedCommit', 'verifyCommit is true but there is no commit to verify: set expectedCommit, or verifyCommit: false.');
}
