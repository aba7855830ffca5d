// The development tools (tests, demo, bench) run the TypeScript output in out/ (CommonJS), which loads
// Apache ECharts, an ES module package, with require(): Node supports that from 20.19 (and 22.12). The
// shipped bundles do not need it (esbuild converts ECharts), so only this machine's Node is checked here.
const [major, minor] = process.versions.node.split('.').map(Number);
const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23;

/** Stops with the reason and the fix when this Node cannot run the development tools. */
export function requireSupportedNode(tool) {
  if (ok) return;
  console.error(
    `${tool} needs Node.js >= 20.19 (or >= 22.12): the report renderer loads ECharts (an ES module) from CommonJS code, which older Node cannot do. This is Node ${process.versions.node}; install a current Node 20 or 22 LTS.`,
  );
  process.exit(1);
}
