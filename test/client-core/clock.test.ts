import assert from 'node:assert/strict';
import { createFakeClock, systemClock } from '../../src/databricks/clock';
import { CancelledError } from '../../src/databricks/errors';

describe('client core: the one Clock', () => {
  describe('systemClock', () => {
    it('monotonic() is whole milliseconds and never goes back', async () => {
      const a = systemClock.monotonic();
      await systemClock.sleep(5);
      const b = systemClock.monotonic();
      assert.ok(Number.isInteger(a) && Number.isInteger(b), `${a} ${b}`);
      assert.ok(b >= a + 4, `${a} -> ${b}`);
    });

    it('sleep() rejects with CancelledError at once for an aborted signal, and when the signal aborts during the sleep', async () => {
      const aborted = new AbortController();
      aborted.abort(new Error('cancelled by SIGINT'));
      await assert.rejects(systemClock.sleep(60_000, aborted.signal), CancelledError);
      const later = new AbortController();
      const started = systemClock.monotonic();
      const sleeping = systemClock.sleep(60_000, later.signal);
      setTimeout(() => later.abort(new Error('cancelled by SIGINT')), 10);
      await assert.rejects(sleeping, CancelledError);
      assert.ok(systemClock.monotonic() - started < 5_000);
    });
  });

  describe('createFakeClock()', () => {
    it('moves wall and monotonic time together, only by sleep() and advance(), and records each sleep', async () => {
      const clock = createFakeClock(Date.UTC(2024, 0, 1));
      assert.equal(clock.now(), Date.UTC(2024, 0, 1));
      assert.equal(clock.monotonic(), 0);
      await clock.sleep(3_000);
      clock.advance(500);
      assert.equal(clock.now(), Date.UTC(2024, 0, 1) + 3_500);
      assert.equal(clock.monotonic(), 3_500);
      assert.deepEqual(clock.sleeps, [3_000]);
    });

    it('sleep() rejects with CancelledError for an aborted signal and does not advance', async () => {
      const clock = createFakeClock();
      const c = new AbortController();
      c.abort(new Error('cancelled by SIGINT'));
      await assert.rejects(clock.sleep(1_000, c.signal), CancelledError);
      assert.equal(clock.monotonic(), 0);
      assert.deepEqual(clock.sleeps, []);
    });
  });
});
