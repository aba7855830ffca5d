/**
 * task.json `restrictions` as defence in depth behind the output path.
 *
 * The agent (microsoft/azure-pipelines-agent):
 * - src/Agent.Worker/TaskRestrictionsExtension.cs, `IsCommandAllowed`: with `commands.mode: restricted`
 *   a command runs only if its class carries `[CommandRestriction(AllowedInRestrictedMode = true)]`;
 *   `IsSetVariableAllowed`: a variable may be set only when it matches one of `settableVariables.allowed`
 *   (minimatch, case-insensitive).
 * - src/Agent.Worker/TaskCommandExtension.cs marks TaskDetailCommand (logdetail), TaskIssueCommand
 *   (logissue/issue), TaskCompleteCommand, TaskProgressCommand, TaskSetSecretCommand, TaskSetVariableCommand,
 *   TaskDebugCommand, TaskSetTaskVariableCommand and TaskPrepandPathCommand, and NOT TaskUploadSummaryCommand,
 *   TaskUploadFileCommand, TaskAddAttachmentCommand or TaskSetEndpointCommand.
 * So restricted mode suits Deploy and Train; Evaluate posts a build summary and the results-tab attachment, and
 * Deploy Model to Serving a build summary.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, taskJson } from './restrictions';

/** The source folders of a task and whether its code posts a summary or an attachment. */
const TASKS: Array<{ folder: string; src: string; restricted: boolean }> = [
  { folder: 'DatabricksReposDeployV1', src: 'deploy', restricted: true },
  { folder: 'DatabricksTrainV1', src: 'train', restricted: true },
  { folder: 'DatabricksEvaluatePromoteV1', src: 'evaluate', restricted: false },
  { folder: 'DatabricksServingDeployV1', src: 'serve', restricted: false },
];

function sourcesOf(dir: string): string {
  const d = path.join(ROOT, 'src', 'tasks', dir);
  return readdirSync(d)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(d, f), 'utf8'))
    .join('\n');
}

describe('task.json restrictions (defence in depth)', () => {
  for (const t of TASKS) {
    it(`${t.folder}: settableVariables.allowed is exactly its output variables`, () => {
      const j = taskJson(t.folder);
      assert.deepEqual(
        j.restrictions?.settableVariables?.allowed,
        j.outputVariables.map((o) => o.name),
      );
    });

    it(`${t.folder}: commands.mode is ${t.restricted ? 'restricted' : 'not set'} (it ${t.restricted ? 'posts no' : 'posts a'} summary or attachment)`, () => {
      const j = taskJson(t.folder);
      const code = sourcesOf(t.src);
      const postsFiles = /\.(uploadSummary|addAttachment)\(/.test(code);
      assert.equal(postsFiles, !t.restricted);
      assert.equal(j.restrictions?.commands?.mode, t.restricted ? 'restricted' : undefined);
    });
  }

  it('the shared code never posts files either (only Evaluate may)', () => {
    for (const dir of ['common']) assert.ok(!/\.(uploadSummary|addAttachment)\(/.test(sourcesOf(dir)));
  });
});
