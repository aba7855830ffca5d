/**
 * A package-lock.json for a fresh project that depends only on a packed `mlops-eval` tarball, with every
 * registry package pinned to the version and integrity the repository's own lockfile holds. `npm ci
 * --offline` then installs it from the npm cache the repository's `npm ci` filled: no network, yet the same
 * registry packages a user gets, chosen by the dependencies the tarball declares (a dependency the bundle
 * needs but the package forgets is missing, and the installed command fails).
 */
interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  license?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string> | string;
  engines?: Record<string, string>;
  link?: boolean;
  [flag: string]: unknown;
}

export interface Lockfile {
  name: string;
  version?: string;
  lockfileVersion: number;
  requires: boolean;
  packages: Record<string, LockEntry>;
}

/** Where Node finds `dep` required from the package installed at `from` (a lockfile key, '' = the root). */
function locate(packages: Record<string, LockEntry>, from: string, dep: string): string | undefined {
  let dir = from;
  for (;;) {
    const key = `${dir === '' ? '' : `${dir}/`}node_modules/${dep}`;
    if (packages[key] !== undefined && !packages[key].link) return key;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/**
 * The lockfile of a project named `projectName` whose one dependency is `tarball` (a file name beside the
 * lockfile) of the package `pkg` (its package.json as packed); `repoLock` is the repository's lockfile.
 *
 * @throws Error naming a dependency the repository's lockfile does not hold.
 */
export function lockfileForTarball(
  repoLock: Lockfile,
  pkg: {
    name: string;
    version: string;
    license?: string;
    dependencies?: Record<string, string>;
    bin?: Record<string, string>;
    engines?: Record<string, string>;
  },
  tarball: string,
  integrity: string,
  projectName: string,
): Lockfile {
  const packages: Record<string, LockEntry> = {
    '': { name: projectName, dependencies: { [pkg.name]: `file:${tarball}` } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: `file:${tarball}`,
      integrity,
      ...(pkg.license ? { license: pkg.license } : {}),
      ...(pkg.dependencies ? { dependencies: pkg.dependencies } : {}),
      ...(pkg.bin ? { bin: pkg.bin } : {}),
      ...(pkg.engines ? { engines: pkg.engines } : {}),
    },
  };
  // The package's own dependencies resolve from the top level of the new project, as npm would hoist them.
  const queue: [string, string, string, boolean][] = Object.keys(pkg.dependencies ?? {}).map((dep) => ['', dep, pkg.name, false]);
  while (queue.length > 0) {
    const [from, dep, requiredBy, optional] = queue.shift()!;
    const key = locate(repoLock.packages, from, dep);
    // An optional dependency absent from the repository's tree (another platform's binary) stays absent.
    if (key === undefined && optional) continue;
    if (key === undefined) throw new Error(`the repository's package-lock.json has no '${dep}' (required by ${requiredBy}); run npm install at the root`);
    if (packages[key] !== undefined) continue;
    const entry: LockEntry = {};
    for (const [field, value] of Object.entries(repoLock.packages[key])) {
      // dev/optional/peer flags describe the repository's tree, not this one; npm recomputes them.
      if (field !== 'dev' && field !== 'devOptional' && field !== 'optional' && field !== 'peer') entry[field] = value;
    }
    packages[key] = entry;
    const name = key.slice(key.lastIndexOf('node_modules/') + 13);
    const required = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional),
    ];
    for (const d of required) queue.push([key, d, name, false]);
    for (const d of Object.keys(entry.optionalDependencies ?? {})) queue.push([key, d, name, true]);
  }
  return { name: projectName, lockfileVersion: 3, requires: true, packages };
}
