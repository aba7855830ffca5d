/**
 * Issue 10, secrets: every bundled task under every authentication scheme (PAT, Databricks OAuth M2M, Entra
 * client secret, workload identity federation through Entra, Databricks OAuth token federation), on its success path and on a failure path, is scanned for
 * every secret the tests used: the static credentials and every access and OIDC token the emulator issued.
 * The scan covers the log as the agent shows it (after masking what the agent knows), error and completion
 * messages, and every file the run leaves (attachments, summaries, decision records). Every other run of
 * this suite is scanned the same way (harness.runScanned). A root-level hook finally scans the files of
 * every bundled-task run of the whole test process. Response bodies are size-limited; downloads stream.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTokenProvider } from '../../src/databricks/auth';
import { DatabricksApiError } from '../../src/databricks/errors';
import { createApiClient } from '../../src/databricks/http';
import { EMULATOR_DEFAULTS, type Emulator } from '../../emulator';
import type { AgentEndpoint } from '../helpers/agent';
import { registerTestSecret, scanAgentTempDirs, testSecrets } from '../helpers/secrets';
import { CONN, deployWorld, evaluateWorld, issuedTokens, pool, runWorld, scanRun, scans, serveWorld, trainWorld, withEmulator, World } from './harness';

const D = EMULATOR_DEFAULTS;
const PROCESS_START = Date.now() - process.uptime() * 1000;

type Scheme = 'pat' | 'databricksOAuth' | 'entraSecret' | 'federated' | 'databricksFederation';
/** Schemes whose runs obtain two tokens: the Azure DevOps OIDC token and the workspace token. */
const TWO_TOKENS: readonly Scheme[] = ['federated', 'databricksFederation'];

/** Connection inputs, endpoints and variables of one scheme against this emulator. */
function connection(
  scheme: Scheme,
  emu: Emulator,
): { inputs: Record<string, string | undefined>; endpoints: Record<string, AgentEndpoint>; variables: Record<string, string> } {
  if (scheme === 'pat') return { inputs: {}, endpoints: { [CONN]: { url: emu.url, scheme: 'Token', params: { apitoken: D.pat } } }, variables: {} };
  if (scheme === 'databricksOAuth') {
    return {
      inputs: {},
      endpoints: { [CONN]: { url: emu.url, scheme: 'None', params: { clientId: D.databricksClientId, clientSecret: D.databricksClientSecret } } },
      variables: {},
    };
  }
  if (scheme === 'entraSecret') {
    return {
      inputs: {},
      endpoints: {
        [CONN]: {
          url: emu.url,
          scheme: 'ServicePrincipal',
          params: { tenantId: D.tenantId, clientId: D.entraClientId, clientSecret: D.entraClientSecret },
          data: { authorityHost: emu.url },
        },
      },
      variables: {},
    };
  }
  if (scheme === 'databricksFederation') {
    // Our own Databricks connection with the workload identity federation scheme: no secret in it at all.
    return {
      inputs: { databricksConnection: D.serviceConnectionId },
      endpoints: {
        [D.serviceConnectionId]: { url: emu.url, scheme: 'WorkloadIdentityFederation', params: { clientId: D.databricksClientId } },
        SystemVssConnection: { url: 'https://dev.azure.com/contoso/', scheme: 'OAuth', params: { AccessToken: D.systemAccessToken } },
      },
      variables: { 'System.OidcRequestUri': emu.oidcRequestUri },
    };
  }
  return {
    inputs: { connectionType: 'azureResourceManager', databricksConnection: undefined, azureSubscription: D.serviceConnectionId, workspaceUrl: emu.url },
    endpoints: {
      [D.serviceConnectionId]: {
        url: 'https://management.azure.com/',
        scheme: 'WorkloadIdentityFederation',
        params: { tenantid: D.tenantId, serviceprincipalid: D.entraClientId },
        data: { activeDirectoryAuthority: emu.url },
      },
      SystemVssConnection: { url: 'https://dev.azure.com/contoso/', scheme: 'OAuth', params: { AccessToken: D.systemAccessToken } },
    },
    variables: { 'System.OidcRequestUri': emu.oidcRequestUri },
  };
}

type SecretTask = 'train' | 'deploy' | 'evaluate' | 'serve';

interface SecretCase {
  task: SecretTask;
  scheme: Scheme;
  failing: boolean;
}

const CASES: SecretCase[] = [];
for (const task of ['train', 'deploy', 'evaluate', 'serve'] as const) {
  for (const scheme of ['pat', 'databricksOAuth', 'entraSecret', 'federated', 'databricksFederation'] as const) CASES.push({ task, scheme, failing: false });
  CASES.push({ task, scheme: 'federated', failing: true });
  CASES.push({ task, scheme: 'databricksFederation', failing: true });
  CASES.push({ task, scheme: 'entraSecret', failing: true });
}

interface SecretResult {
  result?: string;
  message?: string;
  tokens: number;
  tokensMasked: number;
}

function worldOf(task: SecretTask, emu: Emulator): Promise<World<unknown>> {
  return task === 'train' ? trainWorld(emu) : task === 'deploy' ? deployWorld(emu) : task === 'serve' ? serveWorld(emu) : evaluateWorld(emu);
}

async function runSecretCase(c: SecretCase): Promise<SecretResult> {
  return withEmulator(async (emu) => {
    const w: World<unknown> = await worldOf(c.task, emu);
    // Service principals need their own Git credential to create a Git folder (the PAT user has one already).
    for (const principal of [`entra:${D.entraClientId}`, `sp:${D.databricksClientId}`]) emu.repos.grantGitCredential(principal, 'azureDevOpsServices');
    // The failure path: a sign-in page in the middle of the task, so the error message path is scanned too.
    if (c.failing) {
      const route =
        c.task === 'train'
          ? '/api/2.2/jobs/runs/get'
          : c.task === 'deploy'
            ? /^\/api\/2\.0\/repos\/\d+$/
            : c.task === 'serve'
              ? '/api/2.0/serving-endpoints/churn/config'
              : '/api/2.0/mlflow/model-versions/create';
      emu.faults.add({ path: route, kind: 'html', times: Infinity });
    }
    const conn = connection(c.scheme, emu);
    const r = await runWorld(`secrets ${c.task} ${c.scheme}${c.failing ? ' failing' : ''}`, w, {
      inputs: conn.inputs,
      endpoints: conn.endpoints,
      variables: conn.variables,
    });
    const tokens = issuedTokens(emu);
    const registered = r.commands.filter((x) => x.name === 'task.setsecret').map((x) => x.message);
    return {
      result: r.complete?.result,
      message: r.complete?.message,
      tokens: tokens.length,
      tokensMasked: tokens.filter((t) => registered.includes(t)).length,
    };
  });
}

describe('reliability: secrets never reach a log, message, attachment or report', function () {
  this.timeout(180_000);
  const results = new Map<SecretCase, SecretResult>();

  before(async () => {
    const out = await pool(CASES, 5, runSecretCase);
    CASES.forEach((c, i) => results.set(c, out[i]));
  });

  for (const c of CASES) {
    it(`${c.task} with ${c.scheme}${c.failing ? ', failing on a sign-in page' : ''}: clean, and every issued token registered as a secret`, () => {
      const res = results.get(c)!;
      // runScanned already failed the run on any hit; here: the run did what it was meant to, under that scheme.
      assert.equal(res.result, c.failing ? 'Failed' : 'Succeeded', res.message);
      if (c.failing) assert.match(res.message!, /returned an HTML sign-in page/);
      if (c.scheme === 'pat') assert.equal(res.tokens, 0);
      else {
        // OAuth/Entra: one access token; federation (either kind): the OIDC token and the access token.
        assert.equal(res.tokens, TWO_TOKENS.includes(c.scheme) ? 2 : 1);
        assert.equal(res.tokensMasked, res.tokens, 'every token obtained is registered with the agent masker');
      }
    });
  }

  it('Train with Databricks OAuth token federation (our connection, scheme WorkloadIdentityFederation): one OIDC request, one token exchange with client_id, every call as the service principal, no secret anywhere', () =>
    withEmulator(async (emu) => {
      const w = await trainWorld(emu);
      const conn = connection('databricksFederation', emu);
      const r = await runWorld('databricks federation train (explicit)', w, conn);
      // The duration is wall-clock time of the emulated run: whole seconds, 0 on a quiet machine, more under load.
      assert.equal(r.complete?.result, 'Succeeded', r.stdout);
      assert.match(r.complete!.message, /^Databricks run 880000000000001 succeeded in \d+s\.$/);
      assert.deepEqual(w.state(), { runsStarted: 1, cancels: 0, taggedCandidates: 1 });
      const oidc = emu.requests.filter((x) => x.path.endsWith('/oidctoken'));
      assert.deepEqual(
        oidc.map((x) => [x.method, x.query, x.status]),
        [['POST', { 'api-version': '7.1', serviceConnectionId: D.serviceConnectionId }, 200]],
      );
      assert.deepEqual(
        emu.callsTo('POST', '/oidc/v1/token').map((x) => [x.body, x.status]),
        [
          [
            {
              grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
              subject_token: '***',
              subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
              scope: 'all-apis',
              client_id: D.databricksClientId,
            },
            200,
          ],
        ],
      );
      assert.deepEqual(
        emu.auth.issued.map((i) => [i.kind, i.principal]),
        [
          ['adoOidc', `sc://contoso/mlops/${D.serviceConnectionId}`],
          ['databricksFederation', `sp:${D.databricksClientId}`],
        ],
      );
      // Every workspace call authenticated (no 401/403) with the exchanged token.
      const api = emu.requests.filter((x) => x.path.startsWith('/api/'));
      assert.ok(api.length > 3);
      assert.deepEqual(
        api.filter((x) => x.status === 401 || x.status === 403),
        [],
      );
      // Registered with the masker: the job token, then the OIDC token, then the workspace token.
      const registered = r.commands.filter((x) => x.name === 'task.setsecret').map((x) => x.message);
      const issued = issuedTokens(emu);
      for (const v of [D.systemAccessToken, ...issued]) assert.ok(registered.includes(v));
      assert.ok(registered.indexOf(D.systemAccessToken) < Math.min(...issued.map((t) => registered.indexOf(t))));
    }));

  describe("with System.Debug = true (debug lines shown): inputs are read without task-lib's name=value echo", () => {
    const GIT_PAT_DEBUG = registerTestSecret('Git PAT in a repoUrl (debug case)', 'debug-mode-git-pat-in-url-0077');

    it('Deploy with credentials in repoUrl: refused by name; the credentials appear in no shown line (debug included), only in masker registrations', () =>
      withEmulator(async (emu) => {
        const w = await deployWorld(emu);
        const r = await runWorld('secrets debug deploy repoUrl credentials', w, {
          inputs: { repoUrl: `https://build:${GIT_PAT_DEBUG}@dev.azure.com/contoso/mlops/_git/churn-model` },
          variables: { 'System.Debug': 'true' },
        });
        assert.equal(r.complete?.result, 'Failed', r.stdout);
        assert.match(r.complete!.message, /^repoUrl must not contain credentials/);
        assert.ok(
          r.commands.some((c) => c.name === 'task.debug'),
          'debug lines were written (and scanned)',
        );
        // The only lines that carry it register it with the agent's masker (the agent consumes them; never shown).
        const carrying = `${r.stdout}\n${r.stderr}`.split(/\r?\n/).filter((l) => l.includes(GIT_PAT_DEBUG));
        assert.ok(carrying.length > 0 && carrying.every((l) => l.startsWith('##vso[task.setsecret]')), carrying.join('\n'));
        assert.deepEqual(emu.requests, []);
      }));

    for (const task of ['train', 'deploy', 'evaluate', 'serve'] as const) {
      it(`${task} succeeds under PAT with every debug line shown, and nothing secret is in them`, () =>
        withEmulator(async (emu) => {
          const w: World<unknown> = await worldOf(task, emu);
          // runScanned scans the agent-visible log with debug lines included (System.Debug = true).
          const r = await runWorld(`secrets debug ${task}`, w, { variables: { 'System.Debug': 'true' } });
          assert.equal(r.complete?.result, 'Succeeded', r.complete?.message);
          assert.ok(r.commands.filter((c) => c.name === 'task.debug').length > 5);
        }));
    }
  });

  it('the agent-view scan can fail: a secret printed before the agent knows it is found, one printed after is masked', () => {
    const secret = D.systemAccessToken;
    const fake = (stdout: string) => ({ stdout, stderr: '', commands: [], tempDir: '/nonexistent' }) as unknown as Parameters<typeof scanRun>[1];
    assert.deepEqual(scanRun('self-test early', fake(`token ${secret}\n##vso[task.setsecret]${secret}\n`), []).hits, ['log: System.AccessToken']);
    assert.deepEqual(scanRun('self-test late', fake(`##vso[task.setsecret]${secret}\ntoken ${secret}\n`), []).hits, []);
    assert.deepEqual(scanRun('self-test endpoint', fake(`token ${D.pat}\n`), [D.pat]).hits, []);
    assert.deepEqual(scanRun('self-test debug', fake(`##vso[task.debug]token ${D.pat}\n`), [], [], true).hits, ['log: emulator PAT']);
    assert.deepEqual(scanRun('self-test issued', fake('bearer eyJissued.token.value\n'), [], ['eyJissued.token.value']).hits, ['log: runtime secret #1']);
    scans.splice(
      scans.findIndex((x) => x.label === 'self-test early'),
      5,
    );
  });

  it('every reliability run so far was scanned, and none had a hit', () => {
    assert.ok(scans.length >= CASES.length);
    const dirty = scans.filter((s) => s.hits.length > 0).map((s) => `${s.label}: ${s.hits.join(', ')}`);
    assert.deepEqual(dirty, []);
    const chars = scans.reduce((n, s) => n + s.chars, 0);
    const files = scans.reduce((n, s) => n + s.files, 0);
    console.log(
      `      scanned ${scans.length} task runs (${(chars / 1e6).toFixed(1)} M characters of log and files, ${files} files) for ${testSecrets().length} registered secrets plus every issued token: 0 hits`,
    );
  });

  it('JSON response bodies are size-limited; a download streams to disk past that limit and is checked against its own cap', async () => {
    await withEmulator(async (emu) => {
      const big = Buffer.alloc(3 * 1024 * 1024, 7);
      emu.files.write('/Volumes/main/ml/scratch/big.bin', big);
      const api = createApiClient({
        host: emu.url,
        tokenProvider: createTokenProvider({ kind: 'pat', token: D.pat }, { host: emu.url, setSecret: () => undefined }),
        maxResponseBytes: 64 * 1024,
        retry: { maxAttempts: 1 },
      });
      // A JSON answer above the limit is refused (a listing this large is not an API answer).
      for (let i = 0; i < 400; i++) emu.mlflow.createExperiment(`/Shared/exp-${i}-${'x'.repeat(200)}`);
      const err = await api.request({ method: 'GET', path: '/api/2.0/mlflow/experiments/search', query: { max_results: 1000 } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof DatabricksApiError, String(err));
      assert.equal(err.errorCode, 'RESPONSE_TOO_LARGE');
      // The 3 MB download is not held to the 64 kB JSON limit: it streams into the file.
      const dir = path.join(tmpdir(), `secrets-dl-${process.pid}-${Date.now()}`);
      mkdirSync(dir);
      const target = path.join(dir, 'big.bin');
      const got = await api.download({ path: '/api/2.0/fs/files/Volumes/main/ml/scratch/big.bin', toFile: target });
      assert.equal(got.bytes, big.length);
      assert.equal(statSync(target).size, big.length);
      // Its own cap applies, and no partial file is left behind.
      const capped = await api
        .download({ path: '/api/2.0/fs/files/Volumes/main/ml/scratch/big.bin', toFile: path.join(dir, 'capped.bin'), maxBytes: 1024 * 1024 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(capped instanceof DatabricksApiError);
      assert.equal(capped.errorCode, 'DOWNLOAD_TOO_LARGE');
      assert.equal(existsSync(path.join(dir, 'capped.bin')), false);
      assert.deepEqual(readdirSync(dir), ['big.bin']);
    });
  });
});

/**
 * Root-level hook: after the whole test process (npm test runs every suite in one mocha process), scan the
 * files of every bundled-task run it made, whichever suite made it.
 */
after(function () {
  this.timeout(60_000);
  const { hits, folders, files } = scanAgentTempDirs(PROCESS_START);
  console.log(`\n  secrets: scanned the files of ${folders} bundled-task runs of this test process (${files} files): ${hits.length} hits`);
  assert.deepEqual(hits, [], 'secrets in files left by bundled-task runs');
});
