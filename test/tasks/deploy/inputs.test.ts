import assert from 'node:assert/strict';
import { detectGitProvider, parseDeployInputs, parseRef, validateRepoUrl, type ReposDeployInputs } from '../../../src/tasks/deploy/inputs';
import { InputError, Inputs, mapInputSource } from '../../../src/pipeline/inputs';

const BUILD_SHA = '0123456789abcdef0123456789abcdef01234567';
const PR_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const BASE_VARS = { 'Build.SourceBranch': 'refs/heads/main', 'Build.SourceVersion': BUILD_SHA };

function parse(inputs: Record<string, string | undefined>, variables: Record<string, string | undefined> = BASE_VARS) {
  return parseDeployInputs(new Inputs(mapInputSource(inputs, variables)));
}

function parseRepos(inputs: Record<string, string | undefined>, variables?: Record<string, string | undefined>): ReposDeployInputs {
  const r = parse({ repoPath: '/Repos/Production/churn-model', ...inputs }, variables);
  assert.equal(r.mode, 'repos');
  return r as ReposDeployInputs;
}

function inputError(fn: () => unknown, input: string, message: RegExp): InputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.equal(e.input, input);
    assert.match(e.message, message);
    return e;
  }
  assert.fail('expected an InputError');
}

describe('deploy inputs: parseRef(ref, variables)', () => {
  const none = () => undefined;
  it('refs/heads/feature/x keeps every path segment of the branch', () => {
    assert.deepEqual(parseRef('refs/heads/feature/x', none), {
      ref: { kind: 'branch', name: 'feature/x' },
      origin: 'refs/heads/feature/x',
      isPullRequest: false,
    });
    assert.deepEqual(parseRef('refs/heads/users/ann/fix/JIRA-1', none).ref, { kind: 'branch', name: 'users/ann/fix/JIRA-1' });
  });
  it('refs/tags/v1.2 is a tag, never a branch', () => {
    assert.deepEqual(parseRef('refs/tags/v1.2', none).ref, { kind: 'tag', name: 'v1.2' });
    assert.deepEqual(parseRef('refs/tags/release/2024.1', none).ref, { kind: 'tag', name: 'release/2024.1' });
  });
  it('refs/pull/7/merge deploys System.PullRequest.SourceBranch, long or short form', () => {
    const long = parseRef('refs/pull/7/merge', (n) => (n === 'System.PullRequest.SourceBranch' ? 'refs/heads/feature/login' : undefined));
    assert.deepEqual(long, {
      ref: { kind: 'branch', name: 'feature/login' },
      origin: 'refs/pull/7/merge -> System.PullRequest.SourceBranch refs/heads/feature/login',
      isPullRequest: true,
    });
    const short = parseRef('refs/pull/7/merge', (n) => (n === 'System.PullRequest.SourceBranch' ? 'feature/login' : undefined));
    assert.deepEqual(short.ref, { kind: 'branch', name: 'feature/login' });
  });
  it('refs/pull/<n>/merge without System.PullRequest.SourceBranch is an input error', () => {
    inputError(() => parseRef('refs/pull/7/merge', none), 'ref', /System\.PullRequest\.SourceBranch is not set/);
  });
  it('a bare name is a branch; other refs/ and invalid names are rejected', () => {
    assert.deepEqual(parseRef('release/1.0', none).ref, { kind: 'branch', name: 'release/1.0' });
    inputError(() => parseRef('refs/remotes/origin/main', none), 'ref', /is not a branch/);
    for (const bad of ['refs/heads/', 'refs/heads/a..b', 'refs/tags/v1 2', 'feature/', '-x', 'a:b', 'refs/heads/x.lock', 'a//b']) {
      inputError(() => parseRef(bad, none), 'ref', /valid Git/);
    }
  });
});

describe('deploy inputs: provider detection and URL validation', () => {
  it('detectGitProvider(url) knows the public hosts', () => {
    const cases: Array<[string, string | undefined]> = [
      ['https://dev.azure.com/contoso/mlops/_git/churn', 'azureDevOpsServices'],
      ['https://contoso.visualstudio.com/mlops/_git/churn', 'azureDevOpsServices'],
      ['https://github.com/contoso/churn.git', 'gitHub'],
      ['https://gitlab.com/contoso/churn', 'gitLab'],
      ['https://bitbucket.org/contoso/churn.git', 'bitbucketCloud'],
      ['https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/churn', 'awsCodeCommit'],
      ['https://github.contoso.com/ml/churn', undefined],
      ['https://gitlab.contoso.com/ml/churn', undefined],
      ['https://notgithub.com/ml/churn', undefined],
    ];
    for (const [url, want] of cases) assert.equal(detectGitProvider(url), want, url);
  });
  it('an enterprise host needs an explicit gitProvider, which is then used as given', () => {
    inputError(
      () => parseRepos({ repoUrl: 'https://github.contoso.com/ml/churn' }),
      'gitProvider',
      /Cannot tell the Git provider from the host github\.contoso\.com.*gitHubEnterprise/,
    );
    assert.equal(parseRepos({ repoUrl: 'https://github.contoso.com/ml/churn', gitProvider: 'githubenterprise' }).gitProvider, 'gitHubEnterprise');
    assert.equal(parseRepos({ repoUrl: 'https://dev.azure.com/c/p/_git/r' }).gitProvider, 'azureDevOpsServices');
  });
  it('validateRepoUrl rejects http, credentials, garbage, query strings, and never echoes a token', () => {
    inputError(() => validateRepoUrl('http://github.com/a/b'), 'repoUrl', /must use https \(got http\)/);
    const e = inputError(() => validateRepoUrl('https://user:s3cr3t-token@dev.azure.com/c/p/_git/r'), 'repoUrl', /must not contain credentials/);
    assert.ok(!e.message.includes('s3cr3t-token'));
    const e2 = inputError(() => validateRepoUrl('https://ghp_abcdefgh@github.com/a/b'), 'repoUrl', /must not contain credentials/);
    assert.ok(!e2.message.includes('ghp_abcdefgh'));
    inputError(() => validateRepoUrl('not a url'), 'repoUrl', /not a valid URL/);
    inputError(() => validateRepoUrl('git@github.com:a/b.git'), 'repoUrl', /not a valid URL|https/);
    inputError(() => validateRepoUrl('https://github.com/a/b?x=1'), 'repoUrl', /query string/);
    inputError(() => validateRepoUrl('https://github.com/'), 'repoUrl', /no repository path/);
    assert.equal(validateRepoUrl(' https://github.com/a/b.git/ '), 'https://github.com/a/b.git');
  });
  it('gitProvider without repoUrl is rejected', () => {
    inputError(() => parseRepos({ gitProvider: 'gitHub' }), 'gitProvider', /repoUrl is not/);
  });
});

describe('deploy inputs: parseDeployInputs(inputs)', () => {
  it('defaults: ref from Build.SourceBranch, commit from Build.SourceVersion, createIfMissing and verifyCommit on', () => {
    assert.deepEqual(parseRepos({}), {
      mode: 'repos',
      repoPath: '/Repos/Production/churn-model',
      repoUrl: undefined,
      gitProvider: undefined,
      createIfMissing: true,
      ref: { kind: 'branch', name: 'main' },
      refOrigin: 'refs/heads/main',
      verifyCommit: true,
      expectedCommit: BUILD_SHA,
      expectedCommitOrigin: 'Build.SourceVersion',
    });
  });
  it('a pull request ref verifies System.PullRequest.SourceCommitId, not the merge commit', () => {
    const vars = { ...BASE_VARS, 'System.PullRequest.SourceBranch': 'refs/heads/feature/x', 'System.PullRequest.SourceCommitId': PR_SHA.toUpperCase() };
    const r = parseRepos({ ref: 'refs/pull/12/merge', expectedCommit: BUILD_SHA }, vars);
    assert.deepEqual([r.ref, r.expectedCommit, r.expectedCommitOrigin], [{ kind: 'branch', name: 'feature/x' }, PR_SHA, 'System.PullRequest.SourceCommitId']);
    // An explicit, different expectedCommit wins.
    const other = 'e'.repeat(40);
    assert.equal(parseRepos({ ref: 'refs/pull/12/merge', expectedCommit: other }, vars).expectedCommit, other);
    inputError(
      () => parseRepos({ ref: 'refs/pull/12/merge' }, { ...BASE_VARS, 'System.PullRequest.SourceBranch': 'feature/x' }),
      'expectedCommit',
      /System\.PullRequest\.SourceCommitId is not set/,
    );
  });
  it('verifyCommit false needs no commit; a malformed expectedCommit is rejected', () => {
    const r = parseRepos({ verifyCommit: 'false' }, { 'Build.SourceBranch': 'refs/tags/v1' });
    assert.deepEqual([r.verifyCommit, r.expectedCommit, r.ref], [false, undefined, { kind: 'tag', name: 'v1' }]);
    inputError(() => parseRepos({ expectedCommit: 'abc123' }), 'expectedCommit', /full commit id/);
    inputError(() => parseRepos({ verifyCommit: 'yes' }), 'verifyCommit', /true or false/);
    inputError(() => parseRepos({}, { 'Build.SourceBranch': 'refs/heads/main' }), 'expectedCommit', /no commit to verify/);
  });
  it('repoPath: required, /Repos/<folder>/<name> or deeper than /Workspace/<root>, no .. or empty segments', () => {
    inputError(() => parse({}), 'repoPath', /Input required: repoPath/);
    inputError(() => parse({ repoPath: '   ' }), 'repoPath', /Input required: repoPath/);
    for (const [path, msg] of [
      ['/Users/me/churn', /must be under \/Repos or \/Workspace/],
      ['Repos/a/b', /absolute workspace path/],
      ['/Repos/a/../b', /"\." or "\.\." segments/],
      ['/Repos/a//b', /empty segments/],
      ['/Repos/churn', /exactly \/Repos\/<folder>\/<repo-name>/],
      ['/Repos/a/b/c', /exactly \/Repos\/<folder>\/<repo-name>/],
      ['/Workspace/Repos/a', /exactly/],
      ['/Workspace/Shared', /must name a folder inside/],
      ['/Repository/a/b', /must be under/],
      ['/Repos/a/b\u0007x', /control characters/],
    ] as Array<[string, RegExp]>) {
      inputError(() => parse({ repoPath: path }), 'repoPath', msg);
    }
    assert.equal((parse({ repoPath: '/Workspace/Repos/Staging/churn/' }) as ReposDeployInputs).repoPath, '/Workspace/Repos/Staging/churn');
    assert.equal((parse({ repoPath: '/Workspace/Users/me@x.com/churn' }) as ReposDeployInputs).repoPath, '/Workspace/Users/me@x.com/churn');
  });
  it('repos mode with workspaceFolder (both targets) and workspaceImport without its pair are rejected', () => {
    inputError(() => parse({ repoPath: '/Repos/a/b', workspaceFolder: '/Shared/x' }), 'workspaceFolder', /mode is repos/);
    inputError(
      () => parse({ mode: 'workspaceImport', repoPath: '/Repos/a/b', sourceFolder: 'nb', workspaceFolder: '/Shared/x' }),
      'repoPath',
      /mode is workspaceImport/,
    );
    inputError(() => parse({ mode: 'workspaceImport' }), 'sourceFolder', /neither is set/);
    inputError(() => parse({ mode: 'workspaceImport', workspaceFolder: '/Shared/x' }), 'sourceFolder', /Input required: sourceFolder/);
    inputError(() => parse({ mode: 'workspaceImport', sourceFolder: 'nb' }), 'workspaceFolder', /Input required: workspaceFolder/);
    inputError(() => parse({ mode: 'deploy' }), 'mode', /must be one of repos, workspaceImport/);
  });
  it('workspaceImport: workspaceFolder validated (not top level, not /Repos, no ..), cleanTarget default false', () => {
    assert.deepEqual(parse({ mode: 'workspaceimport', sourceFolder: '/agent/nb', workspaceFolder: '/Shared/churn/' }), {
      mode: 'workspaceImport',
      sourceFolder: '/agent/nb',
      workspaceFolder: '/Shared/churn',
      cleanTarget: false,
    });
    for (const [folder, msg] of [
      ['/Shared', /not a top-level/],
      ['/Workspace/Users', /not a top-level/],
      ['/Repos/a/b', /must be under/],
      ['/Workspace/Repos/a/b', /must not be under \/Repos/],
      ['/Shared/../Users/x', /"\." or "\.\."/],
      ['Shared/x', /absolute/],
    ] as Array<[string, RegExp]>) {
      inputError(() => parse({ mode: 'workspaceImport', sourceFolder: 'nb', workspaceFolder: folder }), 'workspaceFolder', msg);
    }
    assert.equal(
      (parse({ mode: 'workspaceImport', sourceFolder: 'nb', workspaceFolder: '/Shared/x', cleanTarget: 'true' }) as { cleanTarget: boolean }).cleanTarget,
      true,
    );
  });
});
