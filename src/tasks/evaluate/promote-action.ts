/**
 * The promote action (handoff.ts): after an approval, promote exactly the version an evaluate step's decision
 * record names. Every check runs before the first write, so a refusal changes nothing: the decision must be a
 * challenger for this model and registry (and target), recent enough, the version still there, READY and
 * from the recorded run, and production still the version the models were compared with. The promotion
 * itself is the one `evaluateAndPromote` does (promotion.ts: claim, tags, move, check it held). A second run
 * finds the version already in production and changes nothing.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../databricks/clock';
import type { TaskHost } from '../../pipeline/host';
import { claimOwner, type ClaimOptions } from './claim';
import { RECORD_FILE, type PromoteInputs } from './handoff';
import { applyPromotion, describeVersion, type PromotionContext } from './promotion';
import type { ProductionRef, ProductionRegistry } from './registry';
import { isDecisionRecordSchema, READABLE_RECORD_SCHEMAS } from '../common/decision-record';
import { mdCell, RESULTS_TAB_VIEW, type DecisionRecord } from './report';
import { decisionTags } from './promote-decision';
import { inertJson, inertMarkdown } from '../../pipeline/output';

export const PROMOTION_SCHEMA = 'mlopspipelines.promotion/v1';
/** How far in the future a record's time may be (agents' clock differences) before it is refused. */
const FUTURE_SLACK_MS = 15 * 60_000;

/** Copies a Unity Catalog version into another model (MLflow's copy, on Databricks); idempotent by source version. */
export interface VersionCopier {
  copyVersion(req: { sourceModel: string; sourceVersion: string; targetModel: string }, signal?: AbortSignal): Promise<{ version: string; reused: boolean }>;
}

export interface PromoteDeps {
  host: Pick<TaskHost, 'log' | 'setOutput' | 'uploadSummary' | 'tempDir' | 'signal' | 'setProgress'>;
  workspaceUrl: string;
  /** The evaluated model (where the challenger version is). */
  registry: ProductionRegistry;
  /** With targetModelName: the model production moves in. */
  target?: ProductionRegistry;
  copier?: VersionCopier;
  /** Wall time: the record's age, and the promotion record's startedAt and finishedAt. */
  clock: Pick<Clock, 'now'>;
  claim?: ClaimOptions;
}

export interface PromotionRecord {
  schema: typeof PROMOTION_SCHEMA;
  outcome: 'promoted' | 'alreadyPromoted';
  sentence: string;
  /** Where production moved. */
  registry: { kind: 'workspace' | 'unityCatalog'; modelName: string; target: string };
  version: string;
  versionUrl: string;
  previousProductionVersion: string | null;
  /** The evaluated version the decision was about (the same as `version` unless copied across catalogs). */
  source: { modelName: string; version: string; versionUrl: string; runId: string; copied: boolean; reusedCopy: boolean };
  evaluation: {
    recordPath: string;
    sha256: string;
    buildId: string;
    buildNumber: string | null;
    finishedAt: string;
    sentence: string;
    links: Record<string, string>;
  };
  context: { buildId: string; buildNumber: string | null; startedAt: string; finishedAt: string; links: Record<string, string> };
}

export interface PromoteResult {
  promoted: boolean;
  alreadyPromoted: boolean;
  version: string;
  record: PromotionRecord;
  recordPath: string;
  summaryPath: string;
  message: string;
  issues: string[];
}

/** A refusal: nothing was changed. */
function refuse(reason: string): never {
  throw new Error(`Not promoted, nothing was changed: ${reason}`);
}

/** Reads the decision record (a folder from a download step holds it as decision.json). */
async function readRecord(where: string): Promise<{ record: DecisionRecord; path: string; sha256: string }> {
  let file = where;
  try {
    if ((await fsp.stat(where)).isDirectory()) file = path.join(where, RECORD_FILE);
  } catch {
    refuse(
      `the decision record ${where} does not exist. Download the evaluate stage's artifact first (- download: current, artifact: model-evaluation) and point decisionRecord at its ${RECORD_FILE}.`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    refuse(`the decision record ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  let record: DecisionRecord;
  try {
    record = JSON.parse(bytes.toString('utf8')) as DecisionRecord;
  } catch {
    refuse(`${file} is not JSON; decisionRecord must be the ${RECORD_FILE} an evaluate step published.`);
  }
  if (record === null || typeof record !== 'object' || !isDecisionRecordSchema(record.schema)) {
    refuse(`${file} is not an Evaluate & Promote decision record (schema ${READABLE_RECORD_SCHEMAS.join(' or ')}).`);
  }
  return { record, path: file, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The checks on the record alone (no registry call). */
function checkRecord(record: DecisionRecord, inputs: PromoteInputs, deps: PromoteDeps): NonNullable<DecisionRecord['challenger']> {
  const { registry, target } = deps;
  if (record.action !== 'evaluate') {
    refuse(
      `the record was written by action ${record.action ?? 'evaluateAndPromote'}, not evaluate; only an evaluate step's decision is promoted by action promote.`,
    );
  }
  const r = record.registry;
  if (r?.kind !== registry.kind || r.modelName !== registry.modelName || r.target !== registry.targetDescription) {
    refuse(
      `the record is about ${r?.modelName} (${r?.kind}, ${r?.target}), not ${registry.modelName} (${registry.kind}, ${registry.targetDescription}); check modelName, registry and the champion alias or stage.`,
    );
  }
  const t = record.target ?? null;
  if (target) {
    if (!t || t.modelName !== target.modelName || t.target !== target.targetDescription) {
      refuse(
        t
          ? `the evaluation was for target ${t.modelName} (${t.target}), not ${target.modelName} (${target.targetDescription}).`
          : `the evaluation recorded no target model; set targetModelName ${target.modelName} on the evaluate step too, so the record carries the target's production version.`,
      );
    }
  } else if (t) {
    refuse(`the evaluation was for target ${t.modelName}; set targetModelName ${t.modelName} on this step.`);
  }
  if (record.dryRun) refuse('the record is from a dry run, which registered and marked nothing.');
  if (record.outcome !== 'challenger' || !record.challenger) {
    refuse(`the decision was ${record.outcome}, not promote (${record.sentence})`);
  }
  const finished = Date.parse(record.context?.finishedAt ?? '');
  if (!Number.isFinite(finished)) refuse('the record has no valid finishedAt time.');
  const ageMs = deps.clock.now() - finished;
  // Agents' clocks differ a little; a record from well in the future was not written by an evaluate step of this run.
  if (ageMs < -FUTURE_SLACK_MS)
    refuse(
      `the record says it was made at ${record.context.finishedAt}, in the future of this agent's clock; check the agents' clocks or run the evaluation again.`,
    );
  if (ageMs > inputs.maxDecisionAgeMs) {
    refuse(
      `the decision is ${(ageMs / 3_600_000).toFixed(1)} hours old (made at ${record.context.finishedAt}), older than maxDecisionAgeHours ${inputs.maxDecisionAgeMs / 3_600_000}; run the evaluation again.`,
    );
  }
  return record.challenger;
}

type Challenger = NonNullable<DecisionRecord['challenger']>;

/** What the promotion is about: the decision, where production moves, and what it was when the models were compared. */
interface PromotePlan {
  record: DecisionRecord;
  challenger: Challenger;
  into: ProductionRegistry;
  expectedVersion: string | null;
  sourceUri: string;
}

interface PromoteOutcome {
  version: string;
  copied: { copied: boolean; reused: boolean };
  issues: string[];
  alreadyPromoted: boolean;
}

export async function runPromote(inputs: PromoteInputs, deps: PromoteDeps): Promise<PromoteResult> {
  const { host, registry } = deps;
  const { log, signal } = host;
  const startedAt = new Date(deps.clock.now()).toISOString();
  host.setProgress(5, 'Reading the decision record');
  const read = await readRecord(inputs.decisionRecord);
  const record = read.record;
  const challenger = checkRecord(record, inputs, deps);
  log.info(`Decision record ${read.path} (sha256 ${read.sha256}) from build ${record.context.buildNumber ?? record.context.buildId}: ${record.sentence}`);

  host.setProgress(10, 'Checking the approved version');
  await checkApprovedVersion(registry, challenger, signal);

  // Production (of the target when copying across catalogs) must be what the models were compared with.
  const into = deps.target ?? registry;
  const expectedVersion = deps.target ? (record.target?.productionVersion ?? null) : (record.production?.version ?? null);
  const current = await into.getProduction(signal);
  const sourceUri = `models:/${registry.modelName}/${challenger.version}`;
  const plan: PromotePlan = { record, challenger, into, expectedVersion, sourceUri };
  const { version, copied, issues, alreadyPromoted } = await promoteOrConfirm(inputs, deps, plan, current);

  const sentence = alreadyPromoted
    ? `${into.modelName} version ${version} is already ${into.targetDescription}, as approved (decision of build ${record.context.buildId}); nothing was changed.`
    : `Promoted ${into.modelName} version ${version}${copied.copied ? ` (copy of ${sourceUri})` : ''} to ${into.targetDescription}, as approved (decision of build ${record.context.buildId}).`;
  if (!alreadyPromoted) log.info(sentence);
  const out = buildPromotionRecord(inputs, deps, { record, read, challenger, into, version, expectedVersion, copied, sentence, alreadyPromoted, startedAt });
  const paths = await writePromotionRecord(out, deps);
  setPromoteOutputs(host.setOutput, plan, version, paths.recordPath);
  const message = issues.length > 0 ? `${sentence} Issues: ${issues.join('; ')}.` : sentence;
  return { promoted: !alreadyPromoted, alreadyPromoted, version, record: out, ...paths, message, issues };
}

/** The evaluated version: still there, READY, and from the run that won. */
async function checkApprovedVersion(registry: ProductionRegistry, challenger: Challenger, signal: AbortSignal): Promise<void> {
  const mv = await registry.getVersion(challenger.version, signal);
  if (!mv) refuse(`${registry.modelName} version ${challenger.version} no longer exists.`);
  if (mv.status && mv.status !== 'READY') refuse(`${registry.modelName} version ${challenger.version} is ${mv.status}, not READY.`);
  if (mv.run_id !== challenger.runId)
    refuse(`${registry.modelName} version ${challenger.version} is now from run ${mv.run_id || '(none)'}, not from the evaluated run ${challenger.runId}.`);
}

/** Whether production already is the approved version (or, across catalogs, a copy of it). */
function isApprovedInProduction(p: ProductionRef | undefined, deps: PromoteDeps, plan: PromotePlan): boolean {
  const { registry } = deps;
  const { challenger, sourceUri } = plan;
  return (
    !!p &&
    (deps.target
      ? p.source === sourceUri || p.source?.endsWith(`/${registry.modelName.replace(/\./g, '/')}/${challenger.version}`) === true
      : p.version === challenger.version)
  );
}

/** Confirms a promotion that already happened, or checks production is unchanged, copies if needed, and promotes. */
async function promoteOrConfirm(inputs: PromoteInputs, deps: PromoteDeps, plan: PromotePlan, current: ProductionRef | undefined): Promise<PromoteOutcome> {
  const { host } = deps;
  const { into, challenger, expectedVersion } = plan;
  if (isApprovedInProduction(current, deps, plan)) {
    // A re-run after the promotion (or its copy) already happened: nothing to do.
    const version = current!.version;
    host.log.info(`${into.modelName} version ${version} (${into.targetDescription}) is already the approved version; nothing was changed.`);
    return { version, copied: { copied: false, reused: false }, issues: [], alreadyPromoted: true };
  }
  if ((current?.version ?? null) !== expectedVersion) {
    refuse(
      `${into.modelName} ${into.targetDescription} changed since the evaluation: it was ${expectedVersion ? `version ${expectedVersion}` : 'not set'} when the models were compared and is now ${describeVersion(current)}. Run the evaluation again and approve its new decision.`,
    );
  }
  const { version, copied } = deps.target
    ? await copyIntoTarget(inputs, deps, deps.target, plan)
    : { version: challenger.version, copied: { copied: false, reused: false } };
  host.setProgress(75, 'Promoting');
  const issues = await applyApprovedPromotion(inputs, deps, plan, version);
  return { version, copied, issues, alreadyPromoted: false };
}

/** Copies the approved version into the target model (or reuses an earlier copy) and waits for it to be READY. */
async function copyIntoTarget(
  inputs: PromoteInputs,
  deps: PromoteDeps,
  target: ProductionRegistry,
  plan: PromotePlan,
): Promise<{ version: string; copied: { copied: boolean; reused: boolean } }> {
  const { host, registry } = deps;
  const { log, signal } = host;
  const { challenger, sourceUri } = plan;
  if (!deps.copier)
    throw new Error(
      `Copying ${registry.modelName} version ${challenger.version} into ${target.modelName} needs the registration notebook, which is not configured.`,
    );
  host.setProgress(40, 'Copying the version');
  const copy = await deps.copier.copyVersion({ sourceModel: registry.modelName, sourceVersion: challenger.version, targetModel: target.modelName }, signal);
  const version = copy.version;
  log.info(
    copy.reused
      ? `${target.modelName} version ${version} is the copy of ${sourceUri} made earlier; reusing it.`
      : `Copied ${sourceUri} to ${target.modelName} version ${version}.`,
  );
  await target.waitReady(version, inputs.readyTimeoutMs, signal, challenger.runId);
  return { version, copied: { copied: true, reused: copy.reused } };
}

/** The promotion `evaluateAndPromote` does (claim, tags, move, check it held); returns its issues. */
async function applyApprovedPromotion(inputs: PromoteInputs, deps: PromoteDeps, plan: PromotePlan, version: string): Promise<string[]> {
  const { host } = deps;
  const { log, signal } = host;
  const { record, expectedVersion } = plan;
  const ctx: PromotionContext = {
    registry: plan.into,
    log,
    setProgress: (p, op) => host.setProgress(p, op),
    owner: claimOwner(inputs.build),
    claim: deps.claim,
    signal,
  };
  const vs = record.decision.models.find((m) => m.name === record.decision.best)?.vsBaseline;
  return applyPromotion(ctx, {
    version,
    expected: expectedVersion ? { version: expectedVersion } : undefined,
    tags: decisionTags({ build: { buildId: record.context.buildId } }, record.decision, vs?.winRate, vs?.meanDelta),
    comment:
      `Promoted by Evaluate & Promote (action promote, build ${inputs.build.buildId}${inputs.build.buildNumber ? `, ${inputs.build.buildNumber}` : ''}) after approval of the decision of build ${record.context.buildId} over ${expectedVersion ? `version ${expectedVersion}` : 'no production model'}: ${record.decision.reason}`.slice(
        0,
        1000,
      ),
    again: 'run the evaluation again and approve its new decision',
  });
}

/** The task's output variables for a promotion (or a confirmed earlier one). */
function setPromoteOutputs(set: PromoteDeps['host']['setOutput'], plan: PromotePlan, version: string, recordPath: string): void {
  const { record, challenger, expectedVersion } = plan;
  set('decision', 'promoted');
  set('promoted', 'true');
  set('modelVersion', version);
  set('bestCandidateRunId', challenger.runId);
  set('productionVersion', expectedVersion ?? '');
  const vs = record.decision.models.find((m) => m.name === record.decision.best)?.vsBaseline;
  set('winRate', vs ? String(vs.winRate) : '');
  set('metricDelta', vs ? String(vs.meanDelta) : '');
  set('reportPath', recordPath);
  set('decisionRecordPath', recordPath);
}

function buildPromotionRecord(
  inputs: PromoteInputs,
  deps: PromoteDeps,
  p: {
    record: DecisionRecord;
    read: { path: string; sha256: string };
    challenger: NonNullable<DecisionRecord['challenger']>;
    into: ProductionRegistry;
    version: string;
    expectedVersion: string | null;
    copied: { copied: boolean; reused: boolean };
    sentence: string;
    alreadyPromoted: boolean;
    startedAt: string;
  },
): PromotionRecord {
  const b = inputs.build;
  const links: Record<string, string> = {};
  if (b.collectionUri && b.teamProject && /^\d+$/.test(b.buildId))
    links.build = `${b.collectionUri.replace(/\/+$/, '')}/${encodeURIComponent(b.teamProject)}/_build/results?buildId=${b.buildId}`;
  const evalLinks = { ...(p.record.context.links ?? {}) };
  if (evalLinks.build) evalLinks.report = `${evalLinks.build}&view=${RESULTS_TAB_VIEW}`;
  return {
    schema: PROMOTION_SCHEMA,
    outcome: p.alreadyPromoted ? 'alreadyPromoted' : 'promoted',
    sentence: p.sentence,
    registry: { kind: p.into.kind, modelName: p.into.modelName, target: p.into.targetDescription },
    version: p.version,
    versionUrl: p.into.versionUrl(deps.workspaceUrl, p.version),
    previousProductionVersion: p.expectedVersion,
    source: {
      modelName: deps.registry.modelName,
      version: p.challenger.version,
      versionUrl: p.challenger.versionUrl,
      runId: p.challenger.runId,
      copied: p.copied.copied,
      reusedCopy: p.copied.reused,
    },
    evaluation: {
      recordPath: p.read.path,
      sha256: p.read.sha256,
      buildId: p.record.context.buildId,
      buildNumber: p.record.context.buildNumber ?? null,
      finishedAt: p.record.context.finishedAt,
      sentence: p.record.sentence,
      links: evalLinks,
    },
    context: { buildId: b.buildId, buildNumber: b.buildNumber ?? null, startedAt: p.startedAt, finishedAt: new Date(deps.clock.now()).toISOString(), links },
  };
}

function mdLink(text: string, url: string | undefined): string {
  const t = mdCell(text).replace(/[[\]]/g, (c) => `\\${c}`);
  return url ? `[${t}](${url.replace(/[()\s]/g, encodeURIComponent)})` : t;
}

/** Markdown for task.uploadsummary: what was promoted, and links to the evaluation's run and report. */
export function renderPromotionSummary(r: PromotionRecord): string {
  const e = r.evaluation;
  const lines = [`### Evaluate & Promote (promote): ${mdCell(r.registry.modelName)}`, '', `**${mdCell(r.sentence)}**`, ''];
  lines.push(
    `Version: ${mdLink(`${r.registry.modelName} version ${r.version}`, r.versionUrl)}${r.source.copied ? `, copied from ${mdLink(`${r.source.modelName} version ${r.source.version}`, r.source.versionUrl)}` : ''}; production before: ${r.previousProductionVersion ? `version ${mdCell(r.previousProductionVersion)}` : 'none'}.`,
    '',
  );
  lines.push(`Approved decision: ${mdCell(e.sentence)}`, '');
  const refs = [
    e.links.build ? mdLink(`evaluation run (build ${e.buildNumber ?? e.buildId})`, e.links.build) : `evaluation build ${mdCell(e.buildNumber ?? e.buildId)}`,
    e.links.report ? mdLink('evaluation report', e.links.report) : undefined,
    e.links.bestCandidateRun ? mdLink('winning MLflow run', e.links.bestCandidateRun) : undefined,
    e.links.scoringRun ? mdLink('scoring run', e.links.scoringRun) : undefined,
  ].filter(Boolean);
  lines.push(`Evaluation: ${refs.join(' · ')}; record sha256 \`${e.sha256}\`, decided at ${mdCell(e.finishedAt)}.`, '');
  return lines.join('\n');
}

async function writePromotionRecord(record: PromotionRecord, deps: PromoteDeps): Promise<{ recordPath: string; summaryPath: string }> {
  const dir = path.join(deps.host.tempDir, 'mlops-evaluation');
  await fsp.mkdir(dir, { recursive: true });
  const stamp = record.context.buildId.replace(/[^A-Za-z0-9_.-]/g, '_');
  const recordPath = path.join(dir, `promotion-${stamp}-${process.pid}.json`);
  const summaryPath = path.join(dir, `promotion-${stamp}-${process.pid}.md`);
  // Names come from the record and the workspace: the files hold no logging command a later `cat` could run.
  await fsp.writeFile(recordPath, inertJson(`${JSON.stringify(record, null, 2)}\n`), 'utf8');
  await fsp.writeFile(summaryPath, inertMarkdown(renderPromotionSummary(record)), 'utf8');
  deps.host.uploadSummary(summaryPath);
  return { recordPath, summaryPath };
}
