import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { REPO_ROOT } from '../helpers/agent';
import {
  CONNECTION_INPUTS,
  ENDPOINT_CONTRIBUTION,
  ENDPOINT_NAME,
  Json,
  manifest,
  readJson,
  ruleInputs,
  schema,
  TASK_CONTRIBUTION,
  TASKS,
  taskJson,
} from './manifest';

function taskValidator() {
  const ajv = new AjvDraft04({ allErrors: true, strict: false, unicodeRegExp: false });
  return ajv.compile(schema('task.schema.json'));
}

function extensionValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema('vss-extension.schema.json'));
}

describe('foundation: task.json files', () => {
  const validate = taskValidator();

  for (const t of TASKS) {
    describe(t.folder, () => {
      const task: Json = taskJson(t.folder);

      it('validates against the task-lib schema', () => {
        const ok = validate(task);
        assert.equal(ok, true, JSON.stringify(validate.errors, null, 2));
      });

      it(`keeps its id ${t.id}, its YAML name ${t.name}@1 and its friendlyName`, () => {
        assert.equal(task.id, t.id);
        assert.equal(task.name, t.name);
        assert.equal(task.friendlyName, t.friendlyName);
        assert.ok(task.friendlyName.length <= 40, `friendlyName is ${task.friendlyName.length} chars`);
        // The dev variant appends " (dev)": that must fit too.
        assert.ok(`${task.friendlyName} (dev)`.length <= 40);
        assert.match(task.name, /^[A-Za-z0-9-]+$/);
      });

      it('runs index.js on both the Node20_1 and the Node24 handler, and nothing older', () => {
        assert.deepEqual(Object.keys(task.execution).sort(), ['Node20_1', 'Node24']);
        assert.equal(task.execution.Node20_1.target, 'index.js');
        assert.equal(task.execution.Node24.target, 'index.js');
        assert.equal(task.prejobexecution, undefined);
        assert.equal(task.postjobexecution, undefined);
        assert.equal(task.minimumAgentVersion, '4.248.0');
      });

      it('has Major 1, matching its folder V1', () => {
        assert.equal(task.version.Major, 1);
        assert.ok(t.folder.endsWith('V1'));
      });

      it('names every input ^[A-Za-z][A-Za-z0-9]*$, once, with help text', () => {
        const names = task.inputs.map((i: Json) => i.name);
        assert.equal(new Set(names.map((n: string) => n.toLowerCase())).size, names.length, `duplicate input: ${names}`);
        for (const input of task.inputs) {
          assert.match(input.name, /^[A-Za-z][A-Za-z0-9]*$/);
          assert.equal(typeof input.helpMarkDown, 'string', `${input.name} has no helpMarkDown`);
          assert.ok(input.helpMarkDown.trim().length >= 20, `${input.name}: help text too short`);
          assert.equal(input.validation, undefined, `${input.name}: the schema rejects a validation block`);
        }
      });

      it('has visibleRules that reference existing inputs and groupNames that reference existing groups', () => {
        const names = new Set(task.inputs.map((i: Json) => i.name));
        const groups = new Set((task.groups ?? []).map((g: Json) => g.name));
        for (const input of task.inputs) {
          if (input.visibleRule) for (const ref of ruleInputs(input.visibleRule)) assert.ok(names.has(ref), `${input.name}: visibleRule references ${ref}`);
          if (input.groupName) assert.ok(groups.has(input.groupName), `${input.name}: unknown group ${input.groupName}`);
        }
        for (const g of task.groups ?? []) {
          if (g.visibleRule) for (const ref of ruleInputs(g.visibleRule)) assert.ok(names.has(ref), `group ${g.name}: visibleRule references ${ref}`);
        }
        assert.ok(groups.has('connection'));
      });

      it('declares no empty group: every group holds at least one input', () => {
        const used = new Set(task.inputs.map((i: Json) => i.groupName).filter(Boolean));
        for (const g of task.groups ?? []) assert.ok(used.has(g.name), `group ${g.name} (${g.displayName}) holds no input`);
      });

      it("links its help to its own section of the extension's Marketplace page, and its catalog description says Databricks", () => {
        const anchors: Record<string, string> = {
          DatabricksReposDeployV1: 'deploy-notebooks-via-repos-api',
          DatabricksTrainV1: 'train',
          // The Marketplace's id for "Evaluate & Promote" (GitHub's is evaluate--promote): see marketplaceSlug in test/docs/docs.test.ts.
          DatabricksEvaluatePromoteV1: 'evaluate-promote',
          DatabricksServingDeployV1: 'deploy-model-to-serving',
        };
        const m = manifest();
        const page = `https://marketplace.visualstudio.com/items?itemName=${m.publisher}.${m.id}`;
        assert.equal(task.helpUrl, `${page}#${anchors[t.folder]}`);
        assert.ok(task.helpMarkDown.endsWith(`[Learn more](${task.helpUrl}).`), task.helpMarkDown);
        assert.match(task.description, /Databricks/);
      });

      it('has an instanceNameFormat naming its main input, so two steps of the task are told apart', () => {
        const expected: Record<string, string> = {
          DatabricksReposDeployV1: 'Deploy notebooks to $(repoPath)$(workspaceFolder)',
          DatabricksTrainV1: 'Train on Databricks: $(jobName)$(jobId)$(notebookPath)',
          DatabricksEvaluatePromoteV1: 'Evaluate & promote $(modelName)',
          DatabricksServingDeployV1: 'Serve model on endpoint $(endpointName)',
        };
        assert.equal(task.instanceNameFormat, expected[t.folder]);
      });

      it('has an instanceNameFormat whose $(macros) are inputs', () => {
        assert.equal(typeof task.instanceNameFormat, 'string');
        const names = new Set(task.inputs.map((i: Json) => i.name));
        for (const m of task.instanceNameFormat.matchAll(/\$\(([^)]+)\)/g)) assert.ok(names.has(m[1]), `instanceNameFormat uses $(${m[1]})`);
      });

      it('declares outputVariables with valid names', () => {
        for (const v of task.outputVariables ?? []) assert.match(v.name, /^[A-Za-z][A-Za-z0-9]*$/);
      });
    });
  }

  it('share the four connection inputs, identical in all four tasks and first in each', () => {
    const blocks = TASKS.map((t) => taskJson(t.folder).inputs.slice(0, CONNECTION_INPUTS.length));
    assert.deepEqual(
      blocks[0].map((i: Json) => i.name),
      CONNECTION_INPUTS,
    );
    for (const b of blocks.slice(1)) assert.deepEqual(b, blocks[0]);
    const groups = TASKS.map((t) => taskJson(t.folder).groups.find((g: Json) => g.name === 'connection'));
    for (const g of groups.slice(1)) assert.deepEqual(g, groups[0]);
  });

  it('the connection inputs show only what the chosen connection type needs', () => {
    const byName = Object.fromEntries(taskJson(TASKS[0].folder).inputs.map((i: Json) => [i.name, i]));
    assert.equal(byName.connectionType.defaultValue, 'databricks');
    assert.deepEqual(Object.keys(byName.connectionType.options), ['databricks', 'azureResourceManager']);
    assert.equal(byName.connectionType.visibleRule, undefined);
    assert.equal(byName.databricksConnection.type, `connectedService:${ENDPOINT_NAME}`);
    assert.equal(byName.databricksConnection.visibleRule, 'connectionType = databricks');
    assert.equal(byName.azureSubscription.type, 'connectedService:AzureRM');
    assert.equal(byName.azureSubscription.visibleRule, 'connectionType = azureResourceManager');
    assert.equal(byName.workspaceUrl.type, 'string');
    assert.equal(byName.workspaceUrl.required, true);
    assert.equal(byName.workspaceUrl.visibleRule, 'connectionType = azureResourceManager');
  });

  it('the classic editor form says what it needs: the job id or name choice, the threshold vs the observed win rate, the bound, the scoring inputs that go together', () => {
    const input = (folder: string, name: string): Json => taskJson(folder).inputs.find((i: Json) => i.name === name);
    const jobId = input('DatabricksTrainV1', 'jobId');
    const jobName = input('DatabricksTrainV1', 'jobName');
    assert.equal(jobId.label, 'Job id (this or Job name)');
    assert.equal(jobName.label, 'Job name (this or Job id)');
    for (const i of [jobId, jobName]) assert.ok(i.helpMarkDown.startsWith('Set one of the two, **Job id** or **Job name**, not both.'), i.name);
    const ev = 'DatabricksEvaluatePromoteV1';
    assert.equal(input(ev, 'winRate').label, 'Required win rate');
    assert.match(input(ev, 'winRate').helpMarkDown, /The output variable `winRate` is the share observed\./);
    assert.match(
      taskJson(ev).outputVariables.find((o: Json) => o.name === 'winRate').description,
      /^Share of resamples on which the best candidate beat production/,
    );
    assert.equal(input(ev, 'minMetric').label, 'Metric bound');
    assert.match(input(ev, 'minMetric').helpMarkDown, /a floor for ROC AUC and average precision .*a ceiling for log loss and the Brier score/);
    assert.equal(input(ev, 'evaluationTable').label, 'Evaluation table (this or a query)');
    assert.equal(input(ev, 'evaluationQuery').label, 'Evaluation query (this or a table)');
    for (const name of ['evaluationTable', 'evaluationQuery'])
      assert.match(input(ev, name).helpMarkDown, /Set one of the two, .* not both; the scoring run also needs the \*\*Output folder\*\*\./, name);
    assert.match(input(ev, 'outputPath').helpMarkDown, /^Required with the scoring notebook or a scoring job \(together with an evaluation table or query\)/);
    assert.match(
      input(ev, 'predictionsSource').helpMarkDown,
      /it needs, together, an \*\*Evaluation table\*\* or an \*\*Evaluation query\*\* \(one of the two\), the \*\*Label column\*\* and an \*\*Output folder\*\*/,
    );
    assert.doesNotMatch(JSON.stringify(TASKS.map((t) => taskJson(t.folder))), /Metric floor|"label":"Win rate"/);
  });

  it('task ids and names are unique', () => {
    const tasks = TASKS.map((t) => taskJson(t.folder));
    assert.equal(new Set(tasks.map((t) => t.id)).size, 4);
    assert.equal(new Set(tasks.map((t) => t.name)).size, 4);
  });
});

describe('foundation: vss-extension.json', () => {
  const m: Json = manifest();

  it('validates against the vss-extension schema', () => {
    const validate = extensionValidator();
    assert.equal(validate(m), true, JSON.stringify(validate.errors, null, 2));
  });

  it('is the public extension mlops-pipelines.databricks-mlops', () => {
    assert.equal(m.publisher, 'mlops-pipelines');
    assert.equal(m.id, 'databricks-mlops');
    assert.equal(m.name, 'Databricks MLOps for Azure Pipelines');
    assert.equal(m.public, true);
    assert.ok(m.description.length < 200);
  });

  it('installs only on Azure DevOps Services: it needs System.OidcRequestUri, REST 7.x and agent 4.248+', () => {
    assert.deepEqual(m.targets, [{ id: 'Microsoft.VisualStudio.Services.Cloud' }]);
  });

  it("ships the repository's MIT LICENSE as its license page, with support and license links to its Marketplace page", () => {
    const page = 'https://marketplace.visualstudio.com/items?itemName=mlops-pipelines.databricks-mlops';
    assert.deepEqual(m.content.license, { path: 'LICENSE' });
    assert.ok(
      m.files.some((f: Json) => f.path === 'LICENSE'),
      'LICENSE is in files, so it is packaged',
    );
    assert.deepEqual(m.links, { support: { uri: page }, license: { uri: page } });
    const license = readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 /);
    assert.ok(license.includes('Permission is hereby granted, free of charge, to any person obtaining a copy'));
    assert.equal(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).license, 'MIT');
  });

  it('contributes exactly the four tasks, each folder existing, listed in files, holding task.json and index.ts', () => {
    const tasks = m.contributions.filter((c: Json) => c.type === TASK_CONTRIBUTION);
    assert.deepEqual(
      tasks.map((c: Json) => c.properties.name),
      TASKS.map((t) => `tasks/${t.folder}`),
    );
    const files = m.files.map((f: Json) => f.path);
    for (const c of tasks) {
      assert.deepEqual(c.targets, ['ms.vss-distributed-task.tasks']);
      const folder = path.join(REPO_ROOT, c.properties.name);
      assert.ok(existsSync(folder) && statSync(folder).isDirectory(), `${c.properties.name} does not exist`);
      assert.ok(existsSync(path.join(folder, 'task.json')) && existsSync(path.join(folder, 'index.ts')));
      assert.ok(files.includes(c.properties.name), `${c.properties.name} is not in files: tfx would silently drop it`);
      // The extension's task catalog says where each task works.
      assert.match(c.description, /Databricks/, c.id);
    }
  });

  it('every contribution id is unique and every files entry exists', () => {
    const ids = m.contributions.map((c: Json) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const f of m.files) assert.ok(existsSync(path.join(REPO_ROOT, f.path)), `files: ${f.path} does not exist`);
    assert.ok(existsSync(path.join(REPO_ROOT, m.icons.default)));
    assert.ok(existsSync(path.join(REPO_ROOT, m.content.details.path)));
  });

  describe('Databricks service endpoint type', () => {
    const endpoints = m.contributions.filter((c: Json) => c.type === ENDPOINT_CONTRIBUTION);
    const ep = endpoints[0]?.properties;
    const scheme = (type: string) => ep.authenticationSchemes.find((s: Json) => s.type === type);
    const inputIds = (s: Json) => s.inputDescriptors.map((d: Json) => d.id);

    it(`is one endpoint type named ${ENDPOINT_NAME}, the type the tasks' connection input asks for`, () => {
      assert.equal(endpoints.length, 1);
      assert.deepEqual(endpoints[0].targets, ['ms.vss-endpoint.endpoint-types']);
      assert.equal(ep.name, ENDPOINT_NAME);
      for (const t of TASKS) {
        const input = taskJson(t.folder).inputs.find((i: Json) => i.name === 'databricksConnection');
        assert.equal(input.type, `connectedService:${ep.name}`);
      }
    });

    it('offers exactly the four schemes readConnection understands', () => {
      assert.deepEqual(
        ep.authenticationSchemes.map((s: Json) => s.type),
        [
          'ms.vss-endpoint.endpoint-auth-scheme-token',
          'ms.vss-endpoint.endpoint-auth-scheme-none',
          'ms.vss-endpoint.endpoint-auth-scheme-service-principal',
          'ms.vss-endpoint.endpoint-auth-scheme-workload-identity-federation',
        ],
      );
    });

    it('workload identity federation scheme = Databricks OAuth token federation: one optional, non-secret clientId; help names the policy fields and that it is unverified', () => {
      const wif = scheme('ms.vss-endpoint.endpoint-auth-scheme-workload-identity-federation');
      assert.deepEqual(
        wif.inputDescriptors.map((d: Json) => [d.id, d.isConfidential, d.validation.isRequired]),
        [['clientId', false, false]],
      );
      const help: string = wif.inputDescriptors[0].description;
      for (const part of [
        'federation policy',
        'account-wide',
        'Microsoft Entra issuer https://login.microsoftonline.com/<tenant id>/v2.0 for new connections',
        'https://vstoken.dev.azure.com/<organization id>',
        'sc://<organization>/<project>/<service connection name>',
        'audience api://AzureADTokenExchange',
        'Every run logs the issuer and subject the token presents',
        'Not yet verified in a real Azure DevOps organization',
        "service connection's Azure DevOps OIDC token (by the connection's id)",
      ]) {
        assert.ok(help.includes(part), `help names: ${part}`);
      }
    });

    it('token scheme: input apitoken (secret) and an Authorization: Bearer header for calls Azure DevOps makes', () => {
      const token = scheme('ms.vss-endpoint.endpoint-auth-scheme-token');
      assert.deepEqual(inputIds(token), ['apitoken']);
      assert.equal(token.inputDescriptors[0].isConfidential, true);
      assert.deepEqual(token.headers, [{ name: 'Authorization', value: 'Bearer {{{endpoint.apitoken}}}' }]);
    });

    it('none scheme = Databricks OAuth M2M: clientId and secret clientSecret', () => {
      const none = scheme('ms.vss-endpoint.endpoint-auth-scheme-none');
      assert.deepEqual(inputIds(none), ['clientId', 'clientSecret']);
      assert.deepEqual(
        none.inputDescriptors.map((d: Json) => d.isConfidential),
        [false, true],
      );
    });

    it('service principal scheme = Entra ID: tenantId, clientId and secret clientSecret', () => {
      const sp = scheme('ms.vss-endpoint.endpoint-auth-scheme-service-principal');
      assert.deepEqual(inputIds(sp), ['tenantId', 'clientId', 'clientSecret']);
      assert.deepEqual(
        sp.inputDescriptors.map((d: Json) => d.isConfidential),
        [false, false, true],
      );
    });

    it('has an optional endpoint-level authorityHost for sovereign clouds, and every required input is marked so', () => {
      assert.deepEqual(
        ep.inputDescriptors.map((d: Json) => [d.id, d.validation.isRequired, d.isConfidential]),
        [['authorityHost', false, false]],
      );
      // Every scheme input is required except the federation client id (empty = account-wide policy).
      for (const s of ep.authenticationSchemes) {
        for (const d of s.inputDescriptors)
          assert.equal(d.validation.isRequired, !(s.type.endsWith('workload-identity-federation') && d.id === 'clientId'), `${s.type} ${d.id}`);
      }
    });
  });
});

describe('foundation: version rule', () => {
  it("every task's Minor.Patch equals the extension's minor.patch, and Major its folder's V<n>", () => {
    const [, minor, patch] = manifest().version.split('.').map(Number);
    for (const t of TASKS) {
      const v = taskJson(t.folder).version;
      assert.deepEqual(v, { Major: Number(/V(\d+)$/.exec(t.folder)![1]), Minor: minor, Patch: patch }, `${t.folder}: run npm run bump`);
    }
  });

  it('package.json carries the extension version', () => {
    assert.equal(readJson('package.json').version, manifest().version);
  });
});

describe('foundation: README and CI', () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

  const development = readFileSync(path.join(REPO_ROOT, 'docs', 'development.md'), 'utf8');

  it('README gives the demo command; docs/development.md (linked from it) gives the test command and documents the version rule', () => {
    assert.ok(readme.includes('npm ci && npm run demo'));
    assert.ok(readme.includes('(docs/development.md)'));
    assert.ok(development.includes('npm ci && npm run demo'));
    assert.ok(development.includes('npm test'));
    assert.ok(development.includes('npm run bump'));
    assert.ok(development.includes('npm run package'));
  });

  it('.ci/run runs exactly the test command of docs/development.md on a clean install', () => {
    const lines = readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    assert.ok(lines.includes('npm ci'));
    assert.equal(lines[lines.length - 1], 'npm test');
  });

  it('azure-pipelines.yml builds, tests with JUnit results, packages, and publishes only from version tags', () => {
    const yml = readFileSync(path.join(REPO_ROOT, 'azure-pipelines.yml'), 'utf8');
    for (const needle of [
      'npm ci',
      'npm run build',
      'npm test -- --junit',
      'PublishTestResults@2',
      'test-results/junit.xml',
      'npm run package',
      'PublishPipelineArtifact@1',
      "startsWith(variables['Build.SourceBranch'], 'refs/tags/v')",
      'PublishAzureDevOpsExtension@',
    ]) {
      assert.ok(yml.includes(needle), `azure-pipelines.yml lacks ${needle}`);
    }
  });
});
