/**
 * MLflow `experiments/search` (docs/databricks-api-notes.md §5.2; service.proto serves it as POST and GET), over the experiments
 * of the tracking module. Supported: `max_results` (default 1000, at most 3000 as on Databricks), `page_token`,
 * `view_type` (ACTIVE_ONLY default, DELETED_ONLY, ALL). A `filter` or `order_by` is answered 400: this emulator
 * does not implement them, and silently ignoring them would hand a caller the wrong experiments.
 * Order: creation order (assumption; no documented default order is relied on by our callers).
 */
import type { EmulatorCore, EmulatorRequest } from '../contracts';
import type { MlflowEmulator } from './mlflow';
import { decodePageToken, encodePageToken, invalid, parseMaxResults } from './mlflow/search';
import { field, listField } from './mlflow/tracking';

const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;

export function install(core: EmulatorCore): void {
  const search = (req: EmulatorRequest) => {
    const mlflow = core.modules.mlflow as MlflowEmulator | undefined;
    if (!mlflow) throw new Error('experiments/search needs the mlflow module installed first.');
    if (field(req, 'filter') !== undefined && field(req, 'filter') !== '') throw invalid('The emulator does not implement experiments/search filter.');
    if ((listField(req, 'order_by') ?? []).length > 0) throw invalid('The emulator does not implement experiments/search order_by.');
    const viewType = String(field(req, 'view_type') ?? 'ACTIVE_ONLY');
    if (!(VIEW_TYPES as readonly string[]).includes(viewType)) throw invalid(`Invalid value ${viewType} for parameter 'view_type'.`);
    const maxResults = parseMaxResults(field(req, 'max_results'), 1000, 3000);
    const offset = decodePageToken(field(req, 'page_token'));
    const all = [...mlflow.tracking.experiments.values()].filter(
      (e) => viewType === 'ALL' || (viewType === 'ACTIVE_ONLY' ? e.lifecycleStage === 'active' : e.lifecycleStage === 'deleted'),
    );
    const page = all.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = {};
    if (page.length) body.experiments = page.map((e) => mlflow.tracking.experimentJson(e));
    if (offset + maxResults < all.length) body.next_page_token = encodePageToken(offset + maxResults);
    return { status: 200, body };
  };
  core.router.add('GET', '/api/2.0/mlflow/experiments/search', search);
  core.router.add('POST', '/api/2.0/mlflow/experiments/search', search);
}
