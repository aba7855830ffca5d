import type { EmulatorCore } from '../contracts';

/** Placeholder: the mlflow routes are being written. Replace the whole file. */
export function install(core: EmulatorCore): Record<string, never> {
  const handle = {};
  core.modules.mlflow = handle;
  return handle;
}
