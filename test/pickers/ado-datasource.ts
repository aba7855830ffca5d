/**
 * A small evaluator of what Azure DevOps does when the classic editor fills a picker from a task's
 * dataSourceBinding (docs/pickers.md, with its public sources; Microsoft's data source pagination doc):
 *
 * 1. the binding's `parameters` are resolved against the form (`$(registry)` becomes the registry input's value);
 * 2. the data source is the endpoint type's `dataSources` entry named by `dataSourceName` (a binding's own
 *    `endpointUrl`/`resultSelector` would replace it); `initialContextTemplate`, when present, seeds the context;
 * 3. the URL is rendered with `endpoint.url` (the service stores it with a trailing slash), the endpoint's data
 *    inputs as `endpoint.<id>`, the parameters and the paging context, and fetched with GET and the
 *    authentication scheme's headers (the token scheme's override `Authorization: Bearer {{{endpoint.apitoken}}}`);
 * 4. `resultSelector` (`jsonpath:...`) picks the items; `resultTemplate` turns each into `{Value, DisplayValue}` JSON;
 * 5. when `callbackRequiredTemplate` renders `true`, the rendered `callbackContextTemplate` (a JSON object) is
 *    merged into the context and the next page is fetched, up to the service's limit of 5 calls. Both templates see
 *    the bindings the server gives them (not the body as `result`):
 *    - `response`: the parsed response body. Microsoft's own tasks page on body fields this way, e.g.
 *      AzureResourceManagerTemplateDeploymentV3's resourceGroupName binding:
 *      `"callbackRequiredTemplate": "{{isTokenPresent response.nextLink}}"` (also AzureAppServiceSettingsV1,
 *      BicepDeployV0, HelmDeployV1 in microsoft/azure-pipelines-tasks);
 *    - `result`: the binding's result after `resultSelector`/`resultTemplate`, `{ count, value }` (the shape
 *      microsoft/azure-pipelines-extensions docs/authoring/endpoints/dataSources.md shows; VsTestV2 and
 *      DownloadBuildArtifactsV1 page with `{{isEqualNumber result.count 1000}}`);
 *    - `headers`: the response headers by lower-case name (`{{{headers.x-ms-continuationtoken}}}` in
 *      docs/authoring/endpoints/pagination.md and DownloadBuildArtifactsV1's definition binding).
 * 6. a response body larger than 2 MB fails the call (dataSources.md "Response size limits": "The API response
 *    should be less than 2 MB. If it is too large, the request will fail."; pagination.md: "[the page size] should
 *    be chosen such that the response of one call does not exceed 2MB"). The evaluator uses 2,000,000 bytes, the
 *    stricter reading of "2 MB".
 */
import { JSONPath } from 'jsonpath-plus';
import { renderAdoTemplate } from './mustache-ado';

export interface DataSource {
  name: string;
  endpointUrl: string;
  resultSelector?: string;
  requestVerb?: string;
  callbackContextTemplate?: string;
  callbackRequiredTemplate?: string;
  initialContextTemplate?: string;
}

export interface DataSourceBinding {
  target: string;
  endpointId: string;
  dataSourceName?: string;
  endpointUrl?: string;
  resultSelector?: string;
  resultTemplate?: string;
  parameters?: Record<string, string>;
  callbackContextTemplate?: string;
  callbackRequiredTemplate?: string;
  initialContextTemplate?: string;
}

export interface AuthScheme {
  type: string;
  headers?: Array<{ name: string; value: string }>;
}

/** The service connection as the Azure DevOps service holds it. */
export interface ServiceEndpoint {
  /** The workspace URL as stored (with the trailing slash). */
  url: string;
  scheme: string;
  /** Authorization parameters (`apitoken` for the token scheme). */
  authorization: Record<string, string>;
  /** Endpoint-level data inputs (`authorityHost`). */
  data?: Record<string, string>;
}

export interface PickerItem {
  Value: string;
  DisplayValue: string;
}

export interface PickerResult {
  items: PickerItem[];
  /** Every URL fetched, in order. */
  urls: string[];
  /** The size in bytes of each response body, in order. */
  bodyBytes: number[];
}

/** The service gives up paging after this many calls (Microsoft's pagination doc: "For now, we have decided it to be 5"). */
export const MAX_CALLS = 5;

/** The largest response body the service accepts from one call (see 6. above). */
export const MAX_RESPONSE_BYTES = 2_000_000;

/** What the paging templates are rendered against, as the server binds it. */
export interface PagingView {
  response: unknown;
  result: { count: number; value: string[] };
  headers: Record<string, string>;
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  const v = JSON.parse(text) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} did not render a JSON object: ${text}`);
  return v as Record<string, unknown>;
}

/** Resolves `$(input)` macros in the binding parameters from the form's current values. */
export function resolveParameters(parameters: Record<string, string> | undefined, form: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parameters ?? {})) {
    out[k] = v.replace(/\$\(([^)]+)\)/g, (_, name: string) => {
      if (!(name in form)) throw new Error(`binding parameter ${k} refers to $(${name}), which the form does not have`);
      return form[name];
    });
  }
  return out;
}

/** Runs one binding as the classic editor and the service would, against a live (emulated) workspace. */
export async function evaluateBinding(opts: {
  binding: DataSourceBinding;
  dataSources: DataSource[];
  schemes: AuthScheme[];
  endpoint: ServiceEndpoint;
  form?: Record<string, string>;
}): Promise<PickerResult> {
  const { binding, endpoint } = opts;
  const named = binding.dataSourceName ? opts.dataSources.find((d) => d.name === binding.dataSourceName) : undefined;
  if (binding.dataSourceName && !named) throw new Error(`binding ${binding.target}: no data source ${binding.dataSourceName} on the endpoint type`);
  const endpointUrl = binding.endpointUrl ?? named?.endpointUrl;
  if (!endpointUrl) throw new Error(`binding ${binding.target}: no endpointUrl`);
  const selector = binding.resultSelector ?? named?.resultSelector;
  const callbackRequired = binding.callbackRequiredTemplate ?? named?.callbackRequiredTemplate;
  const callbackContext = binding.callbackContextTemplate ?? named?.callbackContextTemplate;
  const initial = binding.initialContextTemplate ?? named?.initialContextTemplate;
  if (named?.requestVerb && named.requestVerb.toUpperCase() !== 'GET') throw new Error(`binding ${binding.target}: only GET data sources are modelled`);
  const scheme = opts.schemes.find((s) => s.type === endpoint.scheme);
  if (!scheme) throw new Error(`endpoint scheme ${endpoint.scheme} is not declared by the endpoint type`);

  const endpointView = { url: endpoint.url, ...endpoint.authorization, ...(endpoint.data ?? {}) };
  let context: Record<string, unknown> = { endpoint: endpointView, ...resolveParameters(binding.parameters, opts.form ?? {}) };
  if (initial) context = { ...context, ...parseJsonObject(renderAdoTemplate(initial, context), 'initialContextTemplate') };

  const items: PickerItem[] = [];
  const urls: string[] = [];
  const bodyBytes: number[] = [];
  for (let call = 1; call <= MAX_CALLS; call++) {
    const url = renderAdoTemplate(endpointUrl, context);
    urls.push(url);
    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const h of scheme.headers ?? []) headers[h.name] = renderAdoTemplate(h.value, { endpoint: endpointView });
    const res = await fetch(url, { method: 'GET', headers });
    const bodyText = await res.text();
    if (!res.ok) throw new Error(`data source ${binding.dataSourceName ?? binding.target}: HTTP ${res.status} from ${url}: ${bodyText}`);
    const size = Buffer.byteLength(bodyText, 'utf8');
    bodyBytes.push(size);
    if (size > MAX_RESPONSE_BYTES)
      throw new Error(`data source ${binding.dataSourceName ?? binding.target}: response of ${size} bytes from ${url} exceeds the service's 2 MB limit`);
    const body = JSON.parse(bodyText) as unknown;
    const selected: unknown[] = selector ? (JSONPath({ path: selector.replace(/^jsonpath:/, ''), json: body as object, wrap: true }) as unknown[]) : [body];
    const value: string[] = [];
    for (const item of selected) {
      if (binding.resultTemplate) {
        const rendered = renderAdoTemplate(binding.resultTemplate, item);
        const pair = parseJsonObject(rendered, 'resultTemplate');
        items.push({ Value: String(pair.Value), DisplayValue: String(pair.DisplayValue) });
        value.push(rendered);
      } else {
        items.push({ Value: String(item), DisplayValue: String(item) });
        value.push(String(item));
      }
    }
    if (!callbackRequired) break;
    const view = { ...context, ...pagingView(body, value, res.headers) };
    if (renderAdoTemplate(callbackRequired, view).trim().toLowerCase() !== 'true') break;
    if (!callbackContext) throw new Error(`binding ${binding.target}: callbackRequiredTemplate without callbackContextTemplate`);
    context = { ...context, ...parseJsonObject(renderAdoTemplate(callbackContext, view), 'callbackContextTemplate') };
  }
  return { items, urls, bodyBytes };
}

/** The server's bindings for the paging templates: the body as `response`, this page's result as `result`, the headers. */
export function pagingView(body: unknown, value: string[], headers: Headers): PagingView {
  return { response: body, result: { count: value.length, value }, headers: Object.fromEntries(headers.entries()) };
}
