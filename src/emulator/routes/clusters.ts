/**
 * Clusters API 2.0, the one read the classic-editor pickers need: `GET /api/2.0/clusters/list`.
 * Databricks answers `{ "clusters": [ClusterDetails] }` with every pinned or running cluster and the clusters
 * terminated in the last 30 days, job clusters included (`cluster_source: "JOB"`); with no clusters the key is
 * omitted, like every empty array on this API. Only the fields the pickers and tests read are modelled.
 */
import type { EmulatorCore } from '../contracts';

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
  addCluster(opts: { name: string; state?: string; source?: EmulatedCluster['cluster_source']; id?: string }): EmulatedCluster {
    this.serial += 1;
    const cluster: EmulatedCluster = {
      cluster_id: opts.id ?? `0101-000000-${this.serial.toString(36).padStart(8, '0')}`,
      cluster_name: opts.name,
      state: opts.state ?? 'RUNNING',
      cluster_source: opts.source ?? 'UI',
      spark_version: '15.4.x-cpu-ml-scala2.12',
      node_type_id: 'Standard_DS3_v2',
      creator_user_name: 'emulator-user@example.com',
    };
    this.clusters.push(cluster);
    return cluster;
  }

  list(): EmulatedCluster[] {
    return this.clusters.map((c) => ({ ...c }));
  }

  install(): void {
    this.core.router.add('GET', '/api/2.0/clusters/list', () => ({
      status: 200,
      body: this.clusters.length ? { clusters: this.list() } : {},
    }));
  }
}

export function install(core: EmulatorCore): ClustersEmulator {
  const clusters = new ClustersEmulator(core);
  clusters.install();
  core.modules.clusters = clusters;
  return clusters;
}
