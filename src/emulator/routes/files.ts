import type { EmulatorCore } from '../contracts';

/** Placeholder: the files routes are being written. Replace the whole file. */
export function install(core: EmulatorCore): Record<string, never> {
  const handle = {};
  core.modules.files = handle;
  return handle;
}
