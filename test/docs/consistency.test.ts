/**
 * One source of truth for user text: where the Marketplace page (images/overview.md), the README and the
 * task.json help texts say the same thing by hand, they must not drift apart. The generated input/output
 * tables are checked by docs.test.ts; this covers the hand-written places: each task's outputs, the service
 * connection's type name and scheme names, the federation issuers, and the grants.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
type Json = Record<string, any>;
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const DOCS = ['README.md', 'images/overview.md'] as const;
const TASKS = [
  { folder: 'DatabricksReposDeployV1', yaml: 'DatabricksReposDeploy@1' },
  { folder: 'DatabricksTrainV1', yaml: 'DatabricksTrain@1' },
  { folder: 'DatabricksEvaluatePromoteV1', yaml: 'DatabricksEvaluatePromote@1' },
] as const;
const taskJson = (folder: string): Json => JSON.parse(read(`tasks/${folder}/task.json`));
const manifest: Json = JSON.parse(read('vss-extension.json'));
const endpointType: Json = manifest.contributions.find((c: Json) => c.type === 'ms.vss-endpoint.service-endpoint-type').properties;
const schemeNames: string[] = endpointType.authenticationSchemes.map((s: Json) => s.displayName);

/** The backticked names after "Outputs:" in a text, up to the end of that sentence. */
function outputsNamed(text: string, where: string): string[] {
  const m = /Outputs: ((?:`\w+`(?:, )?)+)\./.exec(text);
  assert.ok(m, `${where} has no "Outputs: \`a\`, \`b\`." list`);
  return [...m[1].matchAll(/`(\w+)`/g)].map((x) => x[1]);
}

/** The row of the overview's task table for one task. */
function overviewRow(yaml: string): string {
  const row = read('images/overview.md')
    .split('\n')
    .find((l) => l.startsWith(`| \`${yaml}\``));
  assert.ok(row, `images/overview.md has no task table row for ${yaml}`);
  return row;
}

/** A markdown section from its heading to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `no section ${heading}`);
  const level = /^#+/.exec(heading)![0].length;
  const rest = text.slice(start + heading.length + 1);
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

describe('docs: the overview, the README and task.json say the same thing', () => {
  for (const t of TASKS) {
    it(`${t.folder}: its help text and the overview list exactly its output variables, in task.json order`, () => {
      const task = taskJson(t.folder);
      const outputs = task.outputVariables.map((o: Json) => o.name);
      assert.deepEqual(outputsNamed(task.helpMarkDown, `${t.folder} helpMarkDown`), outputs);
      assert.deepEqual(outputsNamed(overviewRow(t.yaml), `overview row ${t.yaml}`), outputs);
    });
  }

  it('Train promises no MLflow model version (it outputs the run and the candidate run ids; Evaluate registers versions)', () => {
    const train = taskJson('DatabricksTrainV1');
    for (const [where, text] of [
      ['description', train.description],
      ['helpMarkDown', train.helpMarkDown],
      ['overview row', overviewRow('DatabricksTrain@1')],
    ]) {
      assert.doesNotMatch(text, /model version|registered model/i, `Train ${where}`);
    }
  });

  it('the connection type is called by its display name everywhere', () => {
    assert.equal(endpointType.displayName, 'Databricks workspace (MLOps)');
    const texts: Array<[string, string]> = [...DOCS.map((d) => [d, read(d)] as [string, string])];
    for (const t of TASKS) {
      for (const input of taskJson(t.folder).inputs) texts.push([`${t.folder}.${input.name}`, `${input.label}\n${input.helpMarkDown ?? ''}`]);
    }
    let named = 0;
    for (const [where, text] of texts) {
      // "*Databricks workspace*" or "type Databricks workspace" without "(MLOps)" is the old name.
      assert.doesNotMatch(text, /[*_]Databricks workspace[*_]|type \*?Databricks workspace\*?(?! \(MLOps\))/, where);
      named += text.split(endpointType.displayName).length - 1;
    }
    for (const t of TASKS) {
      const byName = Object.fromEntries(taskJson(t.folder).inputs.map((i: Json) => [i.name, i]));
      assert.ok(byName.databricksConnection.helpMarkDown.includes(`*${endpointType.displayName}*`), `${t.folder}.databricksConnection`);
      assert.ok(byName.connectionType.helpMarkDown.includes(`*${endpointType.displayName}*`), `${t.folder}.connectionType`);
    }
    assert.ok(named >= 2 * 3 + 6, `named ${named} times`);
  });

  it('every scheme of the connection type is named in each task.json connection help, the README and the overview, and nowhere is a count of three', () => {
    assert.equal(schemeNames.length, 4);
    for (const t of TASKS) {
      const help = taskJson(t.folder).inputs.find((i: Json) => i.name === 'connectionType').helpMarkDown;
      for (const name of schemeNames) assert.ok(help.includes(`*${name}*`), `${t.folder}.connectionType help names ${name}`);
      assert.match(help, /one of its four schemes/);
    }
    for (const doc of DOCS) {
      const text = read(doc);
      for (const name of schemeNames) assert.ok(text.includes(`**${name}**`), `${doc} names the scheme **${name}**`);
      assert.doesNotMatch(text, /three (authentication )?schemes/i, doc);
    }
  });

  it('the federation scheme: the endpoint help, the README and the overview give both issuers and say the task logs them', () => {
    const wif = endpointType.authenticationSchemes.find((s: Json) => s.type === 'ms.vss-endpoint.endpoint-auth-scheme-workload-identity-federation');
    const texts: Array<[string, string]> = [
      ['endpoint clientId help', wif.inputDescriptors[0].description],
      ...DOCS.map((d) => [d, read(d)] as [string, string]),
    ];
    for (const [where, text] of texts) {
      for (const needle of [
        'https://login.microsoftonline.com/<tenant id>/v2.0',
        'https://vstoken.dev.azure.com/<organization id>',
        'sc://<organization>/<project>/<service connection name>',
        'api://AzureADTokenExchange',
      ]) {
        assert.ok(text.includes(needle), `${where} lacks ${needle}`);
      }
    }
    for (const doc of DOCS)
      assert.ok(read(doc).includes('The Azure DevOps OIDC token presents issuer <iss>, subject <sub>, audience <aud>'), `${doc} quotes the log line`);
  });

  it('README and overview grant the same Databricks permissions (including APPLY TAG for the promotion claim)', () => {
    const [readme, overview] = DOCS.map((d) => section(read(d), '### What to grant the identity in Databricks'));
    assert.equal(overview, readme);
    assert.match(readme, /`APPLY TAG` on the model for the promotion claim/);
  });

  it('the overview links what it refers to: no bare "the extension\'s repository"', () => {
    assert.doesNotMatch(read('images/overview.md'), /the extension's repository/i);
  });
});
