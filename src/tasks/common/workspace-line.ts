/**
 * The first line every task logs: which workspace, and how the task signs in, in words. The service
 * connection's id (a GUID the user never typed) and every credential stay out of it.
 */
import type { AuthConfig } from '../../databricks/auth';

const AUTH_IN_WORDS: Record<AuthConfig['kind'], string> = {
  pat: 'personal access token',
  databricksOAuth: 'Databricks OAuth machine-to-machine',
  entraClientSecret: 'Microsoft Entra ID service principal with a client secret',
  workloadIdentityFederation: 'Microsoft Entra ID workload identity federation',
  databricksFederation: 'Databricks OAuth token federation',
};

/** `Workspace: https://adb-....azuredatabricks.net (personal access token)`. */
export function workspaceLine(connection: { host: string; auth: Pick<AuthConfig, 'kind'> }): string {
  return `Workspace: ${connection.host} (${AUTH_IN_WORDS[connection.auth.kind]})`;
}
