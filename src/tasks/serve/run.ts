import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../databricks/clock';
import { CancelledError, messageOf, TimeoutError } from '../../databricks/errors';
import {
  describeEndpointState,
  EndpointUpdateFailedError,
  type EndpointConfigInput,
  type EndpointConfigOutput,
  type ScoringRequest,
  type ServedEntityInput,
  type ServedEntityOutput,
  type ServingClient,
  type ServingEndpoint,
} from '../../databricks/serving';
import { waitUntil } from '../../databricks/wait';
import type { ModelVersion } from '../../mlflow/types';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import type { ServeInputs } from './inputs';
import { rolloutProgress } from './progress';
import { inertMarkdown } from '../../pipeline/output';
import { isDecisionRecordSchema, READABLE_RECORD_SCHEMAS } from '../common/decision-record';

/** The registry reads this task needs (src/mlflow clients: UnityCatalogModelRegistry, WorkspaceModelRegistry). */
export interface VersionReader {
  getModelVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion | undefined>;
  getModelVersionByAlias?(name: string, alias: string, signal?: AbortSignal): Promise<ModelVersion | undefined>;
  getLatestVersions?(name: string, stages: Array<'Production'>, signal?: AbortSignal): Promise<ModelVersion[]>;
}

export interface ServeDeps {
  serving: ServingClient;
  registry: VersionReader;
  host: TaskHost;
  clock: Clock;
  /** Reads a local file (decision record, smoke test); fs by default in main. */
  readFile: (file: string) => string;
  /** Poll schedule: first interval (default 5 s), growing 1.5x to the cap (default 30 s). */
  poll?: { initialIntervalMs?: number; maxIntervalMs?: number };
}

/** A smoke test file larger than this is refused before anything is sent: it is a smoke test, not a batch. */
const MAX_SMOKE_BYTES = 1_000_000;
const CANCEL_READ_TIMEOUT_MS = 2_000;

export interface SmokeTest {
  body: ScoringRequest;
  records: number;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/** Parses the smoke test file: an array of records, or a body with `dataframe_split` / `dataframe_records`. */
export function parseSmokeTest(text: string, file: string): SmokeTest {
  if (Buffer.byteLength(text, 'utf8') > MAX_SMOKE_BYTES)
    throw new Error(`The smoke test file (smokeTestFile) ${file} is larger than ${MAX_SMOKE_BYTES / 1_000_000} MB; a smoke test needs a few records.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`The smoke test file (smokeTestFile) ${file} is not JSON (${messageOf(e)}).`);
  }
  const isRecord = (r: unknown) => r !== null && typeof r === 'object' && !Array.isArray(r);
  const shape = `Use an array of records ([{"x0": 1.2, "x1": 0.4}, ...]), or a scoring body {"dataframe_split": {"columns": [...], "data": [[...], ...]}} or {"dataframe_records": [...]}.`;
  if (Array.isArray(parsed)) {
    if (parsed.length === 0 || !parsed.every(isRecord))
      throw new Error(`The smoke test file (smokeTestFile) ${file} must hold at least one record, each a JSON object. ${shape}`);
    return { body: { dataframe_records: parsed as Array<Record<string, unknown>> }, records: parsed.length };
  }
  if (isRecord(parsed)) {
    const o = parsed as Record<string, unknown>;
    const keys = Object.keys(o);
    if (
      keys.length === 1 &&
      keys[0] === 'dataframe_records' &&
      Array.isArray(o.dataframe_records) &&
      o.dataframe_records.length > 0 &&
      o.dataframe_records.every(isRecord)
    ) {
      return { body: { dataframe_records: o.dataframe_records as Array<Record<string, unknown>> }, records: o.dataframe_records.length };
    }
    const split = o.dataframe_split as Record<string, unknown> | undefined;
    if (
      keys.length === 1 &&
      keys[0] === 'dataframe_split' &&
      isRecord(split) &&
      Array.isArray(split!.data) &&
      split!.data.length > 0 &&
      split!.data.every((r) => Array.isArray(r))
    ) {
      if (split!.columns !== undefined && !Array.isArray(split!.columns))
        throw new Error(`In the smoke test file ${file}, dataframe_split.columns must be a list of column names.`);
      return { body: { dataframe_split: split as { columns?: unknown[]; data: unknown[][] } }, records: (split!.data as unknown[]).length };
    }
  }
  throw new Error(`The smoke test file (smokeTestFile) ${file} has an unexpected shape. ${shape}`);
}

/** The fields of a decision record this task reads: the file is input, so each is checked before it is used. */
interface RecordFields {
  schema?: unknown;
  registry?: { modelName?: unknown; kind?: unknown } | null;
  dryRun?: unknown;
  outcome?: unknown;
  promotion?: { version?: unknown; applied?: unknown } | null;
}

/**
 * The version a decision record of Evaluate & Promote says was promoted. Fails unless the record is one
 * (schema), is about this model and registry, is not a dry run, and its promotion was applied.
 */
export function versionFromDecisionRecord(text: string, file: string, modelName: string, registry: ServeInputs['registry']): string {
  let rec: RecordFields | null;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    throw new Error(`The decision record (decisionRecord) ${file} is not JSON (${messageOf(e)}).`);
  }
  if (!rec || typeof rec !== 'object' || !isDecisionRecordSchema(rec.schema)) {
    throw new Error(
      `${file} is not a decision record of Evaluate & Promote (schema ${READABLE_RECORD_SCHEMAS.join(' or ')}); use its reportPath output or the evaluation.json build attachment.`,
    );
  }
  const recModel = rec.registry?.modelName;
  if (recModel !== modelName)
    throw new Error(`The decision record (decisionRecord) ${file} is about model "${String(recModel)}", not "${modelName}"; check modelName.`);
  if (rec.registry?.kind !== registry)
    throw new Error(`The decision record (decisionRecord) ${file} is about the ${String(rec.registry?.kind)} registry, but registry is ${registry}.`);
  if (rec.dryRun === true)
    throw new Error(`The decision record (decisionRecord) ${file} is from a dry run: nothing was promoted, so there is no version to serve.`);
  const version = rec.promotion?.version;
  if (rec.outcome !== 'promoted' || rec.promotion?.applied !== true) {
    throw new Error(
      `The decision record (decisionRecord) ${file} says no version was promoted (outcome ${String(rec.outcome)}). Run this step only when Evaluate & Promote promoted, e.g. condition: eq(variables['evaluate.promoted'], 'true').`,
    );
  }
  if (typeof version !== 'string' || !/^[1-9]\d*$/.test(version)) {
    throw new Error(
      `The decision record (decisionRecord) ${file} says a version was promoted but names ${JSON.stringify(version) ?? 'none'}, which is not a version number; it is damaged or not written by Evaluate & Promote.`,
    );
  }
  return version;
}

/** The served entity name this task gives a model version: `<model with . as ->-<version>`. */
export function entityNameFor(model: string, version: string): string {
  return `${model.replace(/[^A-Za-z0-9_-]/g, '-')}-${version}`;
}

interface ServedEntry {
  name: string;
  entity: ServedEntityInput;
  traffic: number;
}

/** The served config as entries (name, the entity as it would be sent back, traffic share). */
function entriesOf(config: EndpointConfigOutput | undefined): ServedEntry[] {
  if (!config) return [];
  const routes = config.traffic_config?.routes ?? [];
  const share = (name: string) => routes.filter((r) => (r.served_entity_name ?? r.served_model_name) === name).reduce((a, r) => a + r.traffic_percentage, 0);
  const out: ServedEntry[] = [];
  for (const e of config.served_entities ?? []) {
    if (e.external_model !== undefined || e.foundation_model !== undefined || !e.entity_name || !e.entity_version) {
      throw new Error(
        `The endpoint serves ${e.name ?? 'an entity'} that is not a registered model version (external or foundation model); this task manages endpoints of registered models only.`,
      );
    }
    const name = e.name ?? entityNameFor(e.entity_name, e.entity_version);
    out.push({ name, entity: toInput(e, name), traffic: share(name) });
  }
  for (const m of config.served_models ?? []) {
    const model = m.model_name ?? m.entity_name;
    const version = m.model_version ?? m.entity_version;
    if (!model || !version) continue;
    const name = m.name ?? entityNameFor(model, version);
    if (out.some((x) => x.name === name)) continue;
    out.push({ name, entity: toInput({ ...m, entity_name: model, entity_version: version }, name), traffic: share(name) });
  }
  return out;
}

/** An entity read from the endpoint, as it is sent back in a config (its compute unchanged). */
function toInput(e: ServedEntityOutput, name: string): ServedEntityInput {
  const out: ServedEntityInput = { name, entity_name: e.entity_name!, entity_version: e.entity_version! };
  if (e.workload_size !== undefined) out.workload_size = e.workload_size;
  if (e.workload_type !== undefined) out.workload_type = e.workload_type as ServedEntityInput['workload_type'];
  if (e.scale_to_zero_enabled !== undefined) out.scale_to_zero_enabled = e.scale_to_zero_enabled;
  if (e.environment_vars !== undefined) out.environment_vars = e.environment_vars;
  for (const k of ['min_provisioned_concurrency', 'max_provisioned_concurrency', 'instance_profile_arn'] as const) {
    if (e[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = e[k];
  }
  return out;
}

function entriesOfInput(config: EndpointConfigInput): ServedEntry[] {
  return entriesOf({ served_entities: config.served_entities as ServedEntityOutput[], traffic_config: config.traffic_config });
}

function configOf(entries: ServedEntry[]): EndpointConfigInput {
  return {
    served_entities: entries.map((e) => e.entity),
    traffic_config: { routes: entries.map((e) => ({ served_entity_name: e.name, traffic_percentage: e.traffic })) },
  };
}

/** What decides whether two configs serve the same thing: entities, versions, compute and traffic. */
function fingerprint(entries: ServedEntry[]): string {
  return JSON.stringify(
    entries
      .map((e) => [
        e.name,
        e.entity.entity_name,
        e.entity.entity_version,
        e.entity.workload_size ?? '',
        e.entity.workload_type ?? 'CPU',
        e.entity.scale_to_zero_enabled ?? false,
        e.traffic,
      ])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
}

function describeEntries(entries: ServedEntry[]): string {
  return entries.length === 0 ? 'nothing' : entries.map((e) => `${e.entity.entity_name} version ${e.entity.entity_version} (${e.traffic}%)`).join(', ');
}

export interface ServePlan {
  /** The config to send, or undefined when the endpoint already serves it. */
  desired: ServedEntry[];
  noop: boolean;
  /** The version's share of traffic in the desired config. */
  share: number;
  /** Why nothing changes, when noop. */
  noopReason?: string;
}

/** Decides the config the traffic mode asks for, from what the endpoint serves now. Throws for impossible requests. */
export function planConfig(inputs: ServeInputs, version: string, current: ServingEndpoint | undefined): ServePlan {
  const model = inputs.modelName;
  const entries = entriesOf(current?.config);
  const servesVersion = (e: ServedEntry) => e.entity.entity_name === model && e.entity.entity_version === version;
  const existing = entries.find(servesVersion);
  const fresh: ServedEntityInput = {
    name: existing?.name ?? entityNameFor(model, version),
    entity_name: model,
    entity_version: version,
    workload_size: inputs.workloadSize,
    workload_type: inputs.workloadType,
    scale_to_zero_enabled: inputs.scaleToZero,
  };
  let desired: ServedEntry[];
  let share: number;
  const t = inputs.traffic;
  if (t.kind === 'replace') {
    desired = [{ name: fresh.name!, entity: fresh, traffic: 100 }];
    share = 100;
  } else if (t.kind === 'canary') {
    if (!current)
      throw new Error(
        `Serving endpoint ${inputs.endpointName} does not exist, so there is no current version to run a canary against. Create it with trafficMode replace first.`,
      );
    if (entries.length === 0)
      throw new Error(
        `Serving endpoint ${inputs.endpointName} serves no model yet, so there is no current version to run a canary against. Use trafficMode replace.`,
      );
    const others = entries.filter((e) => !servesVersion(e));
    if (others.length === 0) {
      return {
        desired: entries,
        noop: true,
        share: existing?.traffic ?? 0,
        noopReason: `Serving endpoint ${inputs.endpointName} already serves ${model} version ${version} alone (${describeEntries(entries)}): there is no other version to keep as the stable one, so nothing was changed.`,
      };
    }
    // The entity with most of the traffic stays as the stable one (the first on a tie); others are removed.
    const stable = others.reduce((best, e) => (e.traffic > best.traffic ? e : best), others[0]);
    desired = [
      { ...stable, traffic: 100 - t.percent },
      { name: fresh.name!, entity: fresh, traffic: t.percent },
    ];
    share = t.percent;
  } else {
    if (!current)
      throw new Error(
        `Serving endpoint ${inputs.endpointName} does not exist, so there is no canary to promote. Deploy with trafficMode replace (or canary on an existing endpoint) first.`,
      );
    if (!existing) {
      throw new Error(
        `${model} version ${version} is not served by endpoint ${inputs.endpointName} (it serves ${describeEntries(entries)}), so there is no canary to promote. Deploy it with trafficMode canary first, or use replace.`,
      );
    }
    desired = [{ ...existing, traffic: 100 }];
    share = 100;
  }
  const noop = current !== undefined && fingerprint(desired) === fingerprint(entries);
  return {
    desired,
    noop,
    share,
    noopReason: noop ? `Serving endpoint ${inputs.endpointName} already serves ${describeEntries(entries)} as asked: nothing was changed.` : undefined,
  };
}

/** The version of `model` with most of the traffic in `entries` (the "previous version"). */
function mainVersionOf(entries: ServedEntry[], model: string): string | undefined {
  const mine = entries.filter((e) => e.entity.entity_name === model);
  if (mine.length === 0) return undefined;
  return mine.reduce((best, e) => (e.traffic > best.traffic ? e : best), mine[0]).entity.entity_version;
}

async function resolveVersion(inputs: ServeInputs, deps: ServeDeps, recordVersion: string | undefined): Promise<{ version: ModelVersion; how: string }> {
  const { registry, host } = deps;
  const model = inputs.modelName;
  let number: string;
  let how: string;
  const s = inputs.source;
  if (s.kind === 'alias') {
    const v = await registry.getModelVersionByAlias!(model, s.alias, host.signal);
    if (!v)
      throw new Error(`Model ${model} has no alias "${s.alias}" (or the model does not exist, or this identity cannot see it). Check modelName and alias.`);
    number = String(v.version);
    how = `alias ${s.alias}`;
  } else if (s.kind === 'stage') {
    const latest = await registry.getLatestVersions!(model, [s.stage], host.signal);
    if (latest.length === 0) throw new Error(`Model ${model} has no version in stage ${s.stage}. Promote one first, or set versionSource to version.`);
    number = String(latest.map((v) => Number(v.version)).reduce((a, b) => Math.max(a, b)));
    how = `stage ${s.stage}`;
  } else if (s.kind === 'version') {
    number = s.version;
    how = 'modelVersion';
  } else {
    number = recordVersion!;
    how = 'the decision record';
  }
  const version = await registry.getModelVersion(model, number, host.signal);
  if (!version) throw new Error(`Version ${number} of model ${model} does not exist (or this identity cannot see it).`);
  if (version.status !== undefined && version.status !== 'READY') {
    throw new Error(
      `Version ${number} of model ${model} is ${version.status}${version.status_message ? ` (${version.status_message})` : ''}, not READY, so it cannot be served.`,
    );
  }
  return { version, how };
}

/** The endpoint as it is (absent when it does not exist), refusing what cannot be updated now. */
async function readEndpoint(
  inputs: ServeInputs,
  deps: ServeDeps,
  version: string,
): Promise<{ current: ServingEndpoint | undefined; previousEntries: ReturnType<typeof entriesOf>; previousVersion: string | undefined }> {
  const { serving, host } = deps;
  const name = inputs.endpointName;
  const current = await serving.get(name, host.signal);
  if (!current && !inputs.createIfMissing) {
    throw new Error(
      `Serving endpoint ${name} does not exist and createIfMissing is false: nothing was created. Check endpointName, or set createIfMissing to true.`,
    );
  }
  if (!current && inputs.traffic.kind !== 'replace') planConfig(inputs, version, current);
  if (current?.state?.config_update === 'IN_PROGRESS') {
    throw new Error(
      `Serving endpoint ${name} is being updated (${describeEndpointState(current)}), by another step, a person, or an earlier attempt of this step whose answer was lost; another update cannot start until it ends. Nothing was changed; run the step again once it has.`,
    );
  }
  const previousEntries = entriesOf(current?.config);
  const previousVersion = mainVersionOf(previousEntries, inputs.modelName);
  host.setOutput('previousVersion', previousVersion ?? '');
  if (current) host.log.info(`Endpoint ${name} serves ${describeEntries(previousEntries)}; ${describeEndpointState(current)}.`);
  else host.log.info(`Endpoint ${name} does not exist; it will be created.`);
  return { current, previousEntries, previousVersion };
}

/** The endpoint already serves what was asked: nothing is written. */
function unchanged(
  inputs: ServeInputs,
  deps: ServeDeps,
  plan: ReturnType<typeof planConfig>,
  current: ServingEndpoint,
  v: { version: string; previousVersion: string | undefined },
): TaskOutcome {
  const { host } = deps;
  host.setOutput('trafficPercent', plan.share);
  host.setOutput('rolledBack', false);
  host.log.info(plan.noopReason!);
  writeSummary(deps, inputs, { version: v.version, previousVersion: v.previousVersion, outcome: 'unchanged', served: describeEntries(plan.desired) });
  if (current.state?.ready !== 'READY') {
    host.log.warn(`Serving endpoint ${inputs.endpointName} is ${describeEndpointState(current)}: it serves the requested config but is not ready.`);
    return { result: 'SucceededWithIssues', message: `${plan.noopReason} The endpoint is not READY (${describeEndpointState(current)}).` };
  }
  return { result: 'Succeeded', message: plan.noopReason! };
}

/** Local files first: a bad one fails the step before any request and before any output is set. */
function readLocalFiles(inputs: ServeInputs, deps: ServeDeps): { smoke: ReturnType<typeof parseSmokeTest> | undefined; recordVersion: string | undefined } {
  const smoke = inputs.smokeTestFile ? parseSmokeTest(readLocal(deps, inputs.smokeTestFile, 'smokeTestFile'), inputs.smokeTestFile) : undefined;
  const recordVersion =
    inputs.source.kind === 'decisionRecord'
      ? versionFromDecisionRecord(readLocal(deps, inputs.source.path, 'decisionRecord'), inputs.source.path, inputs.modelName, inputs.registry)
      : undefined;
  return { smoke, recordVersion };
}

/**
 * Serves the resolved version on the endpoint with the traffic the mode asks for, waits for it, smoke-tests
 * it and rolls back on failure. Everything local and every read happens before the first write.
 */
export async function run(inputs: ServeInputs, deps: ServeDeps): Promise<TaskOutcome> {
  const { serving, host, clock } = deps;
  const log = host.log;
  const name = inputs.endpointName;

  const { smoke, recordVersion } = readLocalFiles(inputs, deps);
  host.setOutput('endpointName', name);
  host.setOutput('endpointUrl', serving.invocationsUrl(name));

  const { version: mv, how } = await resolveVersion(inputs, deps, recordVersion);
  const version = String(mv.version);
  host.setOutput('servedVersion', version);
  log.info(`Serving ${inputs.modelName} version ${version} (from ${how}) on endpoint ${name}.`);

  const { current, previousEntries, previousVersion } = await readEndpoint(inputs, deps, version);
  const plan = planConfig(inputs, version, current);
  if (plan.noop) return unchanged(inputs, deps, plan, current!, { version, previousVersion });

  const desired = configOf(plan.desired);
  const previous = current?.config ? configOf(previousEntries) : undefined;
  let phase: 'updating' | 'smoke' | 'rollback' | 'done' = 'updating';
  let lastSeen: ServingEndpoint | undefined = current;
  // A pipeline cancel leaves the endpoint as it is (an update cannot be cancelled); say what it was doing.
  if (host.signal.aborted) throw new CancelledError('The step was cancelled before the endpoint was changed.');
  host.onCancel(async () => {
    if (phase === 'done') return;
    let ep = lastSeen;
    try {
      ep = (await serving.get(name, AbortSignal.timeout(CANCEL_READ_TIMEOUT_MS))) ?? ep;
    } catch {
      // The last state seen is reported instead.
    }
    const doing =
      phase === 'rollback' ? 'rolling back' : phase === 'smoke' ? 'the smoke test ran' : `it was updating to ${inputs.modelName} version ${version}`;
    log.warn(
      `The pipeline was cancelled while ${doing}. Serving endpoint ${name} is left as it is: ${describeEndpointState(ep)}. An update in progress finishes on its own; check the endpoint and put the previous config back by hand if needed.`,
    );
  });

  const startedAt = clock.monotonic();
  log.info(`${current ? 'Updating the config of' : 'Creating'} endpoint ${name}: ${describeEntries(plan.desired)}.`);
  lastSeen = current ? await serving.updateConfig(name, desired, host.signal) : await serving.create({ name, config: desired }, host.signal);

  let failure: string | undefined;
  try {
    lastSeen = await waitForUpdate(deps, inputs, startedAt, inputs.timeoutMs, (ep) => (lastSeen = ep));
    log.info(`Endpoint ${name} is ready with ${inputs.modelName} version ${version} at ${plan.share}% after ${formatDuration(clock.monotonic() - startedAt)}.`);
  } catch (e) {
    if (e instanceof EndpointUpdateFailedError) failure = e.message;
    else if (e instanceof TimeoutError)
      failure = `Endpoint ${name} was not updated and ready within ${formatDuration(inputs.timeoutMs)}; last state: ${describeEndpointState(lastSeen)}.`;
    else if (e instanceof CancelledError) throw e;
    // The update was sent: losing track of it is a failure of the deployment, and the rollback is still tried.
    else failure = `Following the update of endpoint ${name} failed (${messageOf(e)}); last state seen: ${describeEndpointState(lastSeen)}.`;
  }
  if (!failure && smoke) {
    phase = 'smoke';
    failure = await runSmokeTest(deps, name, smoke);
  }
  if (!failure) {
    phase = 'done';
    host.setOutput('trafficPercent', plan.share);
    host.setOutput('rolledBack', false);
    writeSummary(deps, inputs, { version, previousVersion, outcome: 'deployed', served: describeEntries(plan.desired) });
    return {
      result: 'Succeeded',
      message: `Endpoint ${name} serves ${inputs.modelName} version ${version} with ${plan.share}% of the traffic${smoke ? '; the smoke test passed' : ''}.`,
    };
  }

  log.error(failure);
  phase = 'rollback';
  const rollback = await rollBack(deps, inputs, previous, (ep) => (lastSeen = ep));
  phase = 'done';
  host.setOutput('rolledBack', rollback.rolledBack);
  const finalShare = rollback.rolledBack
    ? (previousEntries.find((e) => e.entity.entity_name === inputs.modelName && e.entity.entity_version === version)?.traffic ?? 0)
    : undefined;
  if (finalShare !== undefined) host.setOutput('trafficPercent', finalShare);
  writeSummary(deps, inputs, {
    version,
    previousVersion,
    outcome: rollback.rolledBack ? 'rolled back' : 'failed',
    served: rollback.rolledBack ? describeEntries(previousEntries) : describeEndpointState(lastSeen),
    failure,
  });
  return { result: 'Failed', message: `${failure} ${rollback.note}` };
}

function readLocal(deps: ServeDeps, file: string, input: string): string {
  try {
    return deps.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `Input ${input}: ${file} does not exist on the agent.`
        : code === 'EISDIR'
          ? `Input ${input}: ${file} is a folder; give the path of the JSON file.`
          : `Input ${input}: cannot read ${file} (${code ?? messageOf(e)}).`,
    );
  }
}

async function waitForUpdate(
  deps: ServeDeps,
  inputs: ServeInputs,
  startedAt: number,
  budgetMs: number,
  seen: (ep: ServingEndpoint) => void,
): Promise<ServingEndpoint> {
  const { serving, host, clock } = deps;
  let lastKey = '';
  return serving.waitForUpdate(inputs.endpointName, {
    timeoutMs: budgetMs,
    signal: host.signal,
    initialIntervalMs: deps.poll?.initialIntervalMs,
    maxIntervalMs: deps.poll?.maxIntervalMs,
    onTransientError: (e) => host.log.debug(`Reading endpoint ${inputs.endpointName} failed transiently (${messageOf(e)}); retrying.`),
    onState: (ep) => {
      seen(ep);
      const elapsed = clock.monotonic() - startedAt;
      const key = describeEndpointState(ep);
      if (key !== lastKey) {
        lastKey = key;
        host.log.info(`Endpoint ${inputs.endpointName}: ${key} after ${formatDuration(elapsed)}.`);
      }
      // The percentage counts the update's ready served entities (progress.ts), not the time budget used up.
      const progress = rolloutProgress(ep);
      if (progress) host.setProgress(progress.percent, `${progress.operation}, ${formatDuration(elapsed)} elapsed`);
    },
  });
}

/** Sends the smoke test; returns why it failed, or undefined. */
async function runSmokeTest(deps: ServeDeps, name: string, smoke: SmokeTest): Promise<string | undefined> {
  deps.host.log.info(`Smoke test: sending ${smoke.records} record(s) to ${deps.serving.invocationsUrl(name)}.`);
  let res: { predictions?: unknown };
  try {
    res = await deps.serving.query(name, smoke.body, deps.host.signal);
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    return `The smoke test failed: the scoring request was refused (${messageOf(e)}).`;
  }
  const predictions = res.predictions;
  if (!Array.isArray(predictions)) return 'The smoke test failed: the answer has no predictions list.';
  if (predictions.length !== smoke.records) return `The smoke test failed: ${predictions.length} prediction(s) for ${smoke.records} record(s).`;
  deps.host.log.info(`Smoke test passed: ${predictions.length} prediction(s), e.g. ${JSON.stringify(predictions[0]).slice(0, 120)}.`);
  return undefined;
}

/**
 * Puts the previous config back and waits for it (the same time budget again). An update still in progress
 * cannot be cancelled, so this first waits for it to end; when Databricks kept the previous config (a failed
 * update), nothing needs to be sent.
 */
async function rollBack(
  deps: ServeDeps,
  inputs: ServeInputs,
  previous: EndpointConfigInput | undefined,
  seen: (ep: ServingEndpoint) => void,
): Promise<{ rolledBack: boolean; note: string }> {
  const { serving, host, clock } = deps;
  const name = inputs.endpointName;
  if (!inputs.rollbackOnFailure) return { rolledBack: false, note: 'rollbackOnFailure is false: the endpoint is left as it is.' };
  if (!previous) return { rolledBack: false, note: 'The endpoint was created by this step, so there is no previous config to put back; it is left as it is.' };
  try {
    let ep = await serving.get(name, host.signal);
    if (ep?.state?.config_update === 'IN_PROGRESS') {
      host.log.info(`Rollback: waiting for the update in progress on ${name} to end (it cannot be cancelled).`);
      ep = await waitUntil<ServingEndpoint, ServingEndpoint>(
        async () => {
          const e = await serving.get(name, host.signal);
          if (!e) throw new Error(`Serving endpoint ${name} disappeared.`);
          seen(e);
          return e.state?.config_update === 'IN_PROGRESS' ? { pending: e } : { done: e };
        },
        {
          timeoutMs: inputs.timeoutMs,
          signal: host.signal,
          clock,
          initialIntervalMs: deps.poll?.initialIntervalMs,
          maxIntervalMs: deps.poll?.maxIntervalMs,
          what: `the update of ${name} to end`,
          describe: describeEndpointState,
        },
      );
    }
    const previousEntries = entriesOfInput(previous);
    if (ep && fingerprint(entriesOf(ep.config)) === fingerprint(previousEntries) && ep.state?.ready === 'READY') {
      host.log.info(`Rollback: endpoint ${name} still serves the previous config (${describeEntries(previousEntries)}); nothing to send.`);
      return { rolledBack: true, note: `The endpoint still serves the previous config (${describeEntries(previousEntries)}).` };
    }
    host.log.info(`Rollback: putting the previous config back on ${name}: ${describeEntries(previousEntries)}.`);
    seen(await serving.updateConfig(name, previous, host.signal));
    // The rollback's own update gets the full budget again (the wait for an update in progress had its own).
    await waitForUpdate(deps, inputs, clock.monotonic(), inputs.timeoutMs, seen);
    host.log.info(`Rollback done: ${name} serves ${describeEntries(previousEntries)} again.`);
    return { rolledBack: true, note: `Rolled back: the endpoint serves ${describeEntries(previousEntries)} again.` };
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    host.log.error(`Rollback of ${name} failed: ${messageOf(e)}`);
    return {
      rolledBack: false,
      note: `The rollback failed (${messageOf(e)}); put the previous config (${describeEntries(entriesOfInput(previous))}) back by hand.`,
    };
  }
}

function writeSummary(
  deps: ServeDeps,
  inputs: ServeInputs,
  s: { version: string; previousVersion?: string; outcome: string; served: string; failure?: string },
): void {
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const rows = [
    ['Endpoint', inputs.endpointName],
    ['Invocations URL', deps.serving.invocationsUrl(inputs.endpointName)],
    ['Model', inputs.modelName],
    ['Version deployed', s.version],
    ['Previous version', s.previousVersion ?? '(none)'],
    ['Outcome', s.outcome],
    ['Serving now', s.served],
    ...(s.failure ? [['Failure', s.failure]] : []),
  ];
  const md = `### Deploy Model to Serving\n\n| | |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${esc(v)} |`).join('\n')}\n`;
  const file = path.join(deps.host.tempDir, `serving-${inputs.endpointName}.md`);
  try {
    // Endpoint and model names come from inputs and the workspace: no logging command for a later `cat`.
    writeFileSync(file, inertMarkdown(md));
    deps.host.uploadSummary(file);
  } catch (e) {
    deps.host.log.warn(`Could not write the step summary: ${messageOf(e)}`);
  }
}
