/**
 * The clusters list the classic-editor pickers read: `GET /api/2.1/clusters/list` with `page_size` and
 * `page_token` (the Databricks SDKs' ListClustersRequest/ListClustersResponse, e.g. @databricks/sdk-experimental
 * `ClustersService.list`, path /api/2.1/clusters/list). Databricks answers `{ "clusters": [ClusterDetails] }` with
 * every pinned or running cluster and the clusters terminated in the last 30 days, job clusters included
 * (`cluster_source: "JOB"`); with no clusters the key is omitted, like every empty array on this API. When more
 * remain, `next_page_token` names the next page; on the last page it is "" ("If the value is "", it means no
 * further results", ListClustersResponse), which a caller must treat as the end. Without `page_size` every cluster
 * comes in one answer (an assumption: the server's own cap is not documented). Only the fields the pickers and
 * tests read are modelled.
 */
import { ApiFault, type EmulatorCore, type EmulatorRequest } from '../contracts';

/** A cluster as `clusters/list` reports it (subset of ClusterDetails). */
export interface EmulatedCluster {
  cluster_id: string;
  cluster_name: string;
  /** PENDING, RUNNING, RESTARTING, RESIZING, TERMINATING, TERMINATED, ERROR, UNKNOWN. */
  state: string;
  /** UI and API: all-purpose clusters; JOB: a job cluster created for one run. */
  cluster_source: 'UI' | 'API' | 'JOB';
  spark_version: string;
  node_type_id: string;
  creator_user_name: string;
}

/** The handle tests use as `emu.clusters`. */
export class ClustersEmulator {
  private readonly clusters: EmulatedCluster[] = [];
  private serial = 0;

  constructor(private readonly core: EmulatorCore) {}

  /** Adds a cluster (test setup); the id follows the Databricks `MMDD-HHMMSS-xxxxxxxx` shape. */
  addCluster(opts: {
    name: string;
    state?: string;
    source?: EmulatedCluster['cluster_source'];
    id?: string;
    details?: Record<string, unknown>;
  }): EmulatedCluster {
    this.serial += 1;
    const cluster: EmulatedCluster = {
      cluster_id: opts.id ?? `0101-000000-${this.serial.toString(36).padStart(8, '0')}`,
      cluster_name: opts.name,
      state: opts.state ?? 'RUNNING',
      cluster_source: opts.source ?? 'UI',
      spark_version: '15.4.x-cpu-ml-scala2.12',
      node_type_id: 'Standard_DS3_v2',
      creator_user_name: 'emulator-user@example.com',
      // Further ClusterDetails fields (spark_conf, custom_tags, executors, ...) a test wants listed, e.g. to size a page.
      ...opts.details,
    };
    this.clusters.push(cluster);
    return cluster;
  }

  list(): EmulatedCluster[] {
    return this.clusters.map((c) => ({ ...c }));
  }

  install(): void {
    this.core.router.add('GET', '/api/2.1/clusters/list', (req: EmulatorRequest) => {
      const all = this.list();
      const sizeRaw = req.query.page_size;
      if (sizeRaw === undefined) return { status: 200, body: all.length ? { clusters: all } : {} };
      const size = Number(sizeRaw);
      if (!Number.isInteger(size) || size < 1) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', `Invalid page_size ${String(sizeRaw)}.`);
      const token = typeof req.query.page_token === 'string' ? req.query.page_token : '';
      const offset = token === '' ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^c:/, ''));
      if (!Number.isInteger(offset) || offset < 0 || offset > all.length) throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Invalid page_token.');
      const page = all.slice(offset, offset + size);
      const body: Record<string, unknown> = {
        next_page_token: offset + size < all.length ? Buffer.from(`c:${offset + size}`).toString('base64url') : '',
        prev_page_token: offset > 0 ? Buffer.from(`c:${Math.max(0, offset - size)}`).toString('base64url') : '',
      };
      if (page.length) body.clusters = page;
      return { status: 200, body };
    });
  }
}

export function install(core: EmulatorCore): ClustersEmulator {
  const clusters = new ClustersEmulator(core);
  clusters.install();
  core.modules.clusters = clusters;
  return clusters;
}
