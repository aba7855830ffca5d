import assert from 'node:assert/strict';
import { createFakeClock } from '../../src/databricks/clock';
import type { ApiClient, ApiRequest } from '../../src/databricks/contracts';
import { CancelledError, DatabricksApiError, TimeoutError } from '../../src/databricks/errors';
import { paginateByToken, toArray } from '../../src/databricks/paginate';
import { backoffDelay, withRetry } from '../../src/databricks/retry';
import { waitUntil } from '../../src/databricks/wait';

const e503 = () => new DatabricksApiError({ status: 503, errorCode: 'TEMPORARILY_UNAVAILABLE', message: 'busy' });
const e400 = () => new DatabricksApiError({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE', message: 'bad' });

describe('client core: withRetry, waitUntil, paging', () => {
  describe('withRetry(fn, policy)', () => {
    it('backoffDelay: full jitter under base * 2^(n-1), capped; Retry-After wins', () => {
      const p = { baseDelayMs: 1000, maxDelayMs: 5000, random: () => 0.999 };
      assert.deepEqual(
        [1, 2, 3, 4, 5].map((n) => backoffDelay(n, p)),
        [999, 1998, 3996, 4995, 4995],
      );
      assert.equal(backoffDelay(3, { ...p, random: () => 0 }), 0);
      assert.equal(backoffDelay(3, p, 7000), 7000);
    });

    it('retries retryable errors with the injected clock and returns the first success', async () => {
      const clock = createFakeClock();
      let calls = 0;
      const r = await withRetry(
        async () => {
          if (++calls < 3) throw e503();
          return 'ok';
        },
        { clock, random: () => 0.5, baseDelayMs: 100 },
      );
      assert.equal(r, 'ok');
      assert.equal(calls, 3);
      assert.deepEqual(clock.sleeps, [50, 100]);
    });

    it('does not retry a non-retryable error', async () => {
      const clock = createFakeClock();
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw e400();
          },
          { clock },
        ),
        /bad/,
      );
      assert.equal(calls, 1);
    });

    it('gives up when a Retry-After exceeds maxRetryAfterMs', async () => {
      const clock = createFakeClock();
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw new DatabricksApiError({ status: 429, errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down', retryAfterMs: 600_000 });
          },
          { clock },
        ),
      );
      assert.equal(calls, 1);
    });

    it('stops on cancel during a backoff sleep with CancelledError', async () => {
      const ac = new AbortController();
      const clock = createFakeClock();
      let calls = 0;
      const p = withRetry(
        async () => {
          calls++;
          if (calls === 1) setImmediate(() => ac.abort(new Error('cancelled by SIGINT')));
          throw e503();
        },
        { clock, signal: ac.signal, random: () => 0 },
      );
      await assert.rejects(p, (e: unknown) => e instanceof CancelledError);
      assert.equal(calls, 1);
    });
  });

  describe('waitUntil(poll, opts)', () => {
    it('backs off 2 s x1.5 up to the cap and returns the done value', async () => {
      const clock = createFakeClock();
      let n = 0;
      const progress: unknown[] = [];
      const v = await waitUntil(async () => (++n < 7 ? { pending: `p${n}` } : { done: 'finished' }), {
        timeoutMs: 600_000,
        clock,
        maxIntervalMs: 8000,
        onProgress: (s, info) => progress.push([s, info.polls]),
      });
      assert.equal(v, 'finished');
      assert.deepEqual(clock.sleeps, [2000, 3000, 4500, 6750, 8000, 8000]);
      assert.deepEqual(progress, [
        ['p1', 1],
        ['p2', 2],
        ['p3', 3],
        ['p4', 4],
        ['p5', 5],
        ['p6', 6],
      ]);
    });

    it('times out with the last state in the message and on the error, after a final poll at the deadline', async () => {
      const clock = createFakeClock();
      let polls = 0;
      const p = waitUntil(
        async () => {
          polls++;
          return { pending: { life_cycle_state: 'RUNNING', state_message: `Waiting for cluster (${polls})` } };
        },
        {
          timeoutMs: 10_000,
          clock,
          what: 'run 42 to finish',
          describe: (s) => `run 42 still ${s?.life_cycle_state} ("${s?.state_message}")`,
        },
      );
      const e = await p.then(
        () => assert.fail('no timeout'),
        (x: unknown) => x as TimeoutError,
      );
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.message, 'Waiting for run 42 to finish timed out after 10 s; last state: run 42 still RUNNING ("Waiting for cluster (5)").');
      assert.deepEqual(e.lastState, { life_cycle_state: 'RUNNING', state_message: 'Waiting for cluster (5)' });
      assert.equal(e.elapsedMs, 10_000);
      assert.deepEqual(clock.sleeps, [2000, 3000, 4500, 500]);
      assert.equal(polls, 5, 'polls at 0, 2, 5, 9.5 and 10 s');
    });

    it('survives transient errors (counted) and halts on others', async () => {
      const clock = createFakeClock();
      const seq: Array<'503' | 'pending' | 'done'> = ['503', '503', 'pending', '503', 'done'];
      let i = 0;
      const transient: number[] = [];
      const v = await waitUntil(
        async () => {
          const s = seq[i++];
          if (s === '503') throw e503();
          return s === 'done' ? { done: 7 } : { pending: s };
        },
        { timeoutMs: 600_000, clock, onTransientError: (_e, n) => transient.push(n) },
      );
      assert.equal(v, 7);
      assert.deepEqual(transient, [1, 2, 1]);

      let calls = 0;
      await assert.rejects(
        waitUntil(
          async () => {
            calls++;
            throw e400();
          },
          { timeoutMs: 600_000, clock },
        ),
        /bad/,
      );
      assert.equal(calls, 1);
    });

    it('gives up after maxConsecutiveErrors transient errors in a row', async () => {
      const clock = createFakeClock();
      let calls = 0;
      await assert.rejects(
        waitUntil(
          async () => {
            calls++;
            throw e503();
          },
          { timeoutMs: 600_000, clock, maxConsecutiveErrors: 3 },
        ),
        /busy/,
      );
      assert.equal(calls, 4);
    });

    it('is cancelled by its signal with CancelledError', async () => {
      const clock = createFakeClock();
      const ac = new AbortController();
      let calls = 0;
      const p = waitUntil(
        async () => {
          if (++calls === 2) ac.abort(new Error('cancelled by SIGTERM'));
          return { pending: 'x' };
        },
        { timeoutMs: 600_000, clock, signal: ac.signal, what: 'run 1' },
      );
      await assert.rejects(
        p,
        (e: unknown) => e instanceof CancelledError && /Waiting for run 1 was cancelled \(cancelled by SIGTERM\)/.test((e as Error).message),
      );
      assert.equal(calls, 2);
    });
  });

  describe('paging guards', () => {
    function fakeApi(pages: Record<string, unknown>): ApiClient & { seen: ApiRequest[] } {
      const seen: ApiRequest[] = [];
      return {
        host: 'https://x',
        seen,
        request: async <T>(req: ApiRequest) => {
          seen.push(req);
          return pages[String(req.query?.page_token ?? '')] as T;
        },
        download: async () => ({ bytes: 0, headers: {} }),
      };
    }

    it('stops with an error when the server repeats a page token', async () => {
      const api = fakeApi({ '': { items: [1], next_page_token: 'a' }, a: { items: [2], next_page_token: 'a' } });
      await assert.rejects(
        toArray(paginateByToken<{ items?: number[] }, number>(api, { method: 'GET', path: '/p' }, { items: (p) => p.items })),
        /returned the page token it was given again/,
      );
      assert.equal(api.seen.length, 2);
    });

    it('treats a page without the items key as empty (proto-JSON omission)', async () => {
      const api = fakeApi({ '': { next_page_token: 'a' }, a: { items: [5] } });
      assert.deepEqual(await toArray(paginateByToken<{ items?: number[] }, number>(api, { method: 'GET', path: '/p' }, { items: (p) => p.items })), [5]);
    });
  });
});
