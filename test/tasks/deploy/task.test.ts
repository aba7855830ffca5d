/**
 * The bundled Deploy task run as the agent runs it (child process, INPUT_/ENDPOINT_ environment, ##vso
 * commands), against the workspace emulator in this process.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMULATOR_DEFAULTS, type Emulator } from '../../../emulator';
import { MISSING_GIT_CREDENTIAL_MESSAGE } from '../../../emulator/routes/repos';
import type { AgentRunResult } from '../../helpers/agent';
import { assertSecretNotShown, TaskHarness } from '../../helpers/task-harness';

const CONN = '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c';
const URL_ADO = 'https://dev.azure.com/contoso/mlops/_git/churn-model';
const PATH = '/Repos/Production/churn-model';
const SHA_OLD = '1111111111111111111111111111111111111111';
const SHA_NEW = '2222222222222222222222222222222222222222';
const SHA_NEWER = '3333333333333333333333333333333333333333';
const SHA_TAG = '4444444444444444444444444444444444444444';
const SHA_FEATURE = '5555555555555555555555555555555555555555';
const SHA_MERGE = '6666666666666666666666666666666666666666';

describe('Deploy task (bundled, as the agent runs it) against the emulator', function () {
  this.timeout(60_000);
  let emu: Emulator;
  const harness = new TaskHarness({ task: 'DatabricksReposDeployV1', connection: CONN, killAfterMs: 30_000 });

  beforeEach(async () => {
    emu = await harness.start();
    emu.repos.addRemote(URL_ADO, {
      branches: { main: SHA_OLD, release: SHA_NEW, 'feature/login/x': SHA_FEATURE },
      tags: { 'v1.2': SHA_TAG },
    });
    emu.repos.grantGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
  });
  afterEach(() => harness.stop());

  function deploy(inputs: Record<string, string | undefined>, variables: Record<string, string> = {}): Promise<AgentRunResult> {
    return harness.run({ inputs, variables });
  }

  function calls(): string[] {
    return emu.requests.map((r) => `${r.method} ${r.path}`);
  }

  const assertClean = (r: AgentRunResult, secret?: string) => assertSecretNotShown(r, secret);

  it('creates a missing Git folder from repoUrl, then checks out the ref and verifies the commit', async () => {
    const r = await deploy({ repoPath: PATH, repoUrl: URL_ADO, ref: 'refs/heads/release' }, { 'Build.SourceVersion': SHA_NEW });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_NEW} (branch release).` });
    const repo = emu.repos.findByPath(PATH)!;
    assert.deepEqual([repo.branch, repo.headCommitId, repo.url, repo.provider], ['release', SHA_NEW, URL_ADO, 'azureDevOpsServices']);
    assert.deepEqual(calls(), [
      'GET /api/2.0/repos',
      'GET /api/2.0/workspace/get-status',
      'POST /api/2.0/repos',
      `PATCH /api/2.0/repos/${repo.id}`,
      `GET /api/2.0/repos/${repo.id}`,
    ]);
    assert.deepEqual(emu.requests[0].query, { path_prefix: PATH });
    assert.deepEqual(emu.requests[2].body, { url: URL_ADO, provider: 'azureDevOpsServices', path: PATH });
    assert.deepEqual(emu.requests[3].body, { branch: 'release' });
    assert.deepEqual(r.outputs, { repoId: String(repo.id), repoUrl: `${emu.url}/browse/folders/${repo.id}`, headCommitId: SHA_NEW, branch: 'release' });
    assert.ok(r.logLines.includes(`Updated the Git folder from ${SHA_OLD} to ${SHA_NEW} (branch release).`), r.logLines.join('\n'));
    assert.ok(r.logLines.includes(`Verified: the head commit matches Build.SourceVersion (${SHA_NEW}).`));
    assert.deepEqual(r.errors, []);
    assertClean(r);
  });

  it("a new folder already on the ref's commit says it checked the ref out, not that nothing changed", async () => {
    const r = await deploy({ repoPath: PATH, repoUrl: URL_ADO, ref: 'refs/heads/main' }, { 'Build.SourceVersion': SHA_OLD });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_OLD} (branch main).` });
    const repo = emu.repos.findByPath(PATH)!;
    const mine = r.logLines.filter((l) => /^(Created|Checked out|The Git folder|Updated)/.test(l));
    assert.deepEqual(mine, [
      `Created Git folder ${PATH} (id ${repo.id}) at ${SHA_OLD.slice(0, 12)} on branch main.`,
      `Checked out the branch main in the new Git folder: it is at ${SHA_OLD}.`,
    ]);
    assert.equal(r.logLines[0], `Workspace: ${emu.url} (personal access token)`);
  });

  it('a create whose answer is lost is not repeated: the folder is found by path and used', async () => {
    emu.faults.add({ method: 'POST', path: '/api/2.0/repos', kind: 'truncate' });
    const r = await deploy({ repoPath: PATH, repoUrl: URL_ADO, ref: 'refs/heads/release' }, { 'Build.SourceVersion': SHA_NEW });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_NEW} (branch release).` });
    const repo = emu.repos.findByPath(PATH)!;
    assert.equal(emu.repos.list().length, 1);
    assert.deepEqual(calls(), [
      'GET /api/2.0/repos',
      'GET /api/2.0/workspace/get-status',
      'POST /api/2.0/repos',
      'GET /api/2.0/repos',
      `PATCH /api/2.0/repos/${repo.id}`,
      `GET /api/2.0/repos/${repo.id}`,
    ]);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /^Creating the Git folder answered RESPONSE_TRUNCATED, but the folder exists and is linked to https:\/\/dev\.azure\.com/);
  });

  it('updates an existing folder found on a later page of the listing, pulling the moved branch', async () => {
    emu.repos.pageSize = 2;
    // The emulator lists in creation order; with the prefix, churn-model-old and churn-model-2 fill page one.
    for (const n of ['a', 'churn-model-old', 'b', 'churn-model-2'])
      emu.repos.addRepo({ path: `/Repos/Production/${n}`, url: URL_ADO, provider: 'azureDevOpsServices' });
    const repo = emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    emu.repos.addRepo({ path: '/Repos/Production/churn-model-1', url: URL_ADO, provider: 'azureDevOpsServices' });
    emu.repos.setBranch(URL_ADO, 'main', SHA_NEW);
    const r = await deploy({ repoPath: PATH }, { 'Build.SourceBranch': 'refs/heads/main', 'Build.SourceVersion': SHA_NEW });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_NEW} (branch main).` });
    assert.deepEqual(calls(), ['GET /api/2.0/repos', 'GET /api/2.0/repos', `PATCH /api/2.0/repos/${repo.id}`, `GET /api/2.0/repos/${repo.id}`]);
    assert.equal(emu.requests[1].query.path_prefix, PATH);
    assert.ok(typeof emu.requests[1].query.next_page_token === 'string');
    assert.deepEqual(
      emu.writes().map((w) => w.body),
      [{ branch: 'main' }],
    );
    assert.ok(
      r.logLines.includes(`Found Git folder ${PATH} (id ${repo.id}), linked to ${URL_ADO}, at ${SHA_OLD.slice(0, 12)} on branch main.`),
      r.logLines.join('\n'),
    );
    assert.ok(r.logLines.includes(`Updated the Git folder from ${SHA_OLD} to ${SHA_NEW} (branch main).`));
    assert.equal(r.outputs.headCommitId, SHA_NEW);
  });

  it('deploys a tag as a tag (detached HEAD), never as a branch', async () => {
    const repo = emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    const r = await deploy({ repoPath: PATH, ref: 'refs/tags/v1.2', expectedCommit: SHA_TAG });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_TAG} (tag v1.2).` });
    assert.deepEqual(
      emu.writes().map((w) => [w.method, w.body]),
      [['PATCH', { tag: 'v1.2' }]],
    );
    assert.deepEqual([emu.repos.get(repo.id)!.branch, emu.repos.get(repo.id)!.headCommitId], [undefined, SHA_TAG]);
    assert.deepEqual(r.outputs, { repoId: String(repo.id), repoUrl: `${emu.url}/browse/folders/${repo.id}`, headCommitId: SHA_TAG, tag: 'v1.2' });
  });

  it('keeps every segment of a branch with slashes', async () => {
    emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    const r = await deploy({ repoPath: PATH, ref: 'refs/heads/feature/login/x', expectedCommit: SHA_FEATURE });
    assert.equal(r.complete?.result, 'Succeeded', r.complete?.message);
    assert.deepEqual(
      emu.writes().map((w) => w.body),
      [{ branch: 'feature/login/x' }],
    );
    assert.equal(r.outputs.branch, 'feature/login/x');
  });

  it('a pull request build deploys the source branch and verifies the source commit, not the merge commit', async () => {
    emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    const r = await deploy(
      { repoPath: PATH, ref: 'refs/pull/7/merge', expectedCommit: SHA_MERGE },
      {
        'Build.SourceBranch': 'refs/pull/7/merge',
        'Build.SourceVersion': SHA_MERGE,
        'System.PullRequest.SourceBranch': 'refs/heads/feature/login/x',
        'System.PullRequest.SourceCommitId': SHA_FEATURE,
      },
    );
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_FEATURE} (branch feature/login/x).` });
    assert.deepEqual(
      emu.writes().map((w) => w.body),
      [{ branch: 'feature/login/x' }],
    );
    assert.ok(
      r.logLines.includes(
        'Deploying branch feature/login/x (from refs/pull/7/merge -> System.PullRequest.SourceBranch refs/heads/feature/login/x) to the Git folder /Repos/Production/churn-model.',
      ),
    );
    assert.ok(r.logLines.includes(`Verified: the head commit matches System.PullRequest.SourceCommitId (${SHA_FEATURE}).`));
  });

  it('fails when the folder ends on another commit than expected, naming both, with the outputs set', async () => {
    const repo = emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    emu.repos.setBranch(URL_ADO, 'release', SHA_NEWER); // someone pushed after this build started
    const r = await deploy({ repoPath: PATH, ref: 'refs/heads/release' }, { 'Build.SourceVersion': SHA_NEW });
    assert.equal(r.complete?.result, 'Failed');
    assert.match(r.complete!.message, new RegExp(`^The Git folder ${PATH} is at commit ${SHA_NEWER} but Build.SourceVersion is ${SHA_NEW}\\.`));
    assert.deepEqual(r.outputs, { repoId: String(repo.id), repoUrl: `${emu.url}/browse/folders/${repo.id}`, headCommitId: SHA_NEWER, branch: 'release' });
    assert.ok(r.logLines.includes(`Updated the Git folder from ${SHA_OLD} to ${SHA_NEWER} (branch release).`));
  });

  it('verifyCommit false accepts whatever the ref points at', async () => {
    emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    emu.repos.setBranch(URL_ADO, 'release', SHA_NEWER);
    const r = await deploy({ repoPath: PATH, ref: 'refs/heads/release', verifyCommit: 'false' }, { 'Build.SourceVersion': SHA_NEW });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${PATH} is at ${SHA_NEWER} (branch release).` });
  });

  it('explains a missing Git credential (service principal on Azure DevOps) and creates nothing', async () => {
    emu.repos.revokeGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
    const r = await deploy({ repoPath: PATH, repoUrl: URL_ADO, ref: 'refs/heads/main' }, { 'Build.SourceVersion': SHA_OLD });
    assert.equal(r.complete?.result, 'Failed');
    const m = r.complete!.message;
    assert.match(
      m,
      /^The identity this pipeline uses has no Git credential in the workspace for azureDevOpsServices, so Databricks cannot clone the repository https:\/\/dev\.azure\.com\/contoso\/mlops\/_git\/churn-model\./,
    );
    assert.match(m, /For a service principal on Azure DevOps Services: create the credential for the service principal/);
    assert.ok(m.endsWith(`Databricks answered 403 PERMISSION_DENIED: ${MISSING_GIT_CREDENTIAL_MESSAGE}`), m);
    assert.deepEqual(emu.repos.list(), []);
    assert.deepEqual(
      emu.writes().map((w) => [w.method, w.path, w.status]),
      [['POST', '/api/2.0/repos', 403]],
    );
    assert.deepEqual(r.outputs, {});
  });

  it('explains a missing Git credential on update, with the folder outputs set', async () => {
    const repo = emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    emu.repos.revokeGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
    const r = await deploy({ repoPath: PATH, ref: 'refs/heads/release' }, { 'Build.SourceVersion': SHA_NEW });
    assert.equal(r.complete?.result, 'Failed');
    assert.match(r.complete!.message, /no Git credential .* so Databricks cannot pull the repository/);
    assert.deepEqual(r.outputs, { repoId: String(repo.id), repoUrl: `${emu.url}/browse/folders/${repo.id}`, headCommitId: SHA_OLD });
    assert.equal(emu.repos.get(repo.id)!.headCommitId, SHA_OLD);
  });

  it('explains an unknown branch and uncommitted changes', async () => {
    const repo = emu.repos.addRepo({ path: PATH, url: URL_ADO, provider: 'azureDevOpsServices' });
    const unknown = await deploy({ repoPath: PATH, ref: 'refs/heads/nope', verifyCommit: 'false' });
    assert.equal(unknown.complete?.result, 'Failed');
    assert.match(
      unknown.complete!.message,
      /^The branch nope was not found in the remote repository https:\/\/dev\.azure\.com\/contoso\/mlops\/_git\/churn-model\. .*400 GIT_UNKNOWN_REF/,
    );
    const tag = await deploy({ repoPath: PATH, ref: 'refs/tags/v9', verifyCommit: 'false' });
    assert.match(tag.complete!.message, /^The tag v9 was not found/);

    emu.repos.setUncommittedChanges(repo.id, true);
    const dirty = await deploy({ repoPath: PATH, ref: 'refs/heads/release', verifyCommit: 'false' });
    assert.equal(dirty.complete?.result, 'Failed');
    assert.match(
      dirty.complete!.message,
      /^The Git folder \/Repos\/Production\/churn-model has uncommitted changes that block checking out branch release\. .*This task never discards changes\./,
    );
    assert.equal(emu.repos.get(repo.id)!.headCommitId, SHA_OLD);
    assert.ok(emu.writes().every((w) => w.method === 'PATCH' && w.status === 400 && w.body.dangerously_force_discard_all === undefined));
  });

  it('fails without a change when the folder is missing and createIfMissing is false, or linked to another remote', async () => {
    const missing = await deploy({ repoPath: PATH, repoUrl: URL_ADO, createIfMissing: 'false', verifyCommit: 'false' });
    assert.deepEqual(missing.complete, {
      result: 'Failed',
      message: `There is no Git folder at ${PATH}, and createIfMissing is false. Create it, or set createIfMissing: true with repoUrl.`,
    });
    const noUrl = await deploy({ repoPath: PATH, verifyCommit: 'false' });
    assert.deepEqual(noUrl.complete, {
      result: 'Failed',
      message: `There is no Git folder at ${PATH}. Set repoUrl (the https clone URL) so the task can create it.`,
    });
    emu.repos.addRemote('https://github.com/contoso/other', { branches: { main: SHA_OLD } });
    emu.repos.addRepo({ path: PATH, url: 'https://github.com/contoso/other', provider: 'gitHub' });
    const other = await deploy({ repoPath: PATH, repoUrl: URL_ADO, verifyCommit: 'false' });
    assert.equal(other.complete?.result, 'Failed');
    assert.match(other.complete!.message, /is linked to https:\/\/github\.com\/contoso\/other, not to repoUrl .* Nothing was changed/);
    assert.deepEqual(emu.writes(), []);
  });

  describe('Git folders with Git CLI access (not listed by GET /api/2.0/repos; DIRECTORY with directory_info.is_git_folder)', () => {
    const CLI_PATH = '/Workspace/Shared/churn-model-cli';

    it('finds the folder through the Workspace API and checks out the ref by its object id', async () => {
      const repo = emu.repos.addRepo({ path: CLI_PATH, url: URL_ADO, provider: 'azureDevOpsServices', gitCliEnabled: true });
      emu.repos.setBranch(URL_ADO, 'main', SHA_NEW);
      const r = await deploy({ repoPath: CLI_PATH, repoUrl: URL_ADO, ref: 'refs/heads/main' }, { 'Build.SourceVersion': SHA_NEW });
      assert.deepEqual(r.complete, { result: 'Succeeded', message: `Git folder ${CLI_PATH} is at ${SHA_NEW} (branch main).` });
      assert.deepEqual(calls(), [
        'GET /api/2.0/repos',
        'GET /api/2.0/workspace/get-status',
        `GET /api/2.0/repos/${repo.id}`,
        `PATCH /api/2.0/repos/${repo.id}`,
        `GET /api/2.0/repos/${repo.id}`,
      ]);
      assert.deepEqual(emu.requests[0].query, { path_prefix: CLI_PATH });
      assert.deepEqual(emu.requests[1].query, { path: CLI_PATH });
      assert.deepEqual(
        emu.writes().map((w) => [w.method, w.path, w.body]),
        [['PATCH', `/api/2.0/repos/${repo.id}`, { branch: 'main' }]],
      );
      assert.deepEqual([emu.repos.get(repo.id)!.branch, emu.repos.get(repo.id)!.headCommitId], ['main', SHA_NEW]);
      assert.deepEqual(r.outputs, { repoId: String(repo.id), repoUrl: `${emu.url}/browse/folders/${repo.id}`, headCommitId: SHA_NEW, branch: 'main' });
      assert.ok(
        r.logLines.includes(`${CLI_PATH} is a Git folder with Git CLI access (the Repos listing omits those): reading it as repo ${repo.id}.`),
        r.logLines.join('\n'),
      );
      assert.deepEqual(r.errors, []);
      assertClean(r);
    });

    it('fails without a change, naming the folder, when the Repos API cannot read it by that id', async () => {
      const repo = emu.repos.addRepo({ path: CLI_PATH, url: URL_ADO, provider: 'azureDevOpsServices', gitCliEnabled: true });
      emu.faults.add({
        method: 'GET',
        path: `/api/2.0/repos/${repo.id}`,
        kind: 'status',
        status: 404,
        errorCode: 'RESOURCE_DOES_NOT_EXIST',
        message: `Repo ${repo.id} does not exist.`,
      });
      const r = await deploy({ repoPath: CLI_PATH, verifyCommit: 'false' }, { 'Build.SourceBranch': 'refs/heads/main' });
      assert.deepEqual(r.complete, {
        result: 'Failed',
        message:
          `The Workspace API reports ${CLI_PATH} as a Git folder with Git CLI access (object id ${repo.id}), but the Repos API could not read it as repo ${repo.id}. ` +
          `Nothing was changed. Check that the pipeline's identity can manage this folder, or deploy to a Git folder created without Git CLI access. Databricks answered 404 RESOURCE_DOES_NOT_EXIST: Repo ${repo.id} does not exist.`,
      });
      assert.deepEqual(calls(), ['GET /api/2.0/repos', 'GET /api/2.0/workspace/get-status', `GET /api/2.0/repos/${repo.id}`]);
      assert.deepEqual(emu.writes(), []);
    });

    it('a plain workspace folder at repoPath is still refused as not a Git folder', async () => {
      emu.workspace.mkdirs('/Shared/plain');
      const r = await deploy({ repoPath: '/Workspace/Shared/plain', repoUrl: URL_ADO, verifyCommit: 'false' });
      assert.deepEqual(r.complete, {
        result: 'Failed',
        message: '/Workspace/Shared/plain exists in the workspace as a DIRECTORY object, not a Git folder. Choose another repoPath or remove that object.',
      });
      assert.deepEqual(calls(), ['GET /api/2.0/repos', 'GET /api/2.0/workspace/get-status']);
      assert.deepEqual(emu.writes(), []);
    });
  });

  describe('bad inputs fail clearly before any request', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['both targets (repoPath and workspaceFolder)', { repoPath: PATH, workspaceFolder: '/Shared/churn' }, /^workspaceFolder is set but mode is repos/],
      ['neither workspaceImport input', { mode: 'workspaceImport' }, /^mode workspaceImport needs sourceFolder .* and workspaceFolder .*; neither is set\.$/],
      ['empty repoPath', { repoPath: '' }, /^Input required: repoPath/],
      ['repoPath with ..', { repoPath: '/Repos/Production/../Staging' }, /^repoPath must not contain "\." or "\.\." segments/],
      ['repoPath outside /Repos and /Workspace', { repoPath: '/Users/me/churn' }, /^repoPath must be under \/Repos or \/Workspace/],
      ['malformed repoUrl', { repoPath: PATH, repoUrl: 'dev.azure.com contoso' }, /^repoUrl is not a valid URL/],
      ['http repoUrl', { repoPath: PATH, repoUrl: 'http://dev.azure.com/contoso/mlops/_git/churn-model' }, /^repoUrl must use https \(got http\)/],
      [
        'repoUrl with credentials',
        { repoPath: PATH, repoUrl: 'https://build:hunter2-secret-pat@dev.azure.com/contoso/mlops/_git/churn-model' },
        /^repoUrl must not contain credentials/,
      ],
      [
        'enterprise host without gitProvider',
        { repoPath: PATH, repoUrl: 'https://git.contoso.com/ml/churn' },
        /^Cannot tell the Git provider from the host git\.contoso\.com/,
      ],
      ['tag-shaped garbage ref', { repoPath: PATH, ref: 'refs/tags/v1 2' }, /^ref "refs\/tags\/v1 2" does not give a valid Git tag name/],
    ];
    for (const [name, inputs, message] of cases) {
      it(name, async () => {
        const r = await deploy(inputs, { 'Build.SourceVersion': SHA_OLD });
        assert.equal(r.complete?.result, 'Failed', r.stdout);
        assert.match(r.complete!.message, message);
        assert.deepEqual(emu.requests, [], 'no request reached the workspace');
        assertClean(r, 'hunter2-secret-pat');
        // Inputs are read without task-lib's debug echo, so only the setsecret registration may carry the value.
        const mentions = r.stdout.split('\n').filter((l) => l.includes('hunter2-secret-pat'));
        for (const l of mentions) assert.ok(l.startsWith('##vso[task.setsecret]'), l);
        assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('##vso[task.debug]repoUrl=')).length, 0);
        assert.deepEqual(r.outputs, {});
      });
    }
  });

  describe('mode workspaceImport', () => {
    let src: string;
    const PY = '# Databricks notebook source\nprint("main")\n';
    const SQL = '-- Databricks notebook source\nSELECT 1\n';
    const SCALA = '// Databricks notebook source\nprintln(1)\n';
    const IPYNB = JSON.stringify({
      cells: [{ cell_type: 'code', source: ['1+1'], metadata: {}, outputs: [], execution_count: null }],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    });

    beforeEach(() => {
      src = mkdtempSync(path.join(tmpdir(), 'deploy-src-'));
      const put = (rel: string, content: string) => {
        mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
        writeFileSync(path.join(src, rel), content);
      };
      put('main.py', PY);
      put('etl/load.sql', SQL);
      put('etl/deep/model.scala', SCALA);
      put('etl/explore.ipynb', IPYNB);
      put('lib/helper.py', 'def helper():\n    return 1\n');
      put('README.md', '# readme\n');
      put('.git/config', '[core]\n');
      emu.workspace.putNotebook('/Shared/churn/old', 'PYTHON', '# Databricks notebook source\n');
      emu.workspace.putNotebook('/Shared/churn/etl/stale', 'SQL', '-- Databricks notebook source\n');
      emu.workspace.mkdirs('/Shared/churn/data');
    });

    const imported = ['/Shared/churn/etl/deep/model', '/Shared/churn/etl/explore', '/Shared/churn/etl/load', '/Shared/churn/main'];

    it('imports a nested folder of notebooks with overwrite and leaves other notebooks alone', async () => {
      emu.workspace.putNotebook('/Shared/churn/main', 'PYTHON', '# Databricks notebook source\nprint("old")\n');
      const r = await deploy({ mode: 'workspaceImport', sourceFolder: src, workspaceFolder: '/Shared/churn' });
      assert.deepEqual(r.complete, { result: 'Succeeded', message: 'Imported 4 notebook(s) into /Shared/churn.' });
      const notebooks = emu.workspace.pathsUnder('/Shared/churn').filter((p) => emu.workspace.get(p)?.objectType === 'NOTEBOOK');
      assert.deepEqual(notebooks, [...imported, '/Shared/churn/etl/stale', '/Shared/churn/old'].sort());
      assert.deepEqual(
        imported.map((p) => [p, emu.workspace.get(p)!.language, emu.workspace.get(p)!.content!.toString()]),
        [
          ['/Shared/churn/etl/deep/model', 'SCALA', SCALA],
          ['/Shared/churn/etl/explore', 'PYTHON', IPYNB],
          ['/Shared/churn/etl/load', 'SQL', SQL],
          ['/Shared/churn/main', 'PYTHON', PY],
        ],
      );
      const imports = emu.callsTo('POST', '/api/2.0/workspace/import').map((c) => ({ ...c.body, content: Buffer.from(c.body.content, 'base64').toString() }));
      assert.deepEqual(imports, [
        { path: '/Shared/churn/etl/deep/model', format: 'SOURCE', language: 'SCALA', content: SCALA, overwrite: true },
        { path: '/Shared/churn/etl/explore', format: 'JUPYTER', content: IPYNB, overwrite: true },
        { path: '/Shared/churn/etl/load', format: 'SOURCE', language: 'SQL', content: SQL, overwrite: true },
        { path: '/Shared/churn/main', format: 'SOURCE', language: 'PYTHON', content: PY, overwrite: true },
      ]);
      assert.deepEqual(
        emu.callsTo('POST', '/api/2.0/workspace/mkdirs').map((c) => c.body.path),
        ['/Shared/churn', '/Shared/churn/etl', '/Shared/churn/etl/deep'],
      );
      assert.deepEqual(emu.callsTo('POST', '/api/2.0/workspace/delete'), []);
      assert.equal(emu.workspace.get('/Shared/churn/lib/helper'), undefined);
      assert.equal(emu.workspace.get('/Shared/churn/lib'), undefined);
      assert.deepEqual(r.outputs, { repoUrl: `${emu.url}/browse/folders/${emu.workspace.get('/Shared/churn')!.objectId}`, importedCount: '4' });
      assert.ok(r.logLines.includes(`Importing 4 notebook(s) from ${src} to /Shared/churn (3 other file(s) skipped).`), r.logLines.join('\n'));
    });

    it('with cleanTarget deletes notebooks no longer in the source, and nothing else', async () => {
      const r = await deploy({ mode: 'workspaceImport', sourceFolder: src, workspaceFolder: '/Workspace/Shared/churn', cleanTarget: 'true' });
      assert.deepEqual(r.complete, {
        result: 'Succeeded',
        message: 'Imported 4 notebook(s) into /Workspace/Shared/churn, deleted 2 notebook(s) no longer in the source.',
      });
      assert.deepEqual(
        emu.callsTo('POST', '/api/2.0/workspace/delete').map((c) => c.body),
        [
          { path: '/Shared/churn/etl/stale', recursive: false },
          { path: '/Shared/churn/old', recursive: false },
        ],
      );
      const notebooks = emu.workspace.pathsUnder('/Shared/churn').filter((p) => emu.workspace.get(p)?.objectType === 'NOTEBOOK');
      assert.deepEqual(notebooks, imported);
      assert.equal(emu.workspace.get('/Shared/churn/data')?.objectType, 'DIRECTORY');
    });

    it('cleanTarget does not enter a Git folder with Git CLI access, and such a folder is refused as the target', async () => {
      emu.repos.addRepo({ path: '/Workspace/Shared/churn/vendored', url: URL_ADO, provider: 'azureDevOpsServices', gitCliEnabled: true });
      emu.workspace.putNotebook('/Shared/churn/vendored/nb', 'PYTHON', '# Databricks notebook source\n');
      const r = await deploy({ mode: 'workspaceImport', sourceFolder: src, workspaceFolder: '/Shared/churn', cleanTarget: 'true' });
      assert.deepEqual(r.complete, {
        result: 'Succeeded',
        message: 'Imported 4 notebook(s) into /Shared/churn, deleted 2 notebook(s) no longer in the source.',
      });
      assert.deepEqual(
        emu.callsTo('POST', '/api/2.0/workspace/delete').map((c) => c.body.path),
        ['/Shared/churn/etl/stale', '/Shared/churn/old'],
      );
      assert.equal(emu.workspace.get('/Shared/churn/vendored/nb')?.objectType, 'NOTEBOOK');
      assert.deepEqual(
        emu.callsTo('GET', '/api/2.0/workspace/list').map((c) => c.query.path),
        ['/Shared/churn', '/Shared/churn/data', '/Shared/churn/etl', '/Shared/churn/etl/deep'],
      );

      emu.clearRequests();
      const target = await deploy({ mode: 'workspaceImport', sourceFolder: src, workspaceFolder: '/Shared/churn/vendored' });
      assert.deepEqual(target.complete, {
        result: 'Failed',
        message:
          'workspaceFolder /Shared/churn/vendored is a Git folder (Git CLI access), whose content belongs to Git. Use mode repos for it, or choose a plain workspace folder. Nothing was imported.',
      });
      assert.deepEqual(calls(), ['GET /api/2.0/workspace/get-status']);
    });

    it('a missing sourceFolder or one without notebooks fails before any write', async () => {
      const missing = await deploy({ mode: 'workspaceImport', sourceFolder: path.join(src, 'nope'), workspaceFolder: '/Shared/churn' });
      assert.deepEqual(missing.complete, {
        result: 'Failed',
        message: `sourceFolder ${path.join(src, 'nope')} does not exist on the agent or is not a folder.`,
      });
      const empty = await deploy({ mode: 'workspaceImport', sourceFolder: path.join(src, 'lib'), workspaceFolder: '/Shared/churn' });
      assert.equal(empty.complete?.result, 'Failed');
      assert.match(empty.complete!.message, /holds no notebooks/);
      assert.deepEqual(emu.writes(), []);
    });
  });
});
