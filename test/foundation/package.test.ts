import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import JSZip from 'jszip';
import { REPO_ROOT } from '../helpers/agent';
import { DEV_ENDPOINT_NAME, ENDPOINT_CONTRIBUTION, ENDPOINT_NAME, Json, manifest, pngSize, schema, TASK_CONTRIBUTION, TASKS, taskJson } from './manifest';

interface PackageResult {
  variant: 'prod' | 'dev';
  vsix: string;
  staging: string;
  extensionId: string;
  version: string;
  publisher: string;
  bytes: number;
}

/** uuid v5, computed independently of scripts/package.mjs, with the namespace it documents as fixed. */
function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const b = createHash('sha1')
    .update(Buffer.concat([ns, Buffer.from(name)]))
    .digest()
    .subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
/** Files under tasks/<folder>/ named by its optional package-files.txt (folders expanded). */
function extraFiles(folder: string): string[] {
  const dir = path.join(REPO_ROOT, 'tasks', folder);
  const list = path.join(dir, 'package-files.txt');
  if (!existsSync(list)) return [];
  const walk = (rel: string): string[] =>
    statSync(path.join(dir, rel)).isDirectory() ? readdirSync(path.join(dir, rel)).flatMap((e) => walk(path.posix.join(rel, e))) : [rel];
  return readFileSync(list, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .flatMap(walk);
}

const DEV_NAMESPACE = '6c0b7a0e-5d1f-5b8e-9f3a-2d4c6e8a0b1c';

interface OpenedVsix {
  result: PackageResult;
  zip: JSZip;
  names: string[];
  vsixManifest: string;
  vso: Json;
  task(folder: string): Promise<Json>;
}

async function open(result: PackageResult): Promise<OpenedVsix> {
  const zip = await JSZip.loadAsync(readFileSync(result.vsix));
  const names = Object.keys(zip.files).filter((n) => !zip.files[n].dir);
  const text = (n: string) => {
    const f = zip.file(n);
    if (!f) throw new Error(`${n} is not in ${path.basename(result.vsix)}`);
    return f.async('string');
  };
  return {
    result,
    zip,
    names,
    vsixManifest: await text('extension.vsixmanifest'),
    vso: JSON.parse(await text('extension.vsomanifest')),
    task: async (folder) => JSON.parse(await text(`tasks/${folder}/task.json`)),
  };
}

describe('foundation: npm run package', function () {
  this.timeout(180_000);
  let out: string;
  let staging: string;
  let prod: OpenedVsix;
  let dev: OpenedVsix;
  let stdout: string;

  before(async () => {
    out = mkdtempSync(path.join(tmpdir(), 'vsix-out-'));
    staging = mkdtempSync(path.join(tmpdir(), 'vsix-stage-'));
    const r = spawnSync(process.execPath, ['scripts/package.mjs', '--json', '--out', out, '--staging', staging], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `package failed:\n${r.stdout}\n${r.stderr}`);
    stdout = r.stdout;
    const results: PackageResult[] = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(
      results.map((x) => x.variant),
      ['prod', 'dev'],
    );
    prod = await open(results[0]);
    dev = await open(results[1]);
  });

  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  });

  it('writes <publisher>.<id>-<version>.vsix for both variants into the output folder', () => {
    const v = manifest().version;
    assert.equal(prod.result.vsix, path.join(out, `mlops-pipelines.databricks-mlops-${v}.vsix`));
    assert.equal(dev.result.vsix, path.join(out, `mlops-pipelines.databricks-mlops-dev-${v}.vsix`));
    assert.match(stdout, /package: prod /);
  });

  for (const variant of ['prod', 'dev'] as const) {
    describe(`${variant} .vsix`, () => {
      const pkg = () => (variant === 'prod' ? prod : dev);

      it('holds THIRD-PARTY-NOTICES.txt beside each task bundle and the tab bundle, the same bytes as the build wrote', async () => {
        for (const dir of [...TASKS.map((t) => `tasks/${t.folder}`), 'ui/dist']) {
          const packed = await pkg().zip.file(`${dir}/THIRD-PARTY-NOTICES.txt`)?.async('nodebuffer');
          assert.ok(packed, `${dir}/THIRD-PARTY-NOTICES.txt is not in the .vsix`);
          assert.ok(packed.equals(readFileSync(path.join(REPO_ROOT, dir, 'THIRD-PARTY-NOTICES.txt'))), `${dir}/THIRD-PARTY-NOTICES.txt differs`);
          assert.ok(packed.toString('utf8').startsWith(`Third-party software notices for ${dir}/`));
        }
      });

      it("holds each task's task.json, icon.png, index.js and THIRD-PARTY-NOTICES.txt, and nothing else of the task folder unless listed", () => {
        const taskEntries = pkg()
          .names.filter((n) => n.startsWith('tasks/'))
          .sort();
        const expected = TASKS.flatMap((t) =>
          [...['THIRD-PARTY-NOTICES.txt', 'icon.png', 'index.js', 'task.json'], ...extraFiles(t.folder)].map((f) => `tasks/${t.folder}/${f}`),
        ).sort();
        assert.deepEqual(taskEntries, expected);
      });

      it('every contribution points at something in the package', async () => {
        for (const c of pkg().vso.contributions) {
          if (c.type === TASK_CONTRIBUTION) {
            assert.ok(pkg().names.includes(`${c.properties.name}/task.json`), `${c.id}: ${c.properties.name}/task.json missing`);
          } else if (typeof c.properties?.uri === 'string') {
            assert.ok(pkg().names.includes(c.properties.uri), `${c.id}: ${c.properties.uri} missing`);
          }
        }
        assert.equal(pkg().vso.contributions.filter((c: Json) => c.type === TASK_CONTRIBUTION).length, 4);
      });

      it('ships the bundles byte for byte as built', async () => {
        for (const t of TASKS) {
          const packed = await pkg().zip.file(`tasks/${t.folder}/index.js`)!.async('nodebuffer');
          assert.ok(packed.equals(readFileSync(path.join(REPO_ROOT, 'tasks', t.folder, 'index.js'))), `${t.folder}/index.js differs`);
        }
      });

      it('has a 128x128 extension logo and 32x32 task icons (PNG IHDR)', async () => {
        const iconPath = /<Icon>([^<]+)<\/Icon>/.exec(pkg().vsixManifest)?.[1];
        assert.equal(iconPath, 'images/logo.png');
        assert.deepEqual(pngSize(await pkg().zip.file(iconPath!)!.async('nodebuffer')), { width: 128, height: 128 });
        for (const t of TASKS) {
          assert.deepEqual(pngSize(await pkg().zip.file(`tasks/${t.folder}/icon.png`)!.async('nodebuffer')), { width: 32, height: 32 }, t.folder);
        }
      });

      it('has the Marketplace overview as its details page', () => {
        assert.ok(pkg().names.includes('images/overview.md'));
        assert.match(pkg().vsixManifest, /Type="Microsoft.VisualStudio.Services.Content.Details" d:Source="File" Path="images\/overview.md"/);
      });

      it('installs only on Azure DevOps Services and carries LICENSE as its license page, the bytes of the repository file', async () => {
        assert.match(pkg().vsixManifest, /<InstallationTarget Id="Microsoft.VisualStudio.Services.Cloud"\/>/);
        assert.doesNotMatch(pkg().vsixManifest, /InstallationTarget Id="Microsoft.VisualStudio.Services"/);
        assert.match(pkg().vsixManifest, /<License>LICENSE<\/License>/);
        assert.match(pkg().vsixManifest, /Type="Microsoft.VisualStudio.Services.Content.License" d:Source="File" Path="LICENSE"/);
        const packed = await pkg().zip.file('LICENSE')?.async('nodebuffer');
        assert.ok(packed?.equals(readFileSync(path.join(REPO_ROOT, 'LICENSE'))), 'LICENSE is in the .vsix unchanged');
        const item = variant === 'prod' ? 'mlops-pipelines.databricks-mlops' : 'mlops-pipelines.databricks-mlops-dev';
        for (const kind of ['Support', 'License']) {
          assert.ok(
            pkg().vsixManifest.includes(
              `<Property Id="Microsoft.VisualStudio.Services.Links.${kind}" Value="https://marketplace.visualstudio.com/items?itemName=${item}"/>`,
            ),
            `${kind} link to ${item}`,
          );
        }
      });

      it('staged manifest and task.json files still validate against the schemas', () => {
        const ajv = new Ajv({ allErrors: true, strict: false });
        addFormats(ajv);
        const validateExt = ajv.compile(schema('vss-extension.schema.json'));
        const stagedManifest = JSON.parse(readFileSync(path.join(pkg().result.staging, 'vss-extension.json'), 'utf8'));
        assert.equal(validateExt(stagedManifest), true, JSON.stringify(validateExt.errors));
        const validateTask = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false }).compile(schema('task.schema.json'));
        for (const t of TASKS) {
          const staged = JSON.parse(readFileSync(path.join(pkg().result.staging, 'tasks', t.folder, 'task.json'), 'utf8'));
          assert.equal(validateTask(staged), true, `${t.folder}: ${JSON.stringify(validateTask.errors)}`);
        }
      });
    });
  }

  it('prod: the public extension, task.json exactly as in the repository', async () => {
    assert.match(prod.vsixManifest, /<Identity Language="en-US" Id="databricks-mlops" Publisher="mlops-pipelines" Version="[0-9.]+"\/>/);
    assert.match(prod.vsixManifest, /<GalleryFlags>Public<\/GalleryFlags>/);
    for (const t of TASKS) assert.deepEqual(await prod.task(t.folder), taskJson(t.folder));
    const ep = prod.vso.contributions.find((c: Json) => c.type === ENDPOINT_CONTRIBUTION);
    assert.equal(ep.properties.name, ENDPOINT_NAME);
  });

  it('dev: its own private extension id, display name and endpoint type name', () => {
    assert.match(dev.vsixManifest, /<Identity Language="en-US" Id="databricks-mlops-dev" Publisher="mlops-pipelines" Version="[0-9.]+"\/>/);
    assert.match(dev.vsixManifest, /<DisplayName>Databricks MLOps for Azure Pipelines \(dev\)<\/DisplayName>/);
    assert.match(dev.vsixManifest, /<GalleryFlags\/>/);
    const endpoints = dev.vso.contributions.filter((c: Json) => c.type === ENDPOINT_CONTRIBUTION);
    assert.deepEqual(
      endpoints.map((c: Json) => c.properties.name),
      [DEV_ENDPOINT_NAME],
    );
    const prodEp = prod.vso.contributions.find((c: Json) => c.type === ENDPOINT_CONTRIBUTION);
    assert.deepEqual(endpoints[0].properties.authenticationSchemes, prodEp.properties.authenticationSchemes);
  });

  it('dev: new deterministic task ids (uuid v5 of the prod id), names + "Dev", friendlyName + " (dev)", dev endpoint type', async () => {
    const devIds = new Set<string>();
    for (const t of TASKS) {
      const p = await prod.task(t.folder);
      const d = await dev.task(t.folder);
      assert.equal(d.id, uuidV5(t.id, DEV_NAMESPACE));
      assert.notEqual(d.id, p.id);
      devIds.add(d.id);
      assert.equal(d.name, `${t.name}Dev`);
      assert.equal(d.friendlyName, `${t.friendlyName} (dev)`);
      assert.deepEqual(d.version, p.version);
      const dbInput = d.inputs.find((i: Json) => i.name === 'databricksConnection');
      assert.equal(dbInput.type, `connectedService:${DEV_ENDPOINT_NAME}`);
      // Everything else is the prod task unchanged.
      const strip = (x: Json) => ({
        ...x,
        id: '',
        name: '',
        friendlyName: '',
        inputs: x.inputs.map((i: Json) => ({ ...i, type: i.type.replace(DEV_ENDPOINT_NAME, ENDPOINT_NAME) })),
      });
      assert.deepEqual(strip(d), strip(p));
      for (const i of d.inputs) {
        const m = /^connectedService:(.+)$/.exec(i.type);
        if (m && m[1] !== 'AzureRM') assert.equal(m[1], DEV_ENDPOINT_NAME, `${t.folder}.${i.name}`);
      }
    }
    assert.equal(devIds.size, 4);
    for (const t of TASKS) assert.ok(!devIds.has(t.id));
  });

  it("both: the Model evaluation tab ships its page and bundle (not its sources) and follows its variant's Evaluate task id", async () => {
    const evaluate = TASKS.find((t) => t.folder === 'DatabricksEvaluatePromoteV1')!;
    for (const [pkgOf, taskId] of [
      [prod, evaluate.id],
      [dev, uuidV5(evaluate.id, DEV_NAMESPACE)],
    ] as const) {
      const tab = pkgOf.vso.contributions.find((c: Json) => c.type === 'ms.vss-build-web.build-results-tab');
      assert.ok(tab, 'no build results tab contribution');
      assert.equal(tab.properties.name, 'Model evaluation');
      assert.deepEqual(tab.properties.supportsTasks, [taskId]);
      assert.ok(pkgOf.names.includes('ui/results-tab.html'));
      assert.ok(pkgOf.names.includes('ui/dist/results-tab.js'));
      assert.deepEqual(
        pkgOf.names.filter((n) => n.startsWith('ui/src/') || n.endsWith('.ts')),
        [],
      );
      const html = await pkgOf.zip.file('ui/results-tab.html')!.async('string');
      assert.match(html, /dist\/results-tab\.js/);
    }
  });
});
