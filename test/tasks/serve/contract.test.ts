/**
 * Contract of the serving client and the emulator's serving routes against the official Databricks JS SDK
 * (`@databricks/sdk-experimental`, `dist/apis/serving`): the SDK's own ServingEndpointsService sends its
 * requests to the emulator, our ServingClient sends the same operations, and the two must put the same
 * method, path and body on the wire. The SDK copies only the top-level fields it knows into a body, so an
 * equal body proves every top-level name we send is one of the SDK's; nested objects (served entities,
 * routes) and every field the emulator answers with are checked against the SDK's interface declarations
 * in model.d.ts; enum values against its unions. The SDK's waiter (`create(...).wait()`) runs against the
 * emulator's life cycle: it must see NOT_UPDATING after a good update and reject an UPDATE_FAILED one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serving } from '@databricks/sdk-experimental';
import { patTokenProvider } from '../../../src/databricks/auth';
import { createApiClient } from '../../../src/databricks/http';
import { ServingClient, WORKLOAD_TYPES, type EndpointConfigInput } from '../../../src/databricks/serving';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../../emulator';
import { SERVING_WORKLOAD_TYPES } from '../../../emulator/routes/serving';

const SDK_DIR = path.dirname(require.resolve('@databricks/sdk-experimental/package.json'));
const MODEL_DTS = readFileSync(path.join(SDK_DIR, 'dist', 'apis', 'serving', 'model.d.ts'), 'utf8');

/** The property names an interface of the SDK's serving model.d.ts declares. */
function sdkFields(name: string): Set<string> {
  const start = MODEL_DTS.indexOf(`export interface ${name} {`);
  assert.ok(start >= 0, `the SDK declares no interface ${name}`);
  const end = MODEL_DTS.indexOf('\n}\n', start);
  const body = MODEL_DTS.slice(start, end);
  return new Set([...body.matchAll(/^ {4}"?([A-Za-z_][A-Za-z0-9_-]*)"?\??:/gm)].map((m) => m[1]));
}

/** The members of a string-literal union type of the SDK. */
function sdkUnion(name: string): string[] {
  const m = new RegExp(`export type ${name} = ([^;]+);`).exec(MODEL_DTS);
  assert.ok(m, `the SDK declares no type ${name}`);
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
}

function assertKeysIn(obj: Record<string, unknown>, iface: string, where: string): void {
  const allowed = sdkFields(iface);
  for (const k of Object.keys(obj)) assert.ok(allowed.has(k), `${where}: field ${k} is not in the SDK's ${iface}`);
}

/** The transport the SDK's services call (`client.request({path, method, payload})`), sending to the emulator. */
class SdkTransport {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async request(o: { path: string; method: string; payload?: unknown; query?: Record<string, unknown> }): Promise<unknown> {
    const res = await fetch(`${this.url}${o.path}`, {
      method: o.method,
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: o.payload === undefined || o.method === 'GET' ? undefined : JSON.stringify(o.payload),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text}`);
    return text ? JSON.parse(text) : {};
  }
}

describe('serving client and emulator: contract with the official SDK serving service', function () {
  this.timeout(30_000);
  let emu: Emulator;
  let sdk: serving.ServingEndpointsService;
  let ours: ServingClient;
  const MODEL = 'main.ml.churn';
  const HOUR = 3_600_000;

  beforeEach(async () => {
    emu = await startEmulator();
    emu.serving.updateMs = 50;
    emu.mlflow.createModelVersion(MODEL, { source: 'runs:/r1/model', uc: true });
    emu.mlflow.createModelVersion(MODEL, { source: 'runs:/r2/model', uc: true });
    sdk = new serving.ServingEndpointsService(new SdkTransport(emu.url, EMULATOR_DEFAULTS.pat) as never);
    ours = new ServingClient(createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat) }));
  });
  afterEach(() => emu.close());

  const config = (version: string, name = `main-ml-churn-${version}`): EndpointConfigInput => ({
    served_entities: [{ name, entity_name: MODEL, entity_version: version, workload_size: 'Small', workload_type: 'CPU', scale_to_zero_enabled: false }],
    traffic_config: { routes: [{ served_entity_name: name, traffic_percentage: 100 }] },
  });

  /** [method, path, body] of the requests logged since `from`. */
  const wire = (from: number) => emu.requests.filter((r) => r.seq > from).map((r) => [r.method, r.path, r.body]);
  const lastSeq = () => emu.requests.at(-1)?.seq ?? 0;

  it('create: the same POST /api/2.0/serving-endpoints body as the SDK; every field a field of CreateServingEndpoint, ServedEntityInput, Route', async () => {
    const req = { name: 'churn-a', config: config('1') };
    let from = lastSeq();
    await sdk.create(req as never);
    const sdkWire = wire(from);
    from = lastSeq();
    await ours.create({ ...req, name: 'churn-b' });
    const ourWire = wire(from);
    assert.deepEqual(sdkWire, [['POST', '/api/2.0/serving-endpoints', req]]);
    assert.deepEqual(ourWire, [['POST', '/api/2.0/serving-endpoints', { ...req, name: 'churn-b' }]]);
    assertKeysIn(req, 'CreateServingEndpoint', 'create body');
    assertKeysIn(req.config as never, 'EndpointCoreConfigInput', 'config');
    for (const e of req.config.served_entities) assertKeysIn(e as never, 'ServedEntityInput', 'served entity');
    for (const r of req.config.traffic_config!.routes!) assertKeysIn(r as never, 'Route', 'route');
  });

  it('get and list: the SDK paths; every field the emulator answers is declared by the SDK, enum values in its unions', async () => {
    // The update ends only when the test moves emulated time, so both reads see it in progress whatever the load.
    emu.serving.updateMs = HOUR;
    await ours.create({ name: 'churn', config: config('1') });
    let from = lastSeq();
    const viaSdk = await sdk.get({ name: 'churn' });
    assert.deepEqual(
      wire(from).map(([m, p]) => [m, p]),
      [['GET', '/api/2.0/serving-endpoints/churn']],
    );
    from = lastSeq();
    const viaOurs = await ours.get('churn');
    assert.deepEqual(
      wire(from).map(([m, p]) => [m, p]),
      [['GET', '/api/2.0/serving-endpoints/churn']],
    );
    assert.deepEqual(viaOurs, viaSdk);

    const pending = viaOurs!;
    assertKeysIn(pending, 'ServingEndpointDetailed', 'endpoint');
    assertKeysIn(pending.state as never, 'EndpointState', 'state');
    assert.deepEqual(pending.state, { config_update: 'IN_PROGRESS', ready: 'NOT_READY' });
    assertKeysIn(pending.pending_config as never, 'EndpointPendingConfig', 'pending_config');
    for (const e of pending.pending_config!.served_entities!) {
      assertKeysIn(e, 'ServedEntityOutput', 'pending served entity');
      assertKeysIn(e.state as never, 'ServedModelState', 'served entity state');
      assert.ok(sdkUnion('ServedModelStateDeployment').includes(e.state!.deployment!));
    }
    emu.clock.advance(HOUR);
    const ready = (await ours.get('churn'))!;
    assert.deepEqual(ready.state, { config_update: 'NOT_UPDATING', ready: 'READY' });
    assert.ok(sdkUnion('EndpointStateConfigUpdate').includes(ready.state!.config_update!));
    assert.ok(sdkUnion('EndpointStateReady').includes(ready.state!.ready!));
    assertKeysIn(ready.config as never, 'EndpointCoreConfigOutput', 'config');
    for (const e of ready.config!.served_entities!) assertKeysIn(e, 'ServedEntityOutput', 'served entity');
    assertKeysIn(ready.config!.traffic_config as never, 'TrafficConfig', 'traffic_config');
    for (const r of ready.config!.traffic_config!.routes!) assertKeysIn(r as never, 'Route', 'route');

    from = lastSeq();
    const listed: unknown[] = [];
    for await (const e of sdk.list()) listed.push(e);
    const ourList = await ours.list();
    assert.deepEqual(
      wire(from).map(([m, p]) => [m, p]),
      [
        ['GET', '/api/2.0/serving-endpoints'],
        ['GET', '/api/2.0/serving-endpoints'],
      ],
    );
    assert.deepEqual(ourList, listed);
    for (const e of ourList) assertKeysIn(e, 'ServingEndpoint', 'listed endpoint');
  });

  it('a missing endpoint answers 404 RESOURCE_DOES_NOT_EXIST: our get returns undefined, the SDK rejects', async () => {
    assert.equal(await ours.get('nope'), undefined);
    await assert.rejects(sdk.get({ name: 'nope' }), /HTTP 404: .*RESOURCE_DOES_NOT_EXIST/);
  });

  it('updateConfig: the same PUT /api/2.0/serving-endpoints/{name}/config body as the SDK (name only in the path)', async () => {
    await ours.create({ name: 'churn', config: config('1') });
    emu.clock.advance(50);
    const next = config('2');
    let from = lastSeq();
    await sdk.updateConfig({ name: 'churn', ...next } as never);
    const sdkWire = wire(from);
    emu.clock.advance(50);
    from = lastSeq();
    await ours.updateConfig('churn', config('1'));
    const ourWire = wire(from);
    assert.deepEqual(sdkWire, [['PUT', '/api/2.0/serving-endpoints/churn/config', next]]);
    assert.deepEqual(ourWire, [['PUT', '/api/2.0/serving-endpoints/churn/config', config('1')]]);
  });

  it('query: the same POST /serving-endpoints/{name}/invocations body as the SDK; predictions, one per row', async () => {
    await ours.create({ name: 'churn', config: config('1') });
    emu.clock.advance(50);
    const body = {
      dataframe_split: {
        columns: ['x0', 'x1'],
        data: [
          [0.1, 0.2],
          [1, -1],
        ],
      },
    };
    let from = lastSeq();
    const viaSdk = (await sdk.query({ name: 'churn', ...body })) as { predictions: number[] };
    const sdkWire = wire(from);
    from = lastSeq();
    const viaOurs = await ours.query('churn', body);
    assert.deepEqual(sdkWire, [['POST', '/serving-endpoints/churn/invocations', body]]);
    assert.deepEqual(wire(from), sdkWire);
    assert.equal(viaSdk.predictions.length, 2);
    assert.deepEqual(viaOurs.predictions, viaSdk.predictions);
    assertKeysIn(viaOurs, 'QueryEndpointResponse', 'scoring response');
  });

  it("the SDK's create-and-wait sees the emulator reach NOT_UPDATING, and rejects an UPDATE_FAILED update", async () => {
    const done = await (await sdk.create({ name: 'churn', config: config('1') } as never)).wait();
    assert.equal(done.state?.config_update, 'NOT_UPDATING');
    emu.serving.failNextUpdate('churn', 'Served entity failed to deploy.');
    await assert.rejects((await sdk.updateConfig({ name: 'churn', ...config('2') } as never)).wait(), /failed to reach NOT_UPDATING state, got UPDATE_FAILED/);
    // Databricks keeps serving the previous config when an update fails.
    assert.deepEqual(emu.serving.servedTraffic('churn'), [[MODEL, '1', 100]]);
  });

  it('workload types: ours, the emulator and the SDK union are the same set', () => {
    assert.deepEqual([...WORKLOAD_TYPES].sort(), sdkUnion('ServingModelWorkloadType').sort());
    assert.deepEqual([...SERVING_WORKLOAD_TYPES].sort(), sdkUnion('ServingModelWorkloadType').sort());
  });

  it('an update while one is IN_PROGRESS is refused (409) and changes nothing', async () => {
    emu.serving.updateMs = HOUR;
    await ours.create({ name: 'churn', config: config('1') });
    await assert.rejects(ours.updateConfig('churn', config('2')), (e: Error & { status?: number }) => e.status === 409);
    emu.clock.advance(HOUR);
    assert.deepEqual(emu.serving.servedTraffic('churn'), [[MODEL, '1', 100]]);
  });
});
