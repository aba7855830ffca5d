/**
 * Deploy Notebooks: move an environment's Git folder to the release (mode repos), or import a folder of
 * notebooks into the workspace (mode workspaceImport).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DatabricksApiError, isAlreadyExists } from '../../databricks/errors';
import { canonicalRepoPath, type Repo, type ReposClient } from '../../databricks/repos';
import { isGitFolder, MAX_IMPORT_BYTES, type NotebookLanguage, type WorkspaceClient } from '../../databricks/workspace';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import type { DeployInputs, GitRef, ReposDeployInputs, WorkspaceImportInputs } from './inputs';

export interface DeployDeps {
  repos: ReposClient;
  workspace: WorkspaceClient;
  host: TaskHost;
  /** Workspace base URL (no trailing slash), for the link output. */
  workspaceUrl: string;
}

/** A failure already explained in words a user can act on. */
class DeployError extends Error {}

/**
 * The link to a folder in the workspace UI. Git folders and workspace folders are opened by object id at
 * `/browse/folders/<id>` (a Git folder's repo id is its workspace object id). Assumption: no public source
 * documents a UI URL; this is the form the current UI uses, and `#workspace<path>` is the legacy one.
 */
export function folderLink(workspaceUrl: string, objectId: number): string {
  return `${workspaceUrl}/browse/folders/${objectId}`;
}

function describeRef(ref: GitRef): string {
  return `${ref.kind} ${ref.name}`;
}

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 12) : '(unknown)';
}

function apiDetail(err: DatabricksApiError): string {
  return `Databricks answered ${err.status} ${err.errorCode}: ${err.message}`;
}

/**
 * Rewrites the Repos API errors people hit most into what to do about them. Anything else keeps the
 * service's code and message.
 */
export function explainReposError(err: unknown, ctx: { action: 'create' | 'update'; path: string; url?: string; provider?: string; ref?: GitRef }): Error {
  if (!(err instanceof DatabricksApiError)) return err instanceof Error ? err : new Error(String(err));
  const code = String(err.errorCode);
  const remote = ctx.url ? ` ${ctx.url}` : '';
  if (code === 'PERMISSION_DENIED' && /git/i.test(err.message) && /credential/i.test(err.message)) {
    return new DeployError(
      `The identity this pipeline uses has no Git credential in the workspace for ${ctx.provider ?? 'this Git provider'}, so Databricks cannot ${ctx.action === 'create' ? 'clone' : 'pull'} the repository${remote}. ` +
        'Add a Git credential for that identity (Settings > Linked accounts / Git integration, or POST /api/2.0/git-credentials). ' +
        'For a service principal on Azure DevOps Services: create the credential for the service principal (as a workspace admin, with principal_id, or signed in as it) with git_provider azureDevOpsServices ' +
        'and either a personal access token of an Azure DevOps user who can read the repository, or Microsoft Entra ID authentication after adding the service principal as a user of the Azure DevOps organization with access to the repository. ' +
        apiDetail(err),
    );
  }
  if (code === 'GIT_UNKNOWN_REF' && ctx.ref) {
    return new DeployError(
      `The ${describeRef(ctx.ref)} was not found in the remote repository${remote}. Check that it was pushed and that ref names it exactly (branch names keep their slashes; tags are refs/tags/<tag>). ${apiDetail(err)}`,
    );
  }
  if (code === 'GIT_CONFLICT') {
    return new DeployError(
      `The Git folder ${ctx.path} has uncommitted changes that block checking out ${ctx.ref ? describeRef(ctx.ref) : 'the ref'}. ` +
        "Someone edited files in this folder in the workspace. Open the folder's Git dialog to commit or discard those changes (deployment folders should not be edited by hand), then run the deployment again. " +
        `This task never discards changes. ${apiDetail(err)}`,
    );
  }
  if (code === 'DIRECTORY_PROTECTED' || (code === 'INVALID_PARAMETER_VALUE' && /path/i.test(err.message))) {
    return new DeployError(
      `Databricks rejected the Git folder path ${ctx.path}: use /Repos/<folder>/<repo-name> or a folder under /Workspace whose parent exists. ${apiDetail(err)}`,
    );
  }
  if (code === 'GIT_URL_NOT_ON_ALLOW_LIST') {
    return new DeployError(`The repository URL${remote} is not on the workspace's Git URL allow list; ask a workspace admin to add it. ${apiDetail(err)}`);
  }
  if (code === 'GIT_REMOTE_ERROR') {
    return new DeployError(
      `Databricks could not reach the remote repository${remote}: check the URL and that the Git credential can read it. ${apiDetail(err)}`,
    );
  }
  return err;
}

function sameRemote(a: string, b: string): boolean {
  const norm = (u: string) =>
    u
      .trim()
      .replace(/\/+$/, '')
      .replace(/\.git$/i, '')
      .toLowerCase();
  return norm(a) === norm(b);
}

/** Runs the deployment. Input errors were raised before; from here on, failures come back as a Failed outcome. */
export async function run(inputs: DeployInputs, deps: DeployDeps): Promise<TaskOutcome> {
  try {
    return inputs.mode === 'repos' ? await deployRepo(inputs, deps) : await importNotebooks(inputs, deps);
  } catch (err) {
    if (err instanceof DeployError) return { result: 'Failed', message: err.message };
    throw err;
  }
}

async function resolveOrCreate(inputs: ReposDeployInputs, deps: DeployDeps): Promise<{ repo: Repo; created: boolean }> {
  const { repos, workspace, host } = deps;
  const signal = host.signal;
  const found = await repos.findByPath(inputs.repoPath, signal);
  if (found) return { repo: found, created: false };

  // The listing omits Git folders with the Git CLI enabled: ask the Workspace API too. Such a folder is a
  // DIRECTORY with directory_info.is_git_folder true, and its object_id is the repo id that
  // GET/PATCH /api/2.0/repos/{repo_id} take (docs/databricks-api-notes.md §2.1).
  const status = await workspace.getStatus(inputs.repoPath, signal);
  if (status) {
    if (isGitFolder(status) && status.object_id !== undefined) {
      if (status.object_type === 'REPO') return { repo: await repos.getRepo(status.object_id, signal), created: false };
      host.log.info(`${inputs.repoPath} is a Git folder with Git CLI access (the Repos listing omits those): reading it as repo ${status.object_id}.`);
      try {
        return { repo: await repos.getRepo(status.object_id, signal), created: false };
      } catch (err) {
        if (!(err instanceof DatabricksApiError)) throw err;
        throw new DeployError(
          `The Workspace API reports ${inputs.repoPath} as a Git folder with Git CLI access (object id ${status.object_id}), but the Repos API could not read it as repo ${status.object_id}. ` +
            `Nothing was changed. Check that the pipeline's identity can manage this folder, or deploy to a Git folder created without Git CLI access. ${apiDetail(err)}`,
        );
      }
    }
    throw new DeployError(
      `${inputs.repoPath} exists in the workspace as a ${status.object_type ?? 'non-Git'} object, not a Git folder. Choose another repoPath or remove that object.`,
    );
  }
  if (!inputs.createIfMissing) {
    throw new DeployError(`There is no Git folder at ${inputs.repoPath}, and createIfMissing is false. Create it, or set createIfMissing: true with repoUrl.`);
  }
  if (!inputs.repoUrl || !inputs.gitProvider) {
    throw new DeployError(`There is no Git folder at ${inputs.repoPath}. Set repoUrl (the https clone URL) so the task can create it.`);
  }
  host.log.info(`No Git folder at ${inputs.repoPath}: creating it from ${inputs.repoUrl} (${inputs.gitProvider}).`);
  if (!/^\/(Workspace\/)?Repos\//.test(inputs.repoPath)) {
    // Outside /Repos the parent folder must exist; /Repos/<folder> is created by the service.
    await workspace.mkdirs(inputs.repoPath.slice(0, inputs.repoPath.lastIndexOf('/')), signal);
  }
  try {
    const repo = await repos.createRepo({ url: inputs.repoUrl, provider: inputs.gitProvider, path: inputs.repoPath, signal });
    return { repo, created: true };
  } catch (err) {
    // The create is not idempotent, so it is never repeated. Reconcile instead: another deployment may have
    // created the folder since our lookup (RESOURCE_ALREADY_EXISTS), or the answer was lost after the service
    // acted on it (network failure, 5xx). Use what is there only if it is linked to the same remote.
    if (isAlreadyExists(err) || (err instanceof DatabricksApiError && (err.status === 0 || err.status >= 500))) {
      const existing = await repos.findByPath(inputs.repoPath, signal);
      if (existing && existing.url && sameRemote(existing.url, inputs.repoUrl)) {
        host.log.warn(
          `Creating the Git folder answered ${err instanceof DatabricksApiError ? err.errorCode : 'an error'}, but the folder exists and is linked to ${existing.url}: using it.`,
        );
        return { repo: existing, created: true };
      }
    }
    throw explainReposError(err, { action: 'create', path: inputs.repoPath, url: inputs.repoUrl, provider: inputs.gitProvider });
  }
}

async function deployRepo(inputs: ReposDeployInputs, deps: DeployDeps): Promise<TaskOutcome> {
  const { repos, host } = deps;
  const signal = host.signal;
  host.log.info(`Deploying ${describeRef(inputs.ref)} (from ${inputs.refOrigin}) to the Git folder ${inputs.repoPath}.`);

  const { repo, created } = await resolveOrCreate(inputs, deps);
  const link = folderLink(deps.workspaceUrl, repo.id);
  // Outputs are set as soon as the folder is known, so a later failure still tells the pipeline where it is.
  host.setOutput('repoId', repo.id);
  host.setOutput('repoUrl', link);
  if (repo.head_commit_id) host.setOutput('headCommitId', repo.head_commit_id);
  if (created)
    host.log.info(`Created Git folder ${repo.path ?? inputs.repoPath} (id ${repo.id}) at ${short(repo.head_commit_id)} on branch ${repo.branch ?? '(none)'}.`);
  else
    host.log.info(
      `Found Git folder ${repo.path ?? inputs.repoPath} (id ${repo.id}), linked to ${repo.url ?? '(unknown remote)'}, at ${short(repo.head_commit_id)} on ${repo.branch ? `branch ${repo.branch}` : 'a detached HEAD'}.`,
    );

  if (inputs.repoUrl && repo.url && !sameRemote(inputs.repoUrl, repo.url)) {
    return {
      result: 'Failed',
      message: `The Git folder ${inputs.repoPath} is linked to ${repo.url}, not to repoUrl ${inputs.repoUrl}. Nothing was changed. Fix repoUrl or repoPath.`,
    };
  }

  const before = repo.head_commit_id;
  const checkout = inputs.ref.kind === 'branch' ? { branch: inputs.ref.name } : { tag: inputs.ref.name };
  try {
    await repos.updateRepo(repo.id, checkout, signal);
  } catch (err) {
    throw explainReposError(err, {
      action: 'update',
      path: inputs.repoPath,
      url: repo.url ?? inputs.repoUrl,
      provider: repo.provider ?? inputs.gitProvider,
      ref: inputs.ref,
    });
  }
  const after = await repos.getRepo(repo.id, signal);
  const head = after.head_commit_id;
  host.setOutput('headCommitId', head);
  if (inputs.ref.kind === 'branch') host.setOutput('branch', inputs.ref.name);
  else host.setOutput('tag', inputs.ref.name);

  // A folder created just now starts on the remote's default branch; when the ref is at that same commit the
  // checkout moved nothing, but "it already was, nothing changed" would contradict the creation just logged.
  if (created && before === head) host.log.info(`Checked out the ${describeRef(inputs.ref)} in the new Git folder: it is at ${head ?? '(unknown)'}.`);
  else if (before === head) host.log.info(`The Git folder is at ${head} (${describeRef(inputs.ref)}); it already was, nothing changed.`);
  else host.log.info(`Updated the Git folder from ${before ?? '(unknown)'} to ${head ?? '(unknown)'} (${describeRef(inputs.ref)}).`);
  host.log.info(`Folder: ${link}`);

  if (inputs.verifyCommit && inputs.expectedCommit) {
    if (!head || head.toLowerCase() !== inputs.expectedCommit) {
      return {
        result: 'Failed',
        message:
          `The Git folder ${inputs.repoPath} is at commit ${head ?? '(none reported)'} but ${inputs.expectedCommitOrigin ?? 'expectedCommit'} is ${inputs.expectedCommit}. ` +
          `The ${describeRef(inputs.ref)} has probably moved since this build started (a newer push), or ref and expectedCommit name different things. ` +
          'Re-run the deployment from the build of the newer commit, or set verifyCommit: false to accept whatever the ref points at.',
      };
    }
    host.log.info(`Verified: the head commit matches ${inputs.expectedCommitOrigin} (${inputs.expectedCommit}).`);
  }
  return { result: 'Succeeded', message: `Git folder ${inputs.repoPath} is at ${head} (${describeRef(inputs.ref)}).` };
}

const NOTEBOOK_LANGUAGE_BY_EXT: Record<string, NotebookLanguage> = { '.py': 'PYTHON', '.sql': 'SQL', '.scala': 'SCALA', '.r': 'R' };
const NOTEBOOK_HEADER: Record<NotebookLanguage, string> = {
  PYTHON: '# Databricks notebook source',
  R: '# Databricks notebook source',
  SQL: '-- Databricks notebook source',
  SCALA: '// Databricks notebook source',
};

export interface NotebookFile {
  /** Path relative to the source folder, with forward slashes. */
  relative: string;
  absolute: string;
  /** Workspace path relative to the target (the extension stripped). */
  target: string;
  format: 'SOURCE' | 'JUPYTER';
  language?: NotebookLanguage;
}

/**
 * How a file is imported: `.ipynb` as a Jupyter notebook; `.py`/`.sql`/`.scala`/`.r` as a source notebook
 * only when its first line is the Databricks header for that language (`# Databricks notebook source`,
 * `-- ...`, `// ...`); anything else is skipped (undefined): plain modules and data files are not
 * notebooks, and importing them as workspace files would be a different deployment model.
 */
export function classifyNotebook(relative: string, firstLine: string): Pick<NotebookFile, 'format' | 'language' | 'target'> | undefined {
  const ext = path.posix.extname(relative).toLowerCase();
  const stem = relative.slice(0, relative.length - ext.length);
  if (ext === '.ipynb') return { format: 'JUPYTER', target: stem };
  const language = NOTEBOOK_LANGUAGE_BY_EXT[ext];
  if (!language) return undefined;
  if (firstLine.replace(/^\uFEFF/, '').trim() !== NOTEBOOK_HEADER[language]) return undefined;
  return { format: 'SOURCE', language, target: stem };
}

async function firstLineOf(file: string): Promise<string> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8').split(/\r?\n/, 1)[0];
  } finally {
    await fh.close();
  }
}

/** Walks the source folder (no symlinks, no hidden entries) and classifies every file. */
export async function scanSourceFolder(root: string): Promise<{ notebooks: NotebookFile[]; skipped: string[] }> {
  const notebooks: NotebookFile[] = [];
  const skipped: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const relative = rel ? `${rel}/${e.name}` : e.name;
      const absolute = path.join(dir, e.name);
      if (e.name.startsWith('.') || e.isSymbolicLink()) {
        skipped.push(relative);
        continue;
      }
      if (e.isDirectory()) await walk(absolute, relative);
      else if (e.isFile()) {
        const kind = classifyNotebook(relative, await firstLineOf(absolute));
        if (kind) notebooks.push({ relative, absolute, ...kind });
        else skipped.push(relative);
      }
    }
  };
  await walk(root, '');
  return { notebooks, skipped };
}

function joinWorkspace(base: string, relative: string): string {
  return relative === '' ? base : `${base}/${relative}`;
}

async function importNotebooks(inputs: WorkspaceImportInputs, deps: DeployDeps): Promise<TaskOutcome> {
  const { workspace, host } = deps;
  const signal = host.signal;
  const stat = await fsp.stat(inputs.sourceFolder).catch(() => undefined);
  if (!stat?.isDirectory()) throw new DeployError(`sourceFolder ${inputs.sourceFolder} does not exist on the agent or is not a folder.`);

  // Everything that can fail locally is checked before the first remote change.
  const { notebooks, skipped } = await scanSourceFolder(inputs.sourceFolder);
  const byTarget = new Map<string, string>();
  for (const nb of notebooks) {
    const other = byTarget.get(nb.target);
    if (other)
      throw new DeployError(`${other} and ${nb.relative} would both be imported as ${joinWorkspace(inputs.workspaceFolder, nb.target)}. Rename one of them.`);
    byTarget.set(nb.target, nb.relative);
    const size = (await fsp.stat(nb.absolute)).size;
    if (size > MAX_IMPORT_BYTES)
      throw new DeployError(`${nb.relative} is ${size} bytes; the Workspace API imports at most ${MAX_IMPORT_BYTES} bytes per notebook.`);
  }
  if (notebooks.length === 0) {
    throw new DeployError(
      `sourceFolder ${inputs.sourceFolder} holds no notebooks (.ipynb, or .py/.sql/.scala/.r starting with the "Databricks notebook source" header). Nothing was imported.`,
    );
  }
  const target = await workspace.getStatus(inputs.workspaceFolder, signal);
  if (target && target.object_type !== 'DIRECTORY') {
    throw new DeployError(`workspaceFolder ${inputs.workspaceFolder} is a ${target.object_type ?? 'non-folder object'}, not a folder. Nothing was imported.`);
  }
  if (target && isGitFolder(target)) {
    // A Git folder with Git CLI access is a DIRECTORY too; its content belongs to Git, as for a REPO.
    throw new DeployError(
      `workspaceFolder ${inputs.workspaceFolder} is a Git folder (Git CLI access), whose content belongs to Git. Use mode repos for it, or choose a plain workspace folder. Nothing was imported.`,
    );
  }

  host.log.info(
    `Importing ${notebooks.length} notebook(s) from ${inputs.sourceFolder} to ${inputs.workspaceFolder}${skipped.length ? ` (${skipped.length} other file(s) skipped)` : ''}.`,
  );
  for (const s of skipped) host.log.debug(`Skipped (not a notebook): ${s}`);
  const folders = new Set<string>([inputs.workspaceFolder]);
  for (const nb of notebooks) {
    const dir = path.posix.dirname(nb.target);
    if (dir !== '.') folders.add(joinWorkspace(inputs.workspaceFolder, dir));
  }
  for (const f of [...folders].sort()) await workspace.mkdirs(f, signal);

  const imported = new Set<string>();
  let done = 0;
  for (const nb of notebooks) {
    const dest = joinWorkspace(inputs.workspaceFolder, nb.target);
    await workspace.importFile({ path: dest, content: await fsp.readFile(nb.absolute), format: nb.format, language: nb.language, overwrite: true, signal });
    imported.add(canonicalRepoPath(dest));
    host.log.info(`Imported ${nb.relative} -> ${dest}${nb.language ? ` (${nb.language})` : ' (Jupyter)'}`);
    host.setProgress((++done / notebooks.length) * 100, 'Importing notebooks');
  }

  let deleted = 0;
  if (inputs.cleanTarget) {
    const stale: string[] = [];
    for await (const o of workspace.walk(inputs.workspaceFolder, signal)) {
      if (o.object_type === 'NOTEBOOK' && o.path && !imported.has(canonicalRepoPath(o.path))) stale.push(o.path);
    }
    for (const p of stale) {
      await workspace.delete(p, { recursive: false, signal });
      host.log.info(`Deleted ${p} (no longer in ${inputs.sourceFolder}).`);
      deleted++;
    }
  }

  const folder = await workspace.getStatus(inputs.workspaceFolder, signal);
  if (folder?.object_id !== undefined) host.setOutput('repoUrl', folderLink(deps.workspaceUrl, folder.object_id));
  host.setOutput('importedCount', notebooks.length);
  const cleaned = inputs.cleanTarget ? `, deleted ${deleted} notebook(s) no longer in the source` : '';
  return { result: 'Succeeded', message: `Imported ${notebooks.length} notebook(s) into ${inputs.workspaceFolder}${cleaned}.` };
}
