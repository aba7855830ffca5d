import assert from 'node:assert/strict';
import { patTokenProvider } from '../../src/databricks/auth';
import { createApiClient } from '../../src/databricks/http';
import { ReposClient } from '../../src/databricks/repos';
import { isGitFolder, WorkspaceClient } from '../../src/databricks/workspace';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../emulator';
import { MISSING_GIT_CREDENTIAL_MESSAGE } from '../../emulator/routes/repos';
import { rejectsWith } from '../helpers/rejects';

const URL_A = 'https://dev.azure.com/contoso/mlops/_git/churn-model';
const SHA_MAIN = 'a'.repeat(40);
const SHA_DEV = 'b'.repeat(40);
const SHA_TAG = 'c'.repeat(40);

describe('ReposClient and WorkspaceClient against the emulator', () => {
  let emu: Emulator;
  let repos: ReposClient;
  let ws: WorkspaceClient;

  beforeEach(async () => {
    emu = await startEmulator();
    const api = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock: emu.linkedClock() });
    repos = new ReposClient(api);
    ws = new WorkspaceClient(api);
    emu.repos.addRemote(URL_A, { branches: { main: SHA_MAIN, 'feature/x': SHA_DEV }, tags: { 'v1.2': SHA_TAG } });
    emu.repos.grantGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
  });
  afterEach(() => emu.close());

  it('createRepo({url, provider, path}) clones the default branch and returns RepoInfo', async () => {
    const repo = await repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' });
    assert.deepEqual(repo, {
      id: repo.id,
      path: '/Repos/Staging/churn-model',
      url: URL_A,
      provider: 'azureDevOpsServices',
      branch: 'main',
      head_commit_id: SHA_MAIN,
    });
    assert.deepEqual(
      emu.callsTo('POST', '/api/2.0/repos').map((r) => r.body),
      [{ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' }],
    );
    assert.equal(emu.workspace.get('/Repos/Staging/churn-model')?.objectType, 'REPO');
  });

  it('createRepo without a Git credential for the caller answers 403 PERMISSION_DENIED and creates nothing', async () => {
    emu.repos.revokeGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
    await rejectsWith(
      repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' }),
      403,
      'PERMISSION_DENIED',
      /Missing Git provider credentials/,
    );
    assert.deepEqual(emu.repos.list(), []);
    // Non-idempotent: sent exactly once.
    assert.equal(emu.callsTo('POST', '/api/2.0/repos').length, 1);
    assert.ok(MISSING_GIT_CREDENTIAL_MESSAGE.startsWith('Missing Git provider credentials.'));
  });

  it('createRepo rejects paths that are not /Repos/{folder}/{name} or under /Workspace', async () => {
    for (const path of ['/Repos/churn-model', '/Repos/a/b/c', '/Users/me/churn-model', '/Shared/x']) {
      await rejectsWith(repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path }), 400, 'INVALID_PARAMETER_VALUE');
    }
    assert.deepEqual(emu.repos.list(), []);
  });

  it('createRepo on a taken path answers RESOURCE_ALREADY_EXISTS', async () => {
    await repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' });
    await rejectsWith(
      repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Workspace/Repos/Staging/churn-model' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
  });

  it('updateRepo(id, {tag}) detaches HEAD at the tag commit; {branch} keeps slashes; unknown refs fail', async () => {
    const repo = await repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' });
    await repos.updateRepo(repo.id, { tag: 'v1.2' });
    assert.deepEqual(await repos.getRepo(repo.id), {
      id: repo.id,
      path: '/Repos/Staging/churn-model',
      url: URL_A,
      provider: 'azureDevOpsServices',
      head_commit_id: SHA_TAG,
    });
    await repos.updateRepo(repo.id, { branch: 'feature/x' });
    const after = await repos.getRepo(repo.id);
    assert.equal(after.branch, 'feature/x');
    assert.equal(after.head_commit_id, SHA_DEV);
    assert.deepEqual(
      emu.callsTo('PATCH', `/api/2.0/repos/${repo.id}`).map((r) => r.body),
      [{ tag: 'v1.2' }, { branch: 'feature/x' }],
    );
    await rejectsWith(repos.updateRepo(repo.id, { branch: 'nope' }), 400, 'GIT_UNKNOWN_REF', /Branch nope/);
    await rejectsWith(repos.updateRepo(repo.id, { tag: 'v9' }), 400, 'GIT_UNKNOWN_REF', /Tag v9/);
    await assert.rejects(repos.updateRepo(repo.id, { branch: 'a', tag: 'b' } as never), /exactly one of branch or tag/);
  });

  it('updateRepo pulls a moved branch, and uncommitted changes block it with GIT_CONFLICT', async () => {
    const repo = await repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' });
    emu.repos.setBranch(URL_A, 'main', SHA_DEV);
    await repos.updateRepo(repo.id, { branch: 'main' });
    assert.equal((await repos.getRepo(repo.id)).head_commit_id, SHA_DEV);
    emu.repos.setUncommittedChanges(repo.id, true);
    emu.repos.setBranch(URL_A, 'main', SHA_MAIN);
    await rejectsWith(repos.updateRepo(repo.id, { branch: 'main' }), 400, 'GIT_CONFLICT');
    assert.equal((await repos.getRepo(repo.id)).head_commit_id, SHA_DEV);
  });

  it('listRepos follows next_page_token across pages and findByPath matches exactly', async () => {
    emu.repos.pageSize = 2;
    for (const name of ['a', 'b', 'c', 'churn-model-old', 'churn-model'])
      emu.repos.addRepo({ path: `/Repos/Staging/${name}`, url: URL_A, provider: 'azureDevOpsServices' });
    emu.repos.addRepo({ path: '/Repos/Production/churn-model', url: URL_A, provider: 'azureDevOpsServices' });
    const all: string[] = [];
    for await (const r of repos.listRepos()) all.push(r.path!);
    assert.deepEqual(all, [
      '/Repos/Staging/a',
      '/Repos/Staging/b',
      '/Repos/Staging/c',
      '/Repos/Staging/churn-model-old',
      '/Repos/Staging/churn-model',
      '/Repos/Production/churn-model',
    ]);
    assert.equal(emu.callsTo('GET', '/api/2.0/repos').length, 3);
    emu.clearRequests();
    const found = await repos.findByPath('/Workspace/Repos/Staging/churn-model');
    assert.equal(found?.path, '/Repos/Staging/churn-model');
    assert.deepEqual(
      emu.callsTo('GET', '/api/2.0/repos').map((r) => r.query.path_prefix),
      ['/Workspace/Repos/Staging/churn-model'],
    );
    assert.equal(await repos.findByPath('/Repos/Staging/churn'), undefined);
  });

  it('getRepo and deleteRepo: unknown id is 404 RESOURCE_DOES_NOT_EXIST; delete removes the workspace object', async () => {
    const repo = await repos.createRepo({ url: URL_A, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn-model' });
    await repos.deleteRepo(repo.id);
    await rejectsWith(repos.getRepo(repo.id), 404, 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(emu.workspace.get('/Repos/Staging/churn-model'), undefined);
  });

  it('a Git folder with Git CLI access: not listed, a DIRECTORY with is_git_folder in the Workspace API, read by its object id', async () => {
    const std = emu.repos.addRepo({ path: '/Workspace/Shared/std', url: URL_A, provider: 'azureDevOpsServices' });
    const cli = emu.repos.addRepo({ path: '/Workspace/Shared/cli', url: URL_A, provider: 'azureDevOpsServices', gitCliEnabled: true });
    await ws.mkdirs('/Shared/plain');
    assert.equal(await repos.findByPath('/Workspace/Shared/cli'), undefined);
    assert.equal((await repos.findByPath('/Workspace/Shared/std'))?.id, std.id);
    const t = emu.workspace.get('/Shared/std')!.createdAt;
    assert.deepEqual(await ws.getStatus('/Workspace/Shared/cli'), {
      object_type: 'DIRECTORY',
      path: '/Shared/cli',
      object_id: cli.id,
      resource_id: String(cli.id),
      directory_info: { is_git_folder: true },
    });
    assert.deepEqual(await ws.getStatus('/Shared/std'), {
      object_type: 'REPO',
      path: '/Shared/std',
      object_id: std.id,
      resource_id: String(std.id),
      created_at: t,
      modified_at: t,
    });
    assert.deepEqual((await ws.getStatus('/Shared/plain'))?.directory_info, { is_git_folder: false });
    assert.deepEqual(
      (await ws.list('/Shared')).map((o) => [o.path, isGitFolder(o)]),
      [
        ['/Shared/cli', true],
        ['/Shared/plain', false],
        ['/Shared/std', true],
      ],
    );
    assert.deepEqual(await repos.getRepo(cli.id), {
      id: cli.id,
      path: '/Shared/cli',
      url: URL_A,
      provider: 'azureDevOpsServices',
      branch: 'main',
      head_commit_id: SHA_MAIN,
      git_cli_enabled: true,
    });
    await repos.updateRepo(cli.id, { branch: 'feature/x' });
    assert.equal((await repos.getRepo(cli.id)).head_commit_id, SHA_DEV);
  });

  it('WorkspaceClient: import needs the parent, refuses to overwrite unless asked, get-status/list/export/delete', async () => {
    const nb = '# Databricks notebook source\nprint(1)\n';
    await rejectsWith(
      ws.importFile({ path: '/Shared/app/nb', content: nb, format: 'SOURCE', language: 'PYTHON', overwrite: false }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      /parent folder/,
    );
    await ws.mkdirs('/Workspace/Shared/app/sub');
    await ws.mkdirs('/Shared/app/sub'); // idempotent
    await ws.importFile({ path: '/Shared/app/nb', content: nb, format: 'SOURCE', language: 'PYTHON', overwrite: false });
    await rejectsWith(
      ws.importFile({ path: '/Shared/app/nb', content: nb, format: 'SOURCE', language: 'PYTHON', overwrite: false }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
    await ws.importFile({ path: '/Shared/app/nb', content: `${nb}print(2)\n`, format: 'SOURCE', language: 'PYTHON', overwrite: true });
    assert.equal((await ws.exportFile('/Shared/app/nb')).toString(), `${nb}print(2)\n`);
    const ipynb = JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 });
    await ws.importFile({ path: '/Shared/app/sub/j', content: ipynb, format: 'JUPYTER', overwrite: true });

    const status = await ws.getStatus('/Shared/app/nb');
    assert.equal(status?.object_type, 'NOTEBOOK');
    assert.equal(status?.language, 'PYTHON');
    assert.equal(await ws.getStatus('/Shared/nothing'), undefined);
    assert.deepEqual(
      (await ws.list('/Shared/app')).map((o) => [o.path, o.object_type]),
      [
        ['/Shared/app/nb', 'NOTEBOOK'],
        ['/Shared/app/sub', 'DIRECTORY'],
      ],
    );
    const walked: string[] = [];
    for await (const o of ws.walk('/Shared/app')) walked.push(o.path!);
    assert.deepEqual(walked, ['/Shared/app/nb', '/Shared/app/sub', '/Shared/app/sub/j']);
    assert.deepEqual(await ws.list('/Shared/app/sub/j').then((l) => l.map((o) => o.language)), ['PYTHON']);

    await rejectsWith(ws.delete('/Shared/app', { recursive: false }), 400, 'DIRECTORY_NOT_EMPTY');
    await ws.delete('/Shared/app', { recursive: true });
    assert.deepEqual(emu.workspace.pathsUnder('/Shared'), []);
    await rejectsWith(ws.delete('/Shared/app', { recursive: true }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('WorkspaceClient.getStatus throws anything other than RESOURCE_DOES_NOT_EXIST', async () => {
    await rejectsWith(ws.getStatus('relative/path'), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('import validates format, language and JUPYTER content; AUTO strips a notebook extension only with the header', async () => {
    await ws.mkdirs('/Shared/auto');
    await rejectsWith(ws.importFile({ path: '/Shared/auto/x', content: 'not json', format: 'JUPYTER', overwrite: true }), 400, 'INVALID_PARAMETER_VALUE');
    await ws.importFile({ path: '/Shared/auto/nb.sql', content: '-- Databricks notebook source\nSELECT 1', format: 'AUTO', overwrite: false });
    await ws.importFile({ path: '/Shared/auto/helper.py', content: 'def f(): pass\n', format: 'AUTO', overwrite: false });
    assert.deepEqual(
      emu.workspace.pathsUnder('/Shared/auto').map((p) => [p, emu.workspace.get(p)?.objectType, emu.workspace.get(p)?.language]),
      [
        ['/Shared/auto/helper.py', 'FILE', undefined],
        ['/Shared/auto/nb', 'NOTEBOOK', 'SQL'],
      ],
    );
  });
});
