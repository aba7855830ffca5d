/**
 * The first line each task logs names the workspace and the sign-in in words: no service connection id
 * (a GUID the user never typed) and no credential.
 */
import assert from 'node:assert/strict';
import { workspaceLine } from '../../../src/tasks/common/workspace-line';

describe('workspaceLine', () => {
  const host = 'https://adb-1234567890123456.7.azuredatabricks.net';
  const cases: Array<[string, string]> = [
    ['pat', 'personal access token'],
    ['databricksOAuth', 'Databricks OAuth machine-to-machine'],
    ['entraClientSecret', 'Microsoft Entra ID service principal with a client secret'],
    ['workloadIdentityFederation', 'Microsoft Entra ID workload identity federation'],
    ['databricksFederation', 'Databricks OAuth token federation'],
  ];
  for (const [kind, words] of cases) {
    it(`${kind}: the scheme in words`, () => {
      assert.equal(workspaceLine({ host, auth: { kind } as never }), `Workspace: ${host} (${words})`);
    });
  }
});
