/**
 * The compute inputs Train and Evaluate & Promote share (`clusterMode`, `existingClusterId`, `newClusterJson`):
 * where a one-time run executes. Checked before anything is started, so a typo never costs a cluster start.
 */
import { InputError, Inputs, truncate } from '../../pipeline/inputs';

export type ClusterConfig = { mode: 'existing'; clusterId: string } | { mode: 'new'; newCluster: Record<string, unknown> } | { mode: 'serverless' };

export function parseCluster(inputs: Inputs): ClusterConfig {
  const mode = inputs.oneOf('clusterMode', ['existing', 'new', 'serverless'] as const, 'serverless');
  if (mode === 'existing') {
    const clusterId = inputs.required('existingClusterId', 'the id of the all-purpose cluster to run on, for clusterMode existing');
    if (!/^[A-Za-z0-9-]+$/.test(clusterId)) {
      throw new InputError('existingClusterId', `Input existingClusterId must be a cluster id such as 0123-456789-abcdefgh; got "${truncate(clusterId)}".`);
    }
    return { mode, clusterId };
  }
  if (mode === 'new') {
    const raw = inputs.required('newClusterJson', 'the new_cluster specification as JSON, for clusterMode new');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw new InputError(
        'newClusterJson',
        `Input newClusterJson is not valid JSON (${e instanceof Error ? e.message : 'parse error'}). Give one JSON object such as {"spark_version": "15.4.x-cpu-ml-scala2.12", "node_type_id": "Standard_DS3_v2", "num_workers": 1}.`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InputError('newClusterJson', 'Input newClusterJson must be one JSON object (the Jobs API new_cluster specification).');
    }
    const c = parsed as Record<string, unknown>;
    const missing: string[] = [];
    if (typeof c.spark_version !== 'string' || c.spark_version === '') missing.push('spark_version');
    if (c.node_type_id === undefined && c.instance_pool_id === undefined && c.policy_id === undefined)
      missing.push('node_type_id (or instance_pool_id or policy_id)');
    if (c.num_workers === undefined && c.autoscale === undefined && c.is_single_node !== true) missing.push('num_workers (or autoscale)');
    if (missing.length > 0) throw new InputError('newClusterJson', `Input newClusterJson is missing ${missing.join(', ')}.`);
    if (c.num_workers !== undefined && (!Number.isInteger(c.num_workers) || (c.num_workers as number) < 0)) {
      throw new InputError('newClusterJson', 'In newClusterJson, num_workers must be a whole number >= 0.');
    }
    return { mode, newCluster: c };
  }
  return { mode };
}
