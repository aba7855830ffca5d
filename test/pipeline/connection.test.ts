/**
 * Reading service connections: task-lib's accessors echo every endpoint value to a debug line; ours read
 * the same places quietly. Missing parameters name the input that picked the connection.
 */
import assert from 'node:assert/strict';
import * as tlInternal from 'azure-pipelines-task-lib/internal';
import * as tl from 'azure-pipelines-task-lib/task';
import { EndpointSource, readConnection, taskLibEndpointSource } from '../../src/pipeline/connection';
import { InputError, Inputs, mapInputSource } from '../../src/pipeline/inputs';

function captureStdout<T>(fn: () => T): { out: string; value: T } {
  const original = process.stdout.write.bind(process.stdout);
  let out = '';
  (process.stdout as unknown as { write: (c: string | Uint8Array) => boolean }).write = (c) => {
    out += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
    return true;
  };
  try {
    return { value: fn(), out };
  } finally {
    (process.stdout as unknown as { write: typeof original }).write = original;
  }
}

describe('connection: endpoint values are read without task-lib debug echo', () => {
  const id = 'c0ffee00-1111-4222-8333-444455556666';
  const url = 'https://admin:url-password-4711@adb-1.2.azuredatabricks.net';
  const secret = 'client-secret-value-4711';
  before(() => {
    // Where the agent puts them and where task-lib's _loadData leaves them: URL and data in the environment,
    // ENDPOINT_AUTH_* in task-lib's vault.
    process.env[`ENDPOINT_URL_${id}`] = url;
    process.env[`ENDPOINT_DATA_${id}_AUTHORITYHOST`] = 'https://login.example.com';
    tlInternal._vault.storeSecret(`ENDPOINT_AUTH_SCHEME_${id}`, 'ServicePrincipal');
    tlInternal._vault.storeSecret(`ENDPOINT_AUTH_PARAMETER_${id}_CLIENTSECRET`, secret);
  });
  after(() => {
    delete process.env[`ENDPOINT_URL_${id}`];
    delete process.env[`ENDPOINT_DATA_${id}_AUTHORITYHOST`];
  });

  it('returns what task-lib returns, and prints nothing', () => {
    const src = taskLibEndpointSource();
    const quiet = captureStdout(() => [src.url(id), src.scheme(id), src.param(id, 'clientSecret'), src.data(id, 'authorityHost'), src.param(id, 'missing')]);
    assert.equal(quiet.out, '');
    const loud = captureStdout(() => [
      tl.getEndpointUrl(id, true),
      tl.getEndpointAuthorizationScheme(id, true),
      tl.getEndpointAuthorizationParameter(id, 'clientSecret', true),
      tl.getEndpointDataParameter(id, 'authorityHost', true),
      tl.getEndpointAuthorizationParameter(id, 'missing', true),
    ]);
    assert.deepEqual(quiet.value, loud.value);
    // task-lib's own accessors do echo (task.debug lines, shown by the agent with System.Debug): the reason for this module.
    assert.ok(loud.out.includes(`##vso[task.debug]${id}=${url}`), loud.out);
    assert.ok(loud.out.includes(`##vso[task.debug]${id} auth param clientSecret = ${secret}`), loud.out);
  });

  it('a URL with user info is refused, and the message does not carry it', () => {
    const inputs = new Inputs(mapInputSource({ connectionType: 'databricks', databricksConnection: id }));
    const { out, value } = captureStdout(() => {
      try {
        readConnection(inputs, taskLibEndpointSource());
      } catch (e) {
        return e as InputError;
      }
      return undefined;
    });
    assert.ok(value instanceof InputError);
    assert.equal(value.input, 'databricksConnection');
    assert.equal(value.message, 'databricksConnection must not contain credentials; put them in the service connection.');
    assert.equal(out, '');
  });
});

describe('connection: a missing parameter of an Azure Resource Manager connection names azureSubscription', () => {
  const arm = (params: Record<string, string>): EndpointSource => ({
    url: () => undefined,
    scheme: () => 'ServicePrincipal',
    param: (_id, key) => params[key],
    data: () => undefined,
    variable: () => undefined,
  });
  const inputs = new Inputs(
    mapInputSource({ connectionType: 'azureResourceManager', azureSubscription: 'arm-1', workspaceUrl: 'https://adb-1.2.azuredatabricks.net' }),
  );
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ serviceprincipalid: 'c', serviceprincipalkey: 'k' }, /no tenant id \(tenantid\)/],
    [{ tenantid: 't', serviceprincipalkey: 'k' }, /no service principal id \(serviceprincipalid\)/],
    [{ tenantid: 't', serviceprincipalid: 'c' }, /no client secret \(serviceprincipalkey\)/],
  ];
  for (const [params, message] of cases) {
    it(`${message.source}`, () => {
      assert.throws(
        () => readConnection(inputs, arm(params)),
        (e: unknown) => e instanceof InputError && e.input === 'azureSubscription' && message.test(e.message),
      );
    });
  }
});
