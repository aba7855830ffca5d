/**
 * Token providers for the four ways the tasks authenticate to a workspace.
 */
import type { TokenProvider } from './contracts';

/** A personal access token: used as is. */
export function patTokenProvider(token: string, setSecret: (v: string) => void = () => undefined): TokenProvider {
  setSecret(token);
  return { getToken: async () => token };
}
