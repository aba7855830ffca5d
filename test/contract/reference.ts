/**
 * The independent references the contract test checks the emulator's routes and the clients' requests
 * against, read from sources nobody in this project wrote:
 *
 * - the official Databricks JS SDK `@databricks/sdk-experimental` (a devDependency used only here): its
 *   generated service code `dist/apis/<service>/api.js` (method, path, which request fields go to the query
 *   and which to the body) and `dist/apis/<service>/model.d.ts` (the request interfaces: field names and
 *   types, recursively);
 * - MLflow's protos vendored in reference/mlflow-protos (service.proto, model_registry.proto,
 *   databricks_uc_registry_service.proto; pinned by commit in its README): the `rpc` endpoint options
 *   (method, `/mlflow/...` path under `/api/2.0`) and the request messages.
 *
 * `checkRequest` answers the problems of one request (empty when it conforms to at least one reference for
 * its method and path). A field the reference does not define is a problem, as is a value of the wrong JSON
 * type; a request no reference describes is a problem unless EXCEPTIONS lists it with its public source.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkMessage, EXTRA_MESSAGES, protoRoot } from '../helpers/protos';

const SDK_DIR = path.dirname(require.resolve('@databricks/sdk-experimental/package.json'));
/** The SDK services whose APIs the clients and the emulator use. */
export const SDK_SERVICES = ['jobs', 'workspace', 'files', 'compute', 'catalog', 'ml', 'serving'] as const;
const PROTO_DIR = path.resolve(__dirname, '..', '..', '..', 'reference', 'mlflow-protos');

/** A field type as the SDK declares it: a scalar kind, an array of a type, a map, an interface (by name) or anything. */
type SdkType =
  { kind: 'string' | 'number' | 'boolean' | 'any' } | { kind: 'array'; of: SdkType } | { kind: 'map'; of: SdkType } | { kind: 'ref'; name: string };

interface SdkInterface {
  fields: Map<string, SdkType>;
}

export interface Endpoint {
  /** `sdk:jobs/api.js _runNow` or `proto:service.proto searchLoggedModels`. */
  source: string;
  method: string;
  /** Path with `{param}` segments; `{+param}` spans several segments (the Files API's file_path). */
  path: string;
  /** Fields that travel in the query (SDK) or, for GET/DELETE without a body, every request field (protos). */
  queryFields?: Map<string, SdkType>;
  /** Body fields (SDK), or a proto message name checked with checkMessage. */
  bodyFields?: Map<string, SdkType>;
  bodyMessage?: string;
  /** SDK: the body is raw bytes (uploads). */
  rawBody?: boolean;
  /** The SDK interface the fields were read from (for nested types). */
  service?: string;
}

// ---------------------------------------------------------------------------------------------- SDK

const interfaces = new Map<string, Map<string, SdkInterface>>();

function parseType(raw: string): SdkType {
  const t = raw.trim();
  if (t === 'string') return { kind: 'string' };
  if (t === 'number') return { kind: 'number' };
  if (t === 'boolean') return { kind: 'boolean' };
  let m = /^Array<(.+)>$/.exec(t);
  if (m) return { kind: 'array', of: parseType(m[1]) };
  m = /^Record<string,\s*(.+)>$/.exec(t);
  if (m) return { kind: 'map', of: parseType(m[1]) };
  if (/^[A-Za-z_]\w*$/.test(t)) return { kind: 'ref', name: t };
  return { kind: 'any' };
}

/** The request/response interfaces and string enums of one SDK service's model.d.ts. */
function sdkModel(service: string): Map<string, SdkInterface> {
  const cached = interfaces.get(service);
  if (cached) return cached;
  const text = readFileSync(path.join(SDK_DIR, 'dist', 'apis', service, 'model.d.ts'), 'utf8');
  const out = new Map<string, SdkInterface>();
  for (const m of text.matchAll(/^export interface (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const fields = new Map<string, SdkType>();
    for (const f of m[2].matchAll(/^ {4}(\w+)\??: (.+);$/gm)) fields.set(f[1], parseType(f[2]));
    out.set(m[1], { fields });
  }
  // String unions (`export type RunLifeCycleState = "PENDING" | ...`) are strings on the wire.
  for (const m of text.matchAll(/^export type (\w+) = ("[^"]*"(?: \| "[^"]*")*);$/gm)) out.set(m[1], { fields: new Map([['__string__', { kind: 'string' }]]) });
  interfaces.set(service, out);
  return out;
}

/** Endpoints of one SDK service, read from its generated api.js (and the request types from api.d.ts). */
function sdkEndpoints(service: string): Endpoint[] {
  const js = readFileSync(path.join(SDK_DIR, 'dist', 'apis', service, 'api.js'), 'utf8');
  const dts = readFileSync(path.join(SDK_DIR, 'dist', 'apis', service, 'api.d.ts'), 'utf8');
  const model = sdkModel(service);
  const requestTypes = new Map<string, string>();
  for (const m of dts.matchAll(/^ {4}(\w+)\((\w+): \w+\.(\w+),/gm)) requestTypes.set(m[1], m[3]);
  const out: Endpoint[] = [];
  // A request-less call (`async _list(context)`, e.g. serving-endpoints) has no fields at all.
  for (const m of js.matchAll(/^ {4}async _(\w+)\((?:request, )?context\) \{\n([\s\S]*?)^ {4}\}/gm)) {
    const [, name, block] = m;
    const method = /method: "(\w+)"/.exec(block)?.[1];
    const pathLit = /const path = "([^"]+)";/.exec(block)?.[1] ?? /const path = `([^`]+)`;/.exec(block)?.[1];
    if (!method || !pathLit) continue;
    const pathTemplate = pathLit.replace(/\$\{request\.(\w+)\}/g, (_all, p: string, offset: number, whole: string) =>
      // A parameter glued to the previous segment (`/fs/files${request.file_path}`) is a path of its own.
      whole[offset - 1] === '/' ? `{${p}}` : `{+${p}}`,
    );
    const reqType = model.get(requestTypes.get(name) ?? '')?.fields ?? new Map<string, SdkType>();
    const typeOf = (f: string): SdkType => reqType.get(f) ?? { kind: 'any' };
    const queryFields = new Map<string, SdkType>();
    for (const q of block.matchAll(/query\["(\w+)"\]/g)) queryFields.set(q[1], typeOf(q[1]));
    const bodyFields = new Map<string, SdkType>();
    for (const b of block.matchAll(/body\["(\w+)"\]/g)) bodyFields.set(b[1], typeOf(b[1]));
    const bodyIsRequest = /const body = request;/.test(block);
    if (bodyIsRequest) for (const [k, v] of reqType) bodyFields.set(k, v);
    const raw = /"Content-Type": "application\/octet-stream"/.test(block);
    out.push({ source: `sdk:${service}/api.js _${name}`, method, path: pathTemplate, queryFields, bodyFields, rawBody: raw, service });
  }
  return out;
}

// --------------------------------------------------------------------------------------------- protos

/** UC request messages (databricks_uc_registry_messages.proto, mlflow 001cc178; transcribed in EXTRA_MESSAGES). */
const UC_REQUESTS: Record<string, string> = {
  CreateRegisteredModelRequest: 'uc.CreateRegisteredModelRequest',
  GetRegisteredModelRequest: 'uc.NameVersion',
  CreateModelVersionRequest: 'uc.CreateModelVersionRequest',
  GetModelVersionRequest: 'uc.NameVersion',
  SearchModelVersionsRequest: 'uc.SearchModelVersionsRequest',
  UpdateModelVersionRequest: 'uc.UpdateModelVersionRequest',
  FinalizeModelVersionRequest: 'uc.NameVersion',
  SetRegisteredModelAliasRequest: 'uc.SetRegisteredModelAliasRequest',
  DeleteRegisteredModelAliasRequest: 'uc.SetRegisteredModelAliasRequest',
  GetModelVersionByAliasRequest: 'uc.SetRegisteredModelAliasRequest',
  SetRegisteredModelTagRequest: 'uc.SetRegisteredModelTagRequest',
  DeleteRegisteredModelTagRequest: 'uc.DeleteRegisteredModelTagRequest',
  SetModelVersionTagRequest: 'uc.SetModelVersionTagRequest',
  DeleteModelVersionTagRequest: 'uc.DeleteModelVersionTagRequest',
};

/** Endpoints declared by `option (rpc) = { endpoints: [{ method, path }] }` in a vendored proto. */
function protoEndpoints(file: string, pkg: 'mlflow' | 'uc'): Endpoint[] {
  const text = readFileSync(path.join(PROTO_DIR, file), 'utf8');
  const out: Endpoint[] = [];
  for (const m of text.matchAll(/rpc\s+(\w+)\s*\(\s*([\w.]+)\s*\)\s*returns\s*\(\s*([\w.]+)\s*\)\s*\{([\s\S]*?)\n\s{2}\}/g)) {
    const [, rpc, req, , body] = m;
    const message = pkg === 'uc' ? UC_REQUESTS[req] : `mlflow.${req}`;
    for (const e of body.matchAll(/method:\s*"(\w+)",?\s*path:\s*"([^"]+)"/g)) {
      out.push({ source: `proto:${file} ${rpc}`, method: e[1], path: `/api/2.0${e[2].startsWith('/') ? '' : '/'}${e[2]}`, bodyMessage: message });
    }
  }
  return out;
}

let allEndpoints: Endpoint[] | undefined;

/** Every endpoint of the references (SDK services above and the vendored MLflow protos). */
export function referenceEndpoints(): Endpoint[] {
  if (allEndpoints) return allEndpoints;
  if (!existsSync(path.join(PROTO_DIR, 'databricks_uc_registry_service.proto'))) throw new Error(`Vendored protos missing in ${PROTO_DIR}.`);
  allEndpoints = [
    ...SDK_SERVICES.flatMap((s) => sdkEndpoints(s)),
    ...protoEndpoints('service.proto', 'mlflow'),
    ...protoEndpoints('model_registry.proto', 'mlflow'),
    ...protoEndpoints('databricks_uc_registry_service.proto', 'uc'),
  ];
  return allEndpoints;
}

// ------------------------------------------------------------------------------------------- matching

function templateRegex(template: string): RegExp {
  const parts = template.split(/(\{\+?\w+\})/).map((p) => {
    if (/^\{\+\w+\}$/.test(p)) return '(?:/[^/]+)+';
    if (/^\{\w+\}$/.test(p)) return '[^/]+';
    return p.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('')}$`);
}

/** Reference endpoints for a concrete request path. */
export function endpointsFor(method: string, concretePath: string): Endpoint[] {
  return referenceEndpoints().filter((e) => e.method === method.toUpperCase() && templateRegex(e.path).test(concretePath));
}

/** Reference endpoints for an emulator route pattern (`:param` one segment, `*rest` the rest). */
export function endpointsForPattern(method: string, pattern: string): Endpoint[] {
  // Turn the pattern into a sample path, then match it; a *rest param stands for a multi-segment path.
  const sample = pattern.replace(/:(\w+)/g, 'P$1').replace(/\*(\w+)/g, 'Volumes/c/s/v/R$1');
  return endpointsFor(method, sample);
}

// ----------------------------------------------------------------------------------------- type checks

function checkSdkValue(t: SdkType, v: unknown, where: string, service: string, problems: string[], fromQuery: boolean, depth = 0): void {
  if (v === undefined || v === null || depth > 12) return;
  switch (t.kind) {
    case 'any':
      return;
    case 'string':
      if (typeof v !== 'string') problems.push(`${where}: expected a string, got ${JSON.stringify(v)}`);
      return;
    case 'number':
      if (!(typeof v === 'number' || (fromQuery && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))))
        problems.push(`${where}: expected a number, got ${JSON.stringify(v)}`);
      return;
    case 'boolean':
      if (!(typeof v === 'boolean' || (fromQuery && (v === 'true' || v === 'false')))) problems.push(`${where}: expected a boolean, got ${JSON.stringify(v)}`);
      return;
    case 'array':
      if (fromQuery && !Array.isArray(v)) return checkSdkValue(t.of, v, where, service, problems, fromQuery, depth + 1);
      if (!Array.isArray(v)) problems.push(`${where}: expected an array`);
      else v.forEach((x, i) => checkSdkValue(t.of, x, `${where}[${i}]`, service, problems, fromQuery, depth + 1));
      return;
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) problems.push(`${where}: expected an object (map)`);
      else for (const [k, x] of Object.entries(v as Record<string, unknown>)) checkSdkValue(t.of, x, `${where}.${k}`, service, problems, fromQuery, depth + 1);
      return;
    case 'ref': {
      const def = sdkModel(service).get(t.name);
      if (!def) return; // a type from another service module (e.g. compute.ClusterSpec inside jobs): names unchecked here
      if (def.fields.has('__string__')) {
        if (typeof v !== 'string') problems.push(`${where}: expected a ${t.name} string, got ${JSON.stringify(v)}`);
        return;
      }
      if (typeof v !== 'object' || Array.isArray(v)) {
        problems.push(`${where}: expected a ${t.name} object`);
        return;
      }
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const ft = def.fields.get(k);
        if (!ft) problems.push(`${where}.${k}: no field '${k}' in ${service}.${t.name}`);
        else checkSdkValue(ft, x, `${where}.${k}`, service, problems, fromQuery, depth + 1);
      }
    }
  }
}

export interface CheckedRequest {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
}

/** A request the references are silent about, with the public source that supports it. */
export interface ListedException {
  method: string;
  /** Exact path, or a RegExp for path families. */
  path: string | RegExp;
  /** Only these fields are excused (undefined: the whole endpoint). */
  fields?: string[];
  source: string;
}

function problemsAgainst(e: Endpoint, req: CheckedRequest): string[] {
  const problems: string[] = [];
  const query = Object.fromEntries(Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined));
  const body = req.body;
  if (e.bodyMessage !== undefined || (e.source.startsWith('proto:') && !e.bodyMessage)) {
    if (!e.bodyMessage) return [`${e.source}: the reference gives no request message to check against`];
    // Proto endpoints: GET (and a DELETE without body) carry the message's fields in the query.
    const asQuery = req.method === 'GET' || (req.method === 'DELETE' && body === undefined);
    const pathParams = templateParams(e.path, req.path);
    const fields = asQuery ? { ...query, ...pathParams } : { ...pathParams, ...((body as Record<string, unknown>) ?? {}) };
    for (const p of checkMessage(e.bodyMessage, fields)) {
      // Query values are strings on the wire whatever the field type: only names count there.
      if (asQuery && / expected /.test(p)) continue;
      problems.push(`${req.method} ${req.path} (${e.source}): ${p}`);
    }
    if (!asQuery && Object.keys(query).length > 0)
      problems.push(`${req.method} ${req.path} (${e.source}): query parameters ${Object.keys(query).join(', ')} on a request whose fields go in the body`);
    return problems;
  }
  const service = e.service!;
  for (const [k, v] of Object.entries(query)) {
    const t = e.queryFields?.get(k);
    if (!t)
      problems.push(
        `${req.method} ${req.path} (${e.source}): query field '${k}' is not in the reference (query fields: ${[...(e.queryFields?.keys() ?? [])].join(', ') || 'none'})`,
      );
    else checkSdkValue(t, v, `query.${k}`, service, problems, true);
  }
  if (body !== undefined && !Buffer.isBuffer(body) && !e.rawBody) {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      problems.push(`${req.method} ${req.path} (${e.source}): the body must be a JSON object`);
    else {
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        const t = e.bodyFields?.get(k);
        if (!t)
          problems.push(
            `${req.method} ${req.path} (${e.source}): body field '${k}' is not in the reference (body fields: ${[...(e.bodyFields?.keys() ?? [])].join(', ') || 'none'})`,
          );
        else {
          const before = problems.length;
          checkSdkValue(t, v, `body.${k}`, service, problems, false);
          for (let i = before; i < problems.length; i++) problems[i] = `${req.method} ${req.path} (${e.source}): ${problems[i]}`;
        }
      }
    }
  }
  return problems.map((p) => (p.startsWith(`${req.method} `) ? p : `${req.method} ${req.path} (${e.source}): ${p}`));
}

function templateParams(template: string, concrete: string): Record<string, string> {
  const names = [...template.matchAll(/\{\+?(\w+)\}/g)].map((m) => m[1]);
  if (names.length === 0) return {};
  const re = new RegExp(
    `^${template
      .split(/(\{\+?\w+\})/)
      .map((p) => (/^\{\+\w+\}$/.test(p) ? '((?:/[^/]+)+)' : /^\{\w+\}$/.test(p) ? '([^/]+)' : p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  );
  const m = re.exec(concrete);
  return m ? Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) : {};
}

/**
 * Problems of one request against the references: none when some reference endpoint of its method and path
 * accepts every query and body field (by name and JSON type), or when `exceptions` excuses the rest.
 */
export function checkRequest(req: CheckedRequest, exceptions: ListedException[] = []): string[] {
  const candidates = endpointsFor(req.method, req.path);
  const excused = exceptions.filter((x) => x.method === req.method && (typeof x.path === 'string' ? x.path === req.path : x.path.test(req.path)));
  if (candidates.length === 0) {
    if (excused.some((x) => x.fields === undefined)) return [];
    return [`${req.method} ${req.path}: no endpoint of the references (JS SDK ${SDK_SERVICES.join(', ')}; MLflow protos) has this method and path`];
  }
  let best: string[] | undefined;
  for (const e of candidates) {
    const problems = problemsAgainst(e, req).filter(
      (p) => !excused.some((x) => x.fields?.some((f) => p.includes(`field '${f}'`) || p.includes(`.${f}: no field`))),
    );
    if (!best || problems.length < best.length) best = problems;
    if (problems.length === 0) return [];
  }
  return best ?? [];
}

/** The UC registry messages transcribed from databricks_uc_registry_messages.proto (for the report). */
export const UC_MESSAGE_NAMES = Object.keys(EXTRA_MESSAGES).filter((k) => k.startsWith('uc.'));
export { protoRoot };
