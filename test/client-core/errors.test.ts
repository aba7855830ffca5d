import assert from 'node:assert/strict';
import {
  classifiedErrorCode,
  DatabricksApiError,
  ERROR_OVERRIDES,
  errorFromResponse,
  isAlreadyExists,
  isNotFound,
  isRateLimited,
  isResourceDoesNotExist,
  isRetryable,
  isSafeToRetryNonIdempotent,
  networkError,
  parseRetryAfter,
  SIGN_IN_PAGE,
} from '../../src/databricks/errors';

const err = (status: number, errorCode: string | number, message = 'm') => new DatabricksApiError({ status, errorCode, message });

describe('client core: errors', () => {
  describe('errorFromResponse(parts)', () => {
    it('reads JSON {error_code, message} and takes the request id from the header', () => {
      const e = errorFromResponse({
        status: 400,
        body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"Run 5 does not exist."}',
        contentType: 'application/json',
        requestId: 'r-1',
      });
      assert.deepEqual([e.status, e.errorCode, e.message, e.requestId], [400, 'INVALID_PARAMETER_VALUE', 'Run 5 does not exist.', 'r-1']);
    });

    it('keeps a numeric error_code and takes the request id from "[ReqId: ...]" in the message', () => {
      const e = errorFromResponse({
        status: 401,
        body: '{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API. [ReqId: abc-123]"}',
      });
      assert.equal(e.errorCode, 401);
      assert.equal(e.requestId, 'abc-123');
    });

    it('reads legacy {error} and OAuth {error, error_description}', () => {
      assert.deepEqual(pick(errorFromResponse({ status: 400, body: '{"error":"Cluster is gone"}' })), [400, 'BAD_REQUEST', 'Cluster is gone']);
      assert.deepEqual(pick(errorFromResponse({ status: 401, body: '{"error":"invalid_client","error_description":"Client authentication failed"}' })), [
        401,
        'invalid_client',
        'invalid_client: Client authentication failed',
      ]);
    });

    it('reads plain "CODE: message" text and falls back to the status for other text', () => {
      assert.deepEqual(pick(errorFromResponse({ status: 400, body: 'INVALID_STATE: cluster terminated' })), [400, 'INVALID_STATE', 'cluster terminated']);
      assert.deepEqual(pick(errorFromResponse({ status: 500, body: 'oops' })), [500, 'INTERNAL_ERROR', 'oops']);
      assert.deepEqual(pick(errorFromResponse({ status: 503, statusText: 'Service Unavailable', body: '' })), [
        503,
        'TEMPORARILY_UNAVAILABLE',
        'HTTP 503 Service Unavailable',
      ]);
    });

    it('reads the <pre> of an HTML error page', () => {
      const e = errorFromResponse({
        status: 500,
        contentType: 'text/html',
        body: '<html><body><pre>RESOURCE_EXHAUSTED: quota &amp; limits</pre></body></html>',
      });
      assert.deepEqual(pick(e), [500, 'RESOURCE_EXHAUSTED', 'quota & limits']);
    });

    it('calls an HTML page without <pre> (or any HTML 401/403) a sign-in page', () => {
      const e = errorFromResponse({
        status: 403,
        contentType: 'text/html',
        body: '<html><title>Sign in to your account</title></html>',
        method: 'GET',
        path: '/api/2.0/x',
        host: 'adb-1.azuredatabricks.net',
      });
      assert.equal(e.errorCode, SIGN_IN_PAGE);
      assert.match(
        e.message,
        /^The workspace at adb-1\.azuredatabricks\.net returned an HTML sign-in page \(HTTP 403\) instead of an API response for GET \/api\/2\.0\/x\. Likely causes: the workspace URL is wrong/,
      );
      assert.equal(isRetryable(e), false);
      assert.equal(isNotFound(errorFromResponse({ status: 404, contentType: 'text/html', body: '<html><title>Login</title></html>' })), false);
    });

    it('carries Retry-After in ms', () => {
      assert.equal(errorFromResponse({ status: 429, body: '', retryAfterMs: 7000 }).retryAfterMs, 7000);
      assert.equal(parseRetryAfter('7', 0), 7000);
      assert.equal(parseRetryAfter('1.5', 0), 1500);
      assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
      assert.equal(parseRetryAfter('soon', 0), undefined);
      assert.equal(parseRetryAfter(undefined, 0), undefined);
    });
  });

  describe('predicates', () => {
    it('isResourceDoesNotExist: RESOURCE_DOES_NOT_EXIST whatever the status (or only the status asked for); nothing else', () => {
      assert.deepEqual(
        [
          err(404, 'RESOURCE_DOES_NOT_EXIST'),
          err(400, 'RESOURCE_DOES_NOT_EXIST'),
          err(404, 'NOT_FOUND'),
          err(404, 'ENDPOINT_NOT_FOUND'),
          err(400, 'CATALOG_DOES_NOT_EXIST'),
          err(404, 'X'),
          err(503, 'TEMPORARILY_UNAVAILABLE'),
          err(404, SIGN_IN_PAGE),
          new Error('RESOURCE_DOES_NOT_EXIST'),
        ].map((e) => isResourceDoesNotExist(e)),
        [true, true, false, false, false, false, false, false, false],
      );
      assert.deepEqual(
        [err(404, 'RESOURCE_DOES_NOT_EXIST'), err(400, 'RESOURCE_DOES_NOT_EXIST')].map((e) => isResourceDoesNotExist(e, { status: 404 })),
        [true, false],
      );
    });

    it('isNotFound: RESOURCE_DOES_NOT_EXIST or any 404 (also one without a code), except ENDPOINT_NOT_FOUND, FEATURE_DISABLED and a sign-in page', () => {
      assert.deepEqual(
        [
          err(404, 'RESOURCE_DOES_NOT_EXIST'),
          err(400, 'RESOURCE_DOES_NOT_EXIST'),
          err(404, 'NOT_FOUND'),
          err(404, 'X'),
          err(404, 404),
          err(404, 'ENDPOINT_NOT_FOUND'),
          err(404, 'FEATURE_DISABLED'),
          err(404, SIGN_IN_PAGE),
          err(400, 'CATALOG_DOES_NOT_EXIST'),
          err(400, 'INVALID_PARAMETER_VALUE'),
          err(403, 'PERMISSION_DENIED'),
          new Error('x'),
        ].map(isNotFound),
        [true, true, true, true, true, false, false, false, false, false, false, false],
      );
    });

    it('the override table (databricks-sdk-go apierr/error_overrides.go): GET jobs/get "Job ... does not exist" is RESOURCE_DOES_NOT_EXIST, nothing wider', () => {
      const at = (method: string, path: string, code: string, message: string) =>
        new DatabricksApiError({ status: 400, errorCode: code, message, method, path });
      const cases = [
        at('GET', '/api/2.1/jobs/get', 'INVALID_PARAMETER_VALUE', 'Job 123 does not exist.'),
        at('GET', '/api/2.0/jobs/get', 'INVALID_PARAMETER_VALUE', 'Job 123 does not exist.'),
        at('GET', '/api/2.1/jobs/get', 'INVALID_PARAMETER_VALUE', 'job_id must be a number'),
        at('POST', '/api/2.1/jobs/get', 'INVALID_PARAMETER_VALUE', 'Job 123 does not exist.'),
        at('GET', '/api/2.1/jobs/runs/get', 'INVALID_PARAMETER_VALUE', 'Run 5 does not exist.'),
        at('GET', '/api/2.1/jobs/get', 'BAD_REQUEST', 'Job 123 does not exist.'),
      ];
      assert.deepEqual(
        cases.map((e) => isResourceDoesNotExist(e)),
        [true, true, false, false, false, false],
      );
      assert.deepEqual(cases.map(classifiedErrorCode), [
        'RESOURCE_DOES_NOT_EXIST',
        'RESOURCE_DOES_NOT_EXIST',
        'INVALID_PARAMETER_VALUE',
        'INVALID_PARAMETER_VALUE',
        'INVALID_PARAMETER_VALUE',
        'BAD_REQUEST',
      ]);
      assert.deepEqual(
        ERROR_OVERRIDES.map((o) => [o.method, o.path.source, o.errorCode, o.message.source, o.classifyAs]),
        [['GET', '^\\/api\\/2\\.\\d\\/jobs\\/get', 'INVALID_PARAMETER_VALUE', 'Job .* does not exist', 'RESOURCE_DOES_NOT_EXIST']],
      );
      assert.deepEqual(
        [err(404, 404), err(401, 401), err(500, '')].map(classifiedErrorCode),
        ['NOT_FOUND', 'UNAUTHENTICATED', 'INTERNAL_ERROR'],
        'no string code: the code of the status',
      );
    });

    it('isAlreadyExists: by code whatever the status, and 409', () => {
      assert.deepEqual(
        [
          err(400, 'RESOURCE_ALREADY_EXISTS'),
          err(500, 'RESOURCE_ALREADY_EXISTS'),
          err(409, 'ABORTED'),
          err(400, 'MODEL_ALREADY_EXISTS'),
          err(400, 'BAD_REQUEST'),
        ].map(isAlreadyExists),
        [true, true, true, true, false],
      );
    });

    it('isRateLimited: 429 or REQUEST_LIMIT_EXCEEDED', () => {
      assert.deepEqual([err(429, 'X'), err(400, 'REQUEST_LIMIT_EXCEEDED'), err(503, 'TEMPORARILY_UNAVAILABLE')].map(isRateLimited), [true, true, false]);
    });

    it('isRetryable: 429/502/503/504, transient network codes and known transient messages only', () => {
      const table: Array<[DatabricksApiError | Error, boolean]> = [
        [err(429, 'REQUEST_LIMIT_EXCEEDED'), true],
        [err(502, 'BAD_GATEWAY'), true],
        [err(503, 'TEMPORARILY_UNAVAILABLE'), true],
        [err(504, 'DEADLINE_EXCEEDED'), true],
        [err(500, 'INTERNAL_ERROR'), false],
        [err(500, 'INTERNAL_ERROR', 'ClusterNotReadyException: try later'), true],
        [err(400, 'INVALID_STATE', 'Timed out after 60s'), true],
        [err(400, 'INVALID_PARAMETER_VALUE'), false],
        [err(401, 401), false],
        [err(403, 403), false],
        [err(404, 'NOT_FOUND', 'deadline exceeded'), false],
        [err(0, 'ECONNRESET'), true],
        [err(0, 'ETIMEDOUT'), true],
        [err(0, 'ECONNREFUSED'), true],
        [err(0, 'SOCKET_HANG_UP'), true],
        [err(0, 'REQUEST_TIMEOUT'), true],
        [err(0, 'RESPONSE_TRUNCATED'), true],
        [err(0, 'ENOTFOUND'), false],
        [err(200, SIGN_IN_PAGE), false],
        [new Error('ECONNRESET'), false],
      ];
      assert.deepEqual(
        table.map(([e]) => isRetryable(e)),
        table.map(([, r]) => r),
      );
    });

    it('isSafeToRetryNonIdempotent: only ECONNREFUSED and 429', () => {
      assert.deepEqual(
        [err(0, 'ECONNREFUSED'), err(429, 'X'), err(503, 'TEMPORARILY_UNAVAILABLE'), err(0, 'ECONNRESET'), err(0, 'REQUEST_TIMEOUT'), err(502, 'X')].map(
          isSafeToRetryNonIdempotent,
        ),
        [true, true, false, false, false, false],
      );
    });
  });

  describe('networkError(err, ctx)', () => {
    it('copies only the code, never the socket error object or its fields', () => {
      const raw = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
        code: 'ECONNREFUSED',
        config: { headers: { Authorization: 'Bearer secret-token-1' } },
      });
      const e = networkError(raw, { method: 'GET', path: '/api/2.2/jobs/runs/get', host: 'adb-1.net' });
      assert.equal(e.message, 'Request GET /api/2.2/jobs/runs/get to adb-1.net failed: the connection was refused (ECONNREFUSED).');
      assert.equal(e.errorCode, 'ECONNREFUSED');
      assert.equal(e.status, 0);
      assert.ok(!JSON.stringify(e, Object.getOwnPropertyNames(e)).includes('secret-token-1'));
      assert.equal(networkError(new Error('socket hang up'), {}).errorCode, 'SOCKET_HANG_UP');
    });
  });
});

function pick(e: DatabricksApiError): [number, string | number, string] {
  return [e.status, e.errorCode, e.message];
}
