import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { checkPipeline, isVisible, parseYaml } from '../samples/pipeline-check';

const ROOT = path.resolve(__dirname, '..', '..', '..');
type Json = Record<string, any>;
const DOCS = ['README.md', 'images/overview.md'];
const TASK_FOLDERS = ['DatabricksReposDeployV1', 'DatabricksTrainV1', 'DatabricksEvaluatePromoteV1', 'DatabricksServingDeployV1'];
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const taskJson = (folder: string): Json => JSON.parse(read(`tasks/${folder}/task.json`));

function genDocs(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/gen-docs.mjs'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function region(text: string, kind: string, folder: string): string {
  const m = new RegExp(`<!-- ${kind}:${folder} -->\\n([\\s\\S]*?)<!-- /${kind}:${folder} -->`).exec(text);
  assert.ok(m, `no ${kind}:${folder} region`);
  return m[1];
}

const CONNECTION_INPUTS = ['connectionType', 'databricksConnection', 'azureSubscription', 'workspaceUrl'];

/** GitHub's heading anchor (also what the docs' own links and the tasks' helpUrl use): lower case, punctuation dropped, spaces as hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of every heading of a markdown text. */
function anchors(text: string): Set<string> {
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingSlug(m[1])));
}

/**
 * The heading id the Visual Studio Marketplace gives a heading of an overview page: unlike GitHub it does not
 * keep one hyphen per space. No specification is published; this follows what its users measured:
 * microsoft/vscode-vsce#438 ("Route -> Controller" is `#route-controller` on the Marketplace, `#route---controller`
 * on GitHub: the run of spaces and punctuation becomes one hyphen), microsoft/vsmarketplace#73 (a trailing hyphen
 * GitHub keeps is dropped) and microsoft/vsmarketplace#983 (a leading one too). "Evaluate & Promote" is therefore
 * `#evaluate-promote` there and `#evaluate--promote` on GitHub.
 */
export function marketplaceSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/[\s-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Each heading's id under a renderer's slug, outside fenced code blocks (a `# comment` in a YAML sample is no
 * heading), with GitHub's de-duplication: a repeated id gets -1, -2, ... So an anchor leads to exactly one heading.
 */
export function headingIds(text: string, slug: (heading: string) => string): Map<string, string> {
  const ids = new Map<string, string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^(```|~~~)/.test(line)) fence = !fence;
    const m = fence ? null : /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    let id = base;
    for (let n = 1; ids.has(id); n++) id = `${base}-${n}`;
    ids.set(id, m[1].trim());
  }
  return ids;
}

/**
 * What is wrong with the tasks' help links: each helpUrl must be the overview page with an anchor that the
 * Marketplace gives to the task's own `### <display name>` heading, and the "Learn more" link of helpMarkDown the
 * same URL. Empty when every link leads where it says.
 */
export function helpUrlProblems(overview: string, page: string, tasks: Array<{ friendlyName: string; helpUrl: string; helpMarkDown?: string }>): string[] {
  const ids = headingIds(overview, marketplaceSlug);
  const problems: string[] = [];
  for (const t of tasks) {
    if (!t.helpUrl.startsWith(`${page}#`)) {
      problems.push(`${t.friendlyName}: helpUrl ${t.helpUrl} is not the overview page ${page}#<anchor>`);
      continue;
    }
    const anchor = t.helpUrl.slice(page.length + 1);
    const heading = ids.get(anchor);
    if (heading !== t.friendlyName)
      problems.push(`${t.friendlyName}: #${anchor} leads to ${heading === undefined ? 'no heading' : `the heading "${heading}"`} on the Marketplace`);
    const learnMore = /\[Learn more\]\(([^)]+)\)/.exec(t.helpMarkDown ?? '')?.[1];
    if (learnMore !== undefined && learnMore !== t.helpUrl) problems.push(`${t.friendlyName}: Learn more goes to ${learnMore}, not to helpUrl`);
  }
  return problems;
}

const firstCells = (table: string) =>
  table
    .split('\n')
    .slice(2)
    .filter((l) => l.startsWith('| '))
    .map((l) => /^\| `([^`]+)`/.exec(l)?.[1]);

describe('docs: generated input and output tables', () => {
  it('gen-docs --check finds README.md and images/overview.md up to date', () => {
    const r = genDocs(['--check']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trim(), 'gen-docs: generated tables are up to date');
    assert.equal(r.status, 0);
  });

  for (const doc of DOCS) {
    for (const folder of TASK_FOLDERS) {
      it(`${doc} lists every input and output of ${folder}, in task.json order: the shared connection inputs once, then the task's own`, () => {
        const t = taskJson(folder);
        const text = read(doc);
        assert.deepEqual(
          t.inputs.slice(0, 4).map((i: Json) => i.name),
          CONNECTION_INPUTS,
        );
        assert.deepEqual(
          [...firstCells(region(text, 'inputs', 'connection')), ...firstCells(region(text, 'inputs', folder))],
          t.inputs.map((i: Json) => i.name),
        );
        assert.deepEqual(
          firstCells(region(text, 'outputs', folder)),
          t.outputVariables.map((o: Json) => o.name),
        );
      });
    }
  }

  for (const doc of DOCS) {
    it(`${doc} has one connection-inputs table and says the picker note once, outside the generated tables`, () => {
      const text = read(doc);
      assert.equal(text.split('<!-- inputs:connection -->').length - 1, 1);
      const generated = [...text.matchAll(/<!-- (inputs|outputs):\w+ -->\n([\s\S]*?)<!-- \/\1:\w+ -->/g)].map((m) => m[2]).join('\n');
      assert.doesNotMatch(generated, /In the classic editor you can pick|from its own servers/);
      // Every picker input's type links the one section that explains the lists.
      const pickers = TASK_FOLDERS.flatMap((f) =>
        taskJson(f).inputs.filter((i: Json) => i.type === 'pickList' && i.properties?.EditableOptions === 'True' && !i.options),
      );
      assert.equal(pickers.length, 9);
      assert.equal((generated.match(/string \(\[picker in the classic editor\]\(#pickers-in-the-classic-editor\)\)/g) ?? []).length, pickers.length);
      assert.equal(text.split('**from its own servers**').length - 1, 1, 'the picker note, once');
      // The connection inputs' rows appear once in the whole page.
      for (const name of CONNECTION_INPUTS) assert.equal(text.split(`| \`${name}\` |`).length - 1, 1, name);
    });
  }

  describe('on a copy of the repository', () => {
    let tmp: string;
    beforeEach(() => {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'gen-docs-'));
      for (const rel of ['vss-extension.json', ...DOCS, ...TASK_FOLDERS.map((f) => `tasks/${f}/task.json`)]) {
        mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
        copyFileSync(path.join(ROOT, rel), path.join(tmp, rel));
      }
    });
    afterEach(() => rmSync(tmp, { recursive: true, force: true }));

    it('--check fails and names each stale region after a task.json change; a normal run fixes both files', () => {
      const file = path.join(tmp, 'tasks/DatabricksTrainV1/task.json');
      const t = JSON.parse(readFileSync(file, 'utf8'));
      t.inputs.find((i: Json) => i.name === 'jobName').label = 'Job name (renamed)';
      t.outputVariables.push({ name: 'extraOutput', description: 'Added.' });
      writeFileSync(file, JSON.stringify(t, null, 2));
      const stale = genDocs(['--check', '--root', tmp]);
      assert.equal(stale.status, 1);
      assert.deepEqual(stale.stderr.trim().split('\n'), [
        'gen-docs: README.md: region inputs:DatabricksTrainV1 is stale',
        'gen-docs: README.md: region outputs:DatabricksTrainV1 is stale',
        'gen-docs: images/overview.md: region inputs:DatabricksTrainV1 is stale',
        'gen-docs: images/overview.md: region outputs:DatabricksTrainV1 is stale',
        'gen-docs: run `node scripts/gen-docs.mjs` to regenerate.',
      ]);
      assert.equal(readFileSync(path.join(tmp, 'README.md'), 'utf8'), read('README.md'), '--check changes nothing');
      const fix = genDocs(['--root', tmp]);
      assert.equal(fix.status, 0, fix.stderr);
      for (const doc of DOCS) {
        const text = readFileSync(path.join(tmp, doc), 'utf8');
        assert.ok(region(text, 'inputs', 'DatabricksTrainV1').includes('| `jobName` | Job name (renamed) |'), doc);
        assert.ok(region(text, 'outputs', 'DatabricksTrainV1').includes('| `extraOutput` | Added. |'), doc);
      }
      assert.equal(genDocs(['--check', '--root', tmp]).status, 0);
    });

    it('refuses a picker input whose help words the picker note differently (it would be repeated in every table)', () => {
      const file = path.join(tmp, 'tasks/DatabricksTrainV1/task.json');
      const t = JSON.parse(readFileSync(file, 'utf8'));
      const jobId = t.inputs.find((i: Json) => i.name === 'jobId');
      jobId.helpMarkDown = jobId.helpMarkDown.replace('You can always type the value.', 'Or type it.');
      writeFileSync(file, JSON.stringify(t, null, 2));
      const r = genDocs(['--check', '--root', tmp]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), 'gen-docs: input jobId: its picker note differs from the one the docs say once; use the same sentence');
    });

    it('refuses a region whose closing marker is missing', () => {
      const file = path.join(tmp, 'images/overview.md');
      writeFileSync(file, readFileSync(file, 'utf8').replace('<!-- /outputs:DatabricksTrainV1 -->', ''));
      const r = genDocs(['--check', '--root', tmp]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /unbalanced or unknown generated-region markers/);
    });
  });
});

describe('docs: content', () => {
  const yamlBlocks = (text: string) => [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);

  for (const doc of DOCS) {
    it(`every YAML example in ${doc} uses the tasks' inputs and outputs correctly, and together they use all four tasks`, () => {
      const blocks = yamlBlocks(read(doc));
      assert.ok(blocks.length >= 4, `${doc} has ${blocks.length} YAML examples`);
      const used = new Set<string>();
      for (const b of blocks) {
        const r = checkPipeline(parseYaml(b));
        assert.deepEqual(r.problems, [], `in ${doc}:\n${b}`);
        for (const s of r.steps) used.add(s.task);
      }
      assert.deepEqual([...used].sort(), ['DatabricksEvaluatePromote@1', 'DatabricksReposDeploy@1', 'DatabricksServingDeploy@1', 'DatabricksTrain@1']);
    });

    it(`${doc} explains every way to connect and what to grant in Databricks`, () => {
      const text = read(doc);
      for (const needle of [
        '### Personal access token',
        '### Databricks OAuth machine-to-machine',
        '### Microsoft Entra ID service principal',
        '### Azure Resource Manager connection with workload identity federation',
        'https://login.microsoftonline.us',
        'workspaceUrl: https://adb-',
        '### What to grant the identity in Databricks',
        'CAN MANAGE RUN',
        'USE CATALOG',
        'Git credential',
        '## Pickers in the classic editor',
        'Private Link',
      ]) {
        assert.ok(text.includes(needle), `${doc} lacks ${needle}`);
      }
    });

    it(`${doc} shows only images that exist under images/ and ship with the extension`, () => {
      const images = [...read(doc).matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
      assert.deepEqual([...images].sort(), [
        'images/screenshots/classic-editor-train.png',
        'images/screenshots/results-tab-charts-dark.png',
        'images/screenshots/results-tab-metric.png',
        'images/screenshots/results-tab.png',
      ]);
      const manifest = JSON.parse(read('vss-extension.json'));
      assert.ok(
        manifest.files.some((f: Json) => f.path === 'images' && f.addressable === true),
        'images/ is packaged addressable',
      );
      for (const rel of images) {
        const png = PNG.sync.read(readFileSync(path.join(ROOT, rel)));
        assert.deepEqual([png.width, png.height], [1366, 768], rel);
      }
    });
  }

  it('README is for users first: a table of contents, then install, connection, a first pipeline, the tasks, the CLI, troubleshooting; maintainer sections live in docs/development.md', () => {
    const text = read('README.md');
    const h2 = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(h2, [
      'Contents',
      'Install',
      'Create the service connection',
      'A first pipeline',
      'The tasks',
      'The Model evaluation tab',
      'Comparing predictions yourself: `mlops-eval`',
      'Sample pipeline',
      'Try it locally: the demo',
      'Reliability',
      'Troubleshooting',
      'Versions',
      'Developing the extension',
    ]);
    // Every link of the table of contents (and every in-page link) leads to a heading of the README.
    const toc = text.slice(text.indexOf('## Contents'), text.indexOf('## Install'));
    const own = anchors(text);
    const tocLinks = [...toc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(tocLinks.length >= 15, `${tocLinks.length} links`);
    for (const a of [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1])) assert.ok(own.has(a), `README links #${a}, which is no heading`);
    for (const h of h2.slice(1)) assert.ok(tocLinks.includes(headingSlug(h)), `the table of contents lists ${h}`);
    // Install says where to get the extension; the maintainers' sections are gone from the README and in docs/.
    assert.ok(text.includes('https://marketplace.visualstudio.com/items?itemName=mlops-pipelines.databricks-mlops'));
    assert.ok(text.includes('[docs/development.md](docs/development.md)'));
    const dev = read('docs/development.md');
    for (const section of [
      '## Commands',
      '## Layout',
      '## Authoring task.json',
      '## Packaging',
      '## Reliability',
      '## Runtime dependencies',
      '## Versions',
      "## The extension's own pipeline",
    ]) {
      assert.ok(dev.includes(`\n${section}\n`), `docs/development.md has ${section}`);
      if (section !== '## Reliability' && section !== '## Versions') assert.ok(!text.includes(`\n${section}\n`), `README no longer has ${section}`);
    }
    for (const cmd of ['npm ci && npm run demo', '```sh\nnpm test\n```', 'npm run package', 'npm run bump'])
      assert.ok(dev.includes(cmd), `docs/development.md gives ${cmd}`);
    assert.ok(text.includes('npm ci && npm run demo'), 'the README says how to try the demo');
  });

  it("the Marketplace overview follows the README's order, and each task's helpUrl leads to its section there", () => {
    const overview = read('images/overview.md');
    const readmeH2 = [...read('README.md').matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    const overviewH2 = [...overview.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    // The overview's sections are the README's, in the README's order (the overview leaves some out).
    const shared = overviewH2.filter((h) => readmeH2.includes(h));
    assert.deepEqual(
      shared,
      readmeH2.filter((h) => shared.includes(h)),
    );
    assert.deepEqual(shared, ['Install', 'Create the service connection', 'A first pipeline', 'The tasks', 'The Model evaluation tab', 'Troubleshooting']);
    // The overview is read on the Marketplace: its own links use the Marketplace's heading ids.
    const ids = headingIds(overview, marketplaceSlug);
    for (const a of [...overview.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]))
      assert.ok(ids.has(a), `the overview links #${a}, which is no heading on the Marketplace`);
    const manifest = JSON.parse(read('vss-extension.json'));
    const page = `https://marketplace.visualstudio.com/items?itemName=${manifest.publisher}.${manifest.id}`;
    const tasks = TASK_FOLDERS.map(taskJson) as Array<{ friendlyName: string; helpUrl: string; helpMarkDown: string }>;
    assert.deepEqual(helpUrlProblems(overview, page, tasks), []);
    assert.deepEqual(
      tasks.map((t) => t.helpUrl.slice(page.length)),
      ['#deploy-notebooks-via-repos-api', '#train', '#evaluate-promote', '#deploy-model-to-serving'],
    );
    // The README is read on GitHub: each task has its section there under GitHub's id.
    const readmeIds = headingIds(read('README.md'), headingSlug);
    for (const t of tasks) assert.equal(readmeIds.get(headingSlug(t.friendlyName)), t.friendlyName);
  });

  it('a help link that does not lead to its task on the Marketplace fails the check, naming the task and where it leads', () => {
    const page = 'https://marketplace.visualstudio.com/items?itemName=p.x';
    const overview = '# X\n\n```yaml\n# Train\n```\n\n## The tasks\n\n### Train\n\n### Evaluate & Promote\n\n## Troubleshooting\n\n### Train\n';
    const task = (friendlyName: string, anchor: string, learnMore = `${page}#${anchor}`) => ({
      friendlyName,
      helpUrl: `${page}#${anchor}`,
      helpMarkDown: `Does things. [Learn more](${learnMore}).`,
    });
    assert.deepEqual(helpUrlProblems(overview, page, [task('Train', 'train'), task('Evaluate & Promote', 'evaluate-promote')]), []);
    assert.deepEqual(
      helpUrlProblems(overview, page, [
        // GitHub's id for "Evaluate & Promote": the Marketplace has no such heading.
        task('Evaluate & Promote', 'evaluate--promote'),
        // The second "Train" heading is #train-1: #train-2 does not exist; a comment in a code block is no heading.
        task('Train', 'train-2'),
        task('Train', 'train', 'https://learn.microsoft.com/azure/devops/pipelines/'),
        { friendlyName: 'Train', helpUrl: 'https://example.com/#train' },
      ]),
      [
        'Evaluate & Promote: #evaluate--promote leads to no heading on the Marketplace',
        'Train: #train-2 leads to no heading on the Marketplace',
        'Train: Learn more goes to https://learn.microsoft.com/azure/devops/pipelines/, not to helpUrl',
        `Train: helpUrl https://example.com/#train is not the overview page ${page}#<anchor>`,
      ],
    );
    assert.equal(headingIds(overview, marketplaceSlug).get('train-1'), 'Train');
    assert.equal(marketplaceSlug('Route -> Controller'), 'route-controller');
    assert.equal(headingSlug('Route -> Controller'), 'route---controller');
  });

  it('the classic-editor rendering is generated from task.json: the visible inputs, labels, help icons and pickers', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/render-screenshots.mjs'), '--form-html', 'DatabricksTrainV1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const html = r.stdout;
    const t = taskJson('DatabricksTrainV1');
    const values: Record<string, string> = {};
    for (const i of t.inputs) values[i.name] = i.defaultValue === undefined ? '' : String(i.defaultValue);
    const shown = t.inputs.filter((i: Json) => isVisible(i.visibleRule, values)).map((i: Json) => i.name);
    assert.deepEqual(
      [...html.matchAll(/data-input="([^"]+)"/g)].map((m) => m[1]),
      // Inputs of a collapsed group (advanced) are not drawn, as in the editor.
      shown.filter((n: string) => {
        const g = t.inputs.find((i: Json) => i.name === n).groupName;
        return t.groups.find((x: Json) => x.name === g)?.isExpanded !== false;
      }),
    );
    assert.ok(shown.includes('jobId') && !shown.includes('notebookPath'));
    const bound = (t.dataSourceBindings as Json[]).map((b) => b.target).filter((n) => shown.includes(n));
    assert.equal((html.match(/title="Refresh"/g) ?? []).length, bound.length, 'a refresh icon on each picker shown');
    assert.ok(html.includes('not a screenshot of Azure DevOps'), 'the rendering says what it is');
    const overview = read('images/overview.md');
    assert.ok(overview.includes('A rendering of the Train task') && overview.includes('not a capture of Azure DevOps'));
  });

  it('the committed screenshots exist', () => {
    for (const f of ['results-tab.png', 'results-tab-charts-dark.png', 'classic-editor-train.png'])
      assert.ok(existsSync(path.join(ROOT, 'images/screenshots', f)), f);
  });
});
