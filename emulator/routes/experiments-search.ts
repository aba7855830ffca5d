/**
 * MLflow `experiments/search` (docs/databricks-api-notes.md §5.2; service.proto serves it as POST and GET), over the experiments
 * of the tracking module. Supported: `max_results` (default 1000, at most 3000 as on Databricks), `page_token`,
 * `view_type` (ACTIVE_ONLY default, DELETED_ONLY, ALL). A `filter` or `order_by` is answered 400: this emulator
 * does not implement them, and silently ignoring them would hand a caller the wrong experiments.
 * Order: creation order (assumption; no documented default order is relied on by our callers).
 */
import type { EmulatorCore, EmulatorRequest, Router } from '../contracts';
import { decodePageToken, encodePageToken, invalid, parseMaxResults } from './mlflow/search';
import { field, listField, type TrackingStore } from './mlflow/tracking';

const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
export type ExperimentViewType = (typeof VIEW_TYPES)[number];

/** experiments/search over the tracking store's experiments (`core.modules.experimentsSearch`). */
export class ExperimentSearch {
  constructor(private readonly tracking: TrackingStore) {}

  /** One page of the experiments in `viewType`, from `offset`, as the API answers it. */
  search(q: { viewType: ExperimentViewType; maxResults: number; offset: number }): Record<string, unknown> {
    const all = [...this.tracking.experiments.values()].filter(
      (e) => q.viewType === 'ALL' || (q.viewType === 'ACTIVE_ONLY' ? e.lifecycleStage === 'active' : e.lifecycleStage === 'deleted'),
    );
    const page = all.slice(q.offset, q.offset + q.maxResults);
    const body: Record<string, unknown> = {};
    if (page.length) body.experiments = page.map((e) => this.tracking.experimentJson(e));
    if (q.offset + q.maxResults < all.length) body.next_page_token = encodePageToken(q.offset + q.maxResults);
    return body;
  }

  install(router: Router): void {
    const search = (req: EmulatorRequest) => {
      if (field(req, 'filter') !== undefined && field(req, 'filter') !== '') throw invalid('The emulator does not implement experiments/search filter.');
      if ((listField(req, 'order_by') ?? []).length > 0) throw invalid('The emulator does not implement experiments/search order_by.');
      const viewType = String(field(req, 'view_type') ?? 'ACTIVE_ONLY');
      if (!(VIEW_TYPES as readonly string[]).includes(viewType)) throw invalid(`Invalid value ${viewType} for parameter 'view_type'.`);
      const maxResults = parseMaxResults(field(req, 'max_results'), 1000, 3000);
      const offset = decodePageToken(field(req, 'page_token'));
      return { status: 200, body: this.search({ viewType: viewType as ExperimentViewType, maxResults, offset }) };
    };
    router.add('GET', '/api/2.0/mlflow/experiments/search', search);
    router.add('POST', '/api/2.0/mlflow/experiments/search', search);
  }
}

/** Registers experiments/search (needs the mlflow module installed first); returns its handle. */
export function install(core: EmulatorCore): ExperimentSearch {
  const mlflow = core.modules.mlflow;
  if (!mlflow) throw new Error('experiments/search needs the mlflow module installed first.');
  const handle = new ExperimentSearch(mlflow.tracking);
  handle.install(core.router);
  core.modules.experimentsSearch = handle;
  return handle;
}
