/**
 * Model Serving: serving endpoints and their scoring route, modelled on the official SDK's serving service
 * (`@databricks/sdk-experimental` `dist/apis/serving`: paths, methods, request and response fields; see
 * docs/serving-api.md). The SDK and the Databricks docs are the authority; this is a model of them:
 *
 * - `POST /api/2.0/serving-endpoints` creates an endpoint whose first config is pending:
 *   `state.config_update` IN_PROGRESS and `state.ready` NOT_READY until the update is done.
 * - `PUT /api/2.0/serving-endpoints/{name}/config` replaces served entities and traffic; while an update is
 *   IN_PROGRESS another one is refused (EndpointState doc: "another update can not be made until the update
 *   completes or fails"). The served config stays the old one until the new one is ready.
 * - An update finishes after `updateMs` of emulated time: NOT_UPDATING with the new config and READY, or,
 *   when a test asked for it, UPDATE_FAILED with the old config still served (and its readiness unchanged).
 * - `POST /serving-endpoints/{name}/invocations` scores `dataframe_split` / `dataframe_records` / `instances`
 *   with the served version's synthetic model (the logistic model logged by the emulated training notebooks
 *   as the run parameter `model_json`), or a deterministic synthetic score when the run logged none. Traffic
 *   is split by a deterministic weighted rotation; the answer names the entity in `served-model-name`.
 *
 * Only what the task and tests need is modelled (no AI gateway, no rate limits, no permissions).
 */
import { createHash } from 'node:crypto';
import { ApiFault, isObject, type EmulatorCore, type EmulatorRequest } from '../contracts';
import { isPlainObject } from './jobs/validate';
import type { MlflowEmulator } from './mlflow';

export const SERVING_WORKLOAD_TYPES = ['CPU', 'GPU_SMALL', 'GPU_MEDIUM', 'GPU_LARGE', 'MULTIGPU_MEDIUM'];
export const SERVING_WORKLOAD_SIZES = ['Small', 'Medium', 'Large'];
const NAME = /^[A-Za-z0-9_-]+$/;

export interface EmulatedServedEntity {
  name: string;
  entity_name: string;
  entity_version: string;
  workload_size: string;
  workload_type: string;
  scale_to_zero_enabled: boolean;
  environment_vars?: Record<string, string>;
  creation_timestamp: number;
  creator: string;
}

export interface EmulatedConfig {
  config_version: number;
  served_entities: EmulatedServedEntity[];
  traffic_config: { routes: Array<{ served_entity_name: string; traffic_percentage: number }> };
}

interface PendingUpdate {
  config: EmulatedConfig;
  startTime: number;
  /** Emulated time at which the update ends (Infinity: never). */
  endsAt: number;
  /** Set when the update is to end UPDATE_FAILED, with this message on its entities. */
  failure?: string;
}

export interface EmulatedEndpoint {
  name: string;
  id: string;
  creator: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  config?: EmulatedConfig;
  pending?: PendingUpdate;
  configUpdate: 'IN_PROGRESS' | 'NOT_UPDATING' | 'UPDATE_FAILED';
  /** The message of the last failed update (shown on the entity that failed). */
  lastFailure?: { entities: EmulatedServedEntity[]; message: string };
  /** Scoring requests answered so far (drives the weighted rotation). */
  served: number;
}

/** Turns one input row into a score; throw to make the request fail as a broken model would. */
export type Scorer = (row: number[], columns: string[]) => number;

/** The handle tests use as `emu.serving`. */
export class ServingEmulator {
  readonly endpoints = new Map<string, EmulatedEndpoint>();
  /** Emulated time a config update (or a create) takes. */
  updateMs = 1_000;
  private readonly failNext = new Map<string, string>();
  private readonly slowNext = new Map<string, number>();
  private readonly scorers = new Map<string, Scorer>();
  private readonly broken = new Map<string, string>();
  private serial = 0;

  constructor(private readonly core: EmulatorCore) {}

  /** The next config update (or create) of `endpoint` ends UPDATE_FAILED with `message`. */
  failNextUpdate(endpoint: string, message = 'Served entity failed to deploy: container image build failed.'): void {
    this.failNext.set(endpoint, message);
  }

  /** The next config update (or create) of `endpoint` takes `ms` of emulated time (Infinity: it never ends). */
  slowNextUpdate(endpoint: string, ms: number): void {
    this.slowNext.set(endpoint, ms);
  }

  /** Scoring with this version fails (HTTP 400, as a model raising an exception does). */
  breakVersion(model: string, version: string, message = 'Model execution failed: ValueError: could not convert string to float.'): void {
    this.broken.set(`${model}/${version}`, message);
  }

  /** Overrides the synthetic scorer of one model version. */
  setScorer(model: string, version: string, scorer: Scorer): void {
    this.scorers.set(`${model}/${version}`, scorer);
  }

  /** Seeds an endpoint that already serves `entities` (READY, NOT_UPDATING), as an earlier release left it. */
  seedEndpoint(
    name: string,
    entities: Array<Partial<EmulatedServedEntity> & { entity_name: string; entity_version: string; traffic?: number }>,
  ): EmulatedEndpoint {
    const now = this.core.clock.now();
    const served = entities.map((e) => this.entity({ ...e }, now));
    const config: EmulatedConfig = {
      config_version: 1,
      served_entities: served,
      traffic_config: {
        routes: served.map((s, i) => ({ served_entity_name: s.name, traffic_percentage: entities[i].traffic ?? Math.floor(100 / entities.length) })),
      },
    };
    const ep: EmulatedEndpoint = {
      name,
      id: this.newId(),
      creator: 'emulator-user@example.com',
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      config,
      configUpdate: 'NOT_UPDATING',
      served: 0,
    };
    this.endpoints.set(name, ep);
    return ep;
  }

  /** The endpoint as `GET /api/2.0/serving-endpoints/{name}` answers it (after settling its update). */
  view(name: string): Record<string, unknown> | undefined {
    const ep = this.endpoints.get(name);
    return ep ? this.detailed(this.settle(ep)) : undefined;
  }

  /** `[entity_name, entity_version, traffic]` of the served config, for assertions. */
  servedTraffic(name: string): Array<[string, string, number]> {
    const ep = this.endpoints.get(name);
    if (!ep) return [];
    const cfg = this.settle(ep).config;
    if (!cfg) return [];
    return cfg.served_entities.map((e) => [
      e.entity_name,
      e.entity_version,
      cfg.traffic_config.routes.find((r) => r.served_entity_name === e.name)?.traffic_percentage ?? 0,
    ]);
  }

  private newId(): string {
    this.serial += 1;
    return createHash('sha256').update(`endpoint:${this.serial}`).digest('hex').slice(0, 32);
  }

  private entity(e: Partial<EmulatedServedEntity> & { entity_name: string; entity_version: string }, now: number): EmulatedServedEntity {
    return {
      name: e.name ?? `${e.entity_name.replace(/\./g, '-')}-${e.entity_version}`,
      entity_name: e.entity_name,
      entity_version: e.entity_version,
      workload_size: e.workload_size ?? 'Small',
      workload_type: e.workload_type ?? 'CPU',
      scale_to_zero_enabled: e.scale_to_zero_enabled ?? false,
      ...(e.environment_vars ? { environment_vars: e.environment_vars } : {}),
      creation_timestamp: now,
      creator: 'emulator-user@example.com',
    };
  }

  /** Ends a due update: the new config is served, or (failure) the old one stays. */
  private settle(ep: EmulatedEndpoint): EmulatedEndpoint {
    const p = ep.pending;
    if (!p || this.core.clock.now() < p.endsAt) return ep;
    ep.pending = undefined;
    if (p.failure !== undefined) {
      ep.configUpdate = 'UPDATE_FAILED';
      ep.lastFailure = { entities: p.config.served_entities, message: p.failure };
      return ep;
    }
    ep.config = p.config;
    ep.configUpdate = 'NOT_UPDATING';
    ep.lastFailure = undefined;
    return ep;
  }

  private mlflow(): MlflowEmulator | undefined {
    return this.core.modules.mlflow;
  }

  /** Validates `EndpointCoreConfigInput` (served_entities, traffic_config) and builds the config. */
  private parseConfig(body: unknown, version: number, now: number): EmulatedConfig {
    if (!isPlainObject(body)) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'The endpoint config must be an object.');
    if (body.served_models !== undefined)
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'This emulator models served_entities only (served_models is deprecated).');
    const list = body.served_entities;
    if (!Array.isArray(list) || list.length === 0)
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'The config must have at least one served entity in served_entities.');
    const entities: EmulatedServedEntity[] = [];
    for (const raw of list) {
      if (!raw || typeof raw !== 'object') throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Each served entity must be an object.');
      if (typeof raw.entity_name !== 'string' || raw.entity_name === '')
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'served_entities[].entity_name is required.');
      if (typeof raw.entity_version !== 'string' || !/^[1-9]\d*$/.test(raw.entity_version)) {
        throw new ApiFault(
          400,
          'INVALID_PARAMETER_VALUE',
          `served_entities[].entity_version must be a version number as a string, got ${JSON.stringify(raw.entity_version)}.`,
        );
      }
      if (raw.name !== undefined && (typeof raw.name !== 'string' || !NAME.test(raw.name))) {
        throw new ApiFault(
          400,
          'INVALID_PARAMETER_VALUE',
          `Served entity name ${JSON.stringify(raw.name)} may contain only alphanumeric characters, dashes and underscores.`,
        );
      }
      if (raw.workload_size !== undefined && !SERVING_WORKLOAD_SIZES.includes(raw.workload_size)) {
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid workload_size ${JSON.stringify(raw.workload_size)}: use Small, Medium or Large.`);
      }
      if (raw.workload_type !== undefined && !SERVING_WORKLOAD_TYPES.includes(raw.workload_type)) {
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid workload_type ${JSON.stringify(raw.workload_type)}.`);
      }
      if (raw.scale_to_zero_enabled !== undefined && typeof raw.scale_to_zero_enabled !== 'boolean') {
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'scale_to_zero_enabled must be a boolean.');
      }
      const versions = this.mlflow()?.versions(raw.entity_name) ?? [];
      const v = versions.find((x) => String(x.version) === raw.entity_version);
      if (!v) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Model version ${raw.entity_version} of ${raw.entity_name} does not exist.`);
      if (v.status !== 'READY')
        throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Model version ${raw.entity_version} of ${raw.entity_name} is not READY (${v.status}).`);
      const e = this.entity(raw, now);
      if (entities.some((x) => x.name === e.name)) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Served entity name ${e.name} is used twice.`);
      entities.push(e);
    }
    let routes: Array<{ served_entity_name: string; traffic_percentage: number }>;
    if (body.traffic_config === undefined) {
      if (entities.length > 1) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'traffic_config is required when the config serves more than one entity.');
      routes = [{ served_entity_name: entities[0].name, traffic_percentage: 100 }];
    } else {
      const traffic = body.traffic_config;
      const rs = isObject(traffic) ? traffic.routes : undefined;
      if (!Array.isArray(rs) || rs.length === 0) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'traffic_config.routes must list the routes.');
      routes = [];
      for (const r of rs) {
        const target = r?.served_entity_name;
        if (!entities.some((e) => e.name === target))
          throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Route to ${JSON.stringify(target)}: no served entity has that name.`);
        if (!Number.isInteger(r.traffic_percentage) || r.traffic_percentage < 0 || r.traffic_percentage > 100) {
          throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'traffic_percentage must be an integer between 0 and 100 inclusive.');
        }
        routes.push({ served_entity_name: target, traffic_percentage: r.traffic_percentage });
      }
      const sum = routes.reduce((a, r) => a + r.traffic_percentage, 0);
      if (sum !== 100) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `The traffic percentages of the routes must add up to 100, got ${sum}.`);
    }
    return { config_version: version, served_entities: entities, traffic_config: { routes } };
  }

  private startUpdate(ep: EmulatedEndpoint, config: EmulatedConfig, now: number): void {
    const failure = this.failNext.get(ep.name);
    if (failure !== undefined) this.failNext.delete(ep.name);
    const ms = this.slowNext.get(ep.name) ?? this.updateMs;
    this.slowNext.delete(ep.name);
    ep.pending = { config, startTime: now, endsAt: now + ms, failure };
    ep.configUpdate = 'IN_PROGRESS';
    ep.lastUpdatedTimestamp = now;
  }

  private entityJson(e: EmulatedServedEntity, deployment: string, message: string): Record<string, unknown> {
    return { ...e, state: { deployment, deployment_state_message: message } };
  }

  /** `ServingEndpointDetailed`. */
  private detailed(ep: EmulatedEndpoint): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: ep.name,
      id: ep.id,
      creator: ep.creator,
      creation_timestamp: ep.creationTimestamp,
      last_updated_timestamp: ep.lastUpdatedTimestamp,
      state: { config_update: ep.configUpdate, ready: ep.config ? 'READY' : 'NOT_READY' },
      permission_level: 'CAN_MANAGE',
      route_optimized: false,
      task: 'llm/v1/custom',
    };
    if (ep.config) {
      out.config = {
        config_version: ep.config.config_version,
        served_entities: ep.config.served_entities.map((e) => this.entityJson(e, 'DEPLOYMENT_READY', '')),
        traffic_config: ep.config.traffic_config,
      };
    }
    if (ep.pending) {
      out.pending_config = {
        config_version: ep.pending.config.config_version,
        start_time: ep.pending.startTime,
        served_entities: ep.pending.config.served_entities.map((e) =>
          this.entityJson(e, 'DEPLOYMENT_CREATING', 'Creating the container image for the served entity.'),
        ),
        traffic_config: ep.pending.config.traffic_config,
      };
    } else if (ep.lastFailure && ep.configUpdate === 'UPDATE_FAILED') {
      // The config that failed, with the reason on its entities; `config` (if any) is still the old one.
      out.pending_config = {
        served_entities: ep.lastFailure.entities.map((e) => this.entityJson(e, 'DEPLOYMENT_FAILED', ep.lastFailure!.message)),
      };
    }
    return out;
  }

  /** `ServingEndpoint` as `GET /api/2.0/serving-endpoints` lists it (config summary). */
  private summary(ep: EmulatedEndpoint): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: ep.name,
      id: ep.id,
      creator: ep.creator,
      creation_timestamp: ep.creationTimestamp,
      last_updated_timestamp: ep.lastUpdatedTimestamp,
      state: { config_update: ep.configUpdate, ready: ep.config ? 'READY' : 'NOT_READY' },
      task: 'llm/v1/custom',
    };
    if (ep.config) {
      out.config = {
        config_version: ep.config.config_version,
        served_entities: ep.config.served_entities.map((e) => ({ name: e.name, entity_name: e.entity_name, entity_version: e.entity_version })),
      };
    }
    return out;
  }

  private endpointOf(req: EmulatorRequest): EmulatedEndpoint {
    const ep = this.endpoints.get(req.params.name);
    if (!ep) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Endpoint with name '${req.params.name}' does not exist.`);
    return this.settle(ep);
  }

  /** The row matrix and column names of a scoring request, or a 400. */
  private rowsOf(body: unknown): { rows: unknown[][]; columns: string[] } {
    if (!isObject(body)) throw new ApiFault(400, 'BAD_REQUEST', 'The scoring request must be a JSON object.');
    const keys = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'].filter((k) => body[k] !== undefined);
    if (keys.length !== 1) {
      throw new ApiFault(
        400,
        'BAD_REQUEST',
        'Invalid input. The input must be a JSON dictionary with exactly one of the input fields {dataframe_split, dataframe_records, instances, inputs}.',
      );
    }
    const key = keys[0];
    if (key === 'dataframe_split') {
      const s = body.dataframe_split;
      if (!isObject(s) || !Array.isArray(s.data) || !s.data.every((r: unknown) => Array.isArray(r)))
        throw new ApiFault(400, 'BAD_REQUEST', 'dataframe_split.data must be a list of rows.');
      const columns: string[] = Array.isArray(s.columns) ? s.columns.map(String) : (s.data[0] ?? []).map((_: unknown, i: number) => String(i));
      return { rows: s.data, columns };
    }
    if (key === 'dataframe_records') {
      const recs = body.dataframe_records;
      if (!Array.isArray(recs) || !recs.every((r: unknown) => r && typeof r === 'object' && !Array.isArray(r)))
        throw new ApiFault(400, 'BAD_REQUEST', 'dataframe_records must be a list of objects.');
      const columns = recs.length > 0 ? Object.keys(recs[0]) : [];
      return { rows: recs.map((r: Record<string, unknown>) => columns.map((c) => r[c])), columns };
    }
    const rows = key === 'instances' ? body.instances : body.inputs;
    if (!Array.isArray(rows)) throw new ApiFault(400, 'BAD_REQUEST', `${key} must be a list.`);
    return { rows: rows.map((r: unknown) => (Array.isArray(r) ? r : [r])), columns: [] };
  }

  /** The synthetic model of a version: the logged logistic model, else a deterministic one seeded by the version. */
  private scorerOf(model: string, version: string): Scorer {
    const own = this.scorers.get(`${model}/${version}`);
    if (own) return own;
    const broken = this.broken.get(`${model}/${version}`);
    if (broken !== undefined) {
      return () => {
        throw new ApiFault(400, 'BAD_REQUEST', broken);
      };
    }
    const mlflow = this.mlflow();
    const runId = mlflow?.versions(model).find((v) => String(v.version) === version)?.run_id;
    const run = runId ? mlflow?.getRun(String(runId)) : undefined;
    const param = (run?.data.params as Array<{ key: string; value: string }> | undefined)?.find((p) => p.key === 'model_json');
    if (param) {
      const m = JSON.parse(param.value) as { features: number[]; weights: number[]; bias: number };
      return (row) => sigmoid(m.bias + m.features.reduce((z, f, k) => z + m.weights[k] * (row[f] ?? 0), 0));
    }
    const digest = createHash('sha256').update(`${model}/${version}`).digest();
    return (row) => sigmoid(row.reduce((z, x, j) => z + ((digest[j % digest.length] - 128) / 128) * x, (digest[31] - 128) / 256));
  }

  /** Deterministic weighted rotation over the routes: request i goes to the route holding slot i mod 100. */
  private route(ep: EmulatedEndpoint): EmulatedServedEntity {
    const cfg = ep.config!;
    const slot = (ep.served++ * 37) % 100;
    let acc = 0;
    for (const r of cfg.traffic_config.routes) {
      acc += r.traffic_percentage;
      if (slot < acc) return cfg.served_entities.find((e) => e.name === r.served_entity_name)!;
    }
    return cfg.served_entities[0];
  }

  install(): void {
    const r = this.core.router;
    r.add('GET', '/api/2.0/serving-endpoints', () => ({ body: { endpoints: [...this.endpoints.values()].map((ep) => this.summary(this.settle(ep))) } }));

    r.add('POST', '/api/2.0/serving-endpoints', (req) => {
      const body = req.body ?? {};
      if (typeof body.name !== 'string' || !NAME.test(body.name)) {
        throw new ApiFault(
          400,
          'INVALID_PARAMETER_VALUE',
          'The endpoint name is required and may contain only alphanumeric characters, dashes and underscores.',
        );
      }
      if (this.endpoints.has(body.name)) throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `Endpoint with name '${body.name}' already exists.`);
      const now = this.core.clock.now();
      const config = this.parseConfig(body.config, 1, now);
      const ep: EmulatedEndpoint = {
        name: body.name,
        id: this.newId(),
        creator: req.principal ?? 'emulator-user@example.com',
        creationTimestamp: now,
        lastUpdatedTimestamp: now,
        configUpdate: 'IN_PROGRESS',
        served: 0,
      };
      this.endpoints.set(ep.name, ep);
      this.startUpdate(ep, config, now);
      return { body: this.detailed(ep) };
    });

    r.add('GET', '/api/2.0/serving-endpoints/:name', (req) => ({ body: this.detailed(this.endpointOf(req)) }));

    r.add('PUT', '/api/2.0/serving-endpoints/:name/config', (req) => {
      const ep = this.endpointOf(req);
      if (ep.configUpdate === 'IN_PROGRESS') {
        throw new ApiFault(
          409,
          'RESOURCE_CONFLICT',
          `Endpoint '${ep.name}' is currently being updated; another update can not be made until it completes or fails.`,
        );
      }
      const now = this.core.clock.now();
      const next = Math.max(ep.config?.config_version ?? 0, ep.pending?.config.config_version ?? 0) + 1;
      const config = this.parseConfig(req.body, next, now);
      this.startUpdate(ep, config, now);
      return { body: this.detailed(ep) };
    });

    r.add('POST', '/serving-endpoints/:name/invocations', (req) => {
      const ep = this.endpointOf(req);
      if (!ep.config) throw new ApiFault(400, 'BAD_REQUEST', `Endpoint '${ep.name}' is not ready: it has no served config yet.`);
      const { rows, columns } = this.rowsOf(req.body);
      const entity = this.route(ep);
      const score = this.scorerOf(entity.entity_name, entity.entity_version);
      const predictions = rows.map((row) => {
        const xs = row.map((v) => Number(v));
        if (xs.some((x) => !Number.isFinite(x))) throw new ApiFault(400, 'BAD_REQUEST', 'Model execution failed: every feature must be a number.');
        return score(xs, columns);
      });
      return { body: { predictions }, headers: { 'served-model-name': entity.name } };
    });
  }
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function install(core: EmulatorCore): ServingEmulator {
  const serving = new ServingEmulator(core);
  serving.install();
  core.modules.serving = serving;
  return serving;
}
