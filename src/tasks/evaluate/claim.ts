/**
 * The promotion claim: how two Evaluate & Promote steps racing on one registered model end with at most
 * one promotion. MLflow has no compare-and-swap (a transition or alias move is last-writer-wins), so the
 * steps coordinate through one registered-model tag, `mlops.promotion.claim`:
 *
 * 1. read the tag; a live claim of another step (younger than the TTL) fails this step, naming it;
 * 2. write our claim (owner, the version we promote, time, random nonce) and measure, on our own
 *    monotonic clock, the time from sending that read to receiving the write's answer; at or above the
 *    settle interval the claim proves nothing and the round is repeated (bounded);
 * 3. wait the settle interval, then re-read the tag and the production model: proceed only if the tag is
 *    still our claim (our owner: a timed-out write of an earlier round may land late and replace our latest
 *    value) and production is still the version the models were compared with;
 * 4. (caller) tag the version, promote it, re-read production (it must be our version), release the claim
 *    (read, and delete only if it is still ours).
 *
 * Guarantee, and what it rests on: if two steps both pass step 3, the one that wrote first (A) saw its own
 * claim a full settle interval S after its write answered, so the other (B) wrote after that re-read; B
 * read the tag before A's write (otherwise it saw A's claim, which A holds until after its post-promotion
 * check), so B's read-to-write time exceeded S, which step 2 refuses. So at most one of two overlapping
 * steps promotes. A write of ours that timed out and lands late only ever puts our own claim back, which can
 * make another step fail, never pass (its round took at least the request timeout, so it was already void).
 * All this holds provided (a) the registry applies tag writes and reads in one order (a read after a
 * write's answer sees it, or a later write), (b) the agents' clocks run at the same rate (they need not
 * agree on the time), (c) a claim is only ignored once older than the TTL: a step finishes its promotion
 * well within it (it refuses to promote after holding the claim for a third of it) and the agents' wall
 * clocks differ by less than the rest, (d) the per-request timeout (60 s) is longer than the settle interval
 * (main.ts caps it at 30 s). Steps that do not use this protocol (a person in the UI, an older
 * task version) are not excluded; the re-read of production after the transition catches them moving
 * production after us, so this step never reports success for a version that is not in production.
 */
import { systemClock, type Clock } from '../../databricks/clock';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../pipeline/host';
import type { BuildContext } from './inputs';
import type { ProductionRef, ProductionRegistry } from './registry';

export const CLAIM_TAG = 'mlops.promotion.claim';
export const DEFAULT_SETTLE_MS = 5_000;
export const DEFAULT_CLAIM_TTL_MS = 15 * 60_000;
const MAX_ROUNDS = 3;

export interface ClaimOptions {
  /** How long a claim must stand unchallenged before the step promotes (default 5 s). */
  settleMs?: number;
  /** Age after which another step's claim is taken as abandoned (default 15 min). */
  ttlMs?: number;
  /**
   * Wall time for the claim's `at`, monotonic time for the durations the guarantee rests on, and the
   * settle sleep (default the system clock).
   */
  clock?: Clock;
  /** Nonce source (default 8 random bytes). */
  nonce?: () => string;
}

export interface Claim {
  owner: string;
  version: string;
  at: string;
  nonce: string;
}

/** `build <id>, step <task instance>`: a re-run of the same step (after a kill) owns the claim it left. */
export function claimOwner(build: BuildContext): string {
  const clean = (v: string) => v.replace(/[;=\s]+/g, '_');
  return `build ${clean(build.buildId)}, step ${clean(build.taskInstanceId)}`;
}

export function formatClaim(c: Claim): string {
  return `owner=${c.owner};version=${c.version};at=${c.at};nonce=${c.nonce}`;
}

/** Parses a claim tag value; undefined for anything else (a value we cannot read is held by someone unknown). */
export function parseClaim(raw: string | undefined): Claim | undefined {
  if (!raw) return undefined;
  const m = /^owner=([^;=]+);version=([1-9]\d*);at=([^;=]+);nonce=([0-9a-f]+)$/.exec(raw);
  if (!m) return undefined;
  return { owner: m[1], version: m[2], at: m[3], nonce: m[4] };
}

function describeOther(raw: string, c: Claim | undefined, modelName: string, tag: string): string {
  return c
    ? `Another Evaluate & Promote step (${c.owner}) is promoting ${modelName} version ${c.version} (claimed at ${c.at})`
    : `The promotion of ${modelName} is claimed by a value this task cannot read (${tag}=${raw.slice(0, 200)})`;
}

/** One step's claim on promoting one registered model (see the module comment for the protocol). */
export class PromotionClaim {
  private readonly settleMs: number;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly nonce: () => string;
  /** The value we wrote last (undefined before the first write and after a release). */
  private value: string | undefined;
  private acquiredAt: number | undefined;

  constructor(
    private readonly registry: Pick<ProductionRegistry, 'modelName' | 'tagKey' | 'getModelTag' | 'setModelTag' | 'deleteModelTag' | 'getProduction'>,
    private readonly owner: string,
    private readonly log: Pick<Logger, 'info'>,
    opts: ClaimOptions = {},
  ) {
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS;
    this.ttlMs = opts.ttlMs ?? DEFAULT_CLAIM_TTL_MS;
    this.clock = opts.clock ?? systemClock;
    this.nonce = opts.nonce ?? (() => randomBytes(8).toString('hex'));
  }

  /** Whether a claim read back is ours: our exact value, or one a killed earlier attempt of this step left. */
  private isOurs(raw: string | undefined): boolean {
    if (raw === undefined) return false;
    if (raw === this.value) return true;
    return parseClaim(raw)?.owner === this.owner;
  }

  /** The claim tag's key in this registry (`mlops.promotion.claim`, or `mlops_promotion_claim` in Unity Catalog). */
  private get tag(): string {
    return this.registry.tagKey(CLAIM_TAG);
  }

  private isLive(c: Claim | undefined): boolean {
    if (!c) return true;
    const at = Date.parse(c.at);
    return !Number.isFinite(at) || this.clock.now() - at < this.ttlMs;
  }

  /**
   * Claims the promotion of `version` over `expected` (the production model the models were compared
   * with). Returns once the claim stood for the settle interval with production unchanged; otherwise throws
   * a message naming the other claimant or the version production moved to (after releasing a claim that
   * is still ours).
   */
  async acquire(version: string, expected: ProductionRef | undefined, signal: AbortSignal): Promise<void> {
    try {
      await this.tryAcquire(version, expected, signal);
    } catch (err) {
      // Whatever failed (a claim lost, a write that timed out but may have landed, a cancel), a claim that is
      // still ours must not block other steps until it expires. release() deletes only our own claim.
      await this.release();
      throw err;
    }
  }

  private async tryAcquire(version: string, expected: ProductionRef | undefined, signal: AbortSignal): Promise<void> {
    const model = this.registry.modelName;
    const kept = `Nothing was promoted (version ${version} stays registered); run the evaluation again`;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const started = this.clock.monotonic();
      const current = await this.registry.getModelTag(CLAIM_TAG, signal);
      if (current && !this.isOurs(current)) {
        const other = parseClaim(current);
        if (this.isLive(other))
          throw new Error(
            `${describeOther(current, other, model, this.tag)}. ${kept} once it has finished, so that it compares against the new production model.`,
          );
        this.log.info(
          `Ignoring the abandoned promotion claim on ${model} (${other!.owner}, claimed at ${other!.at}, older than ${Math.round(this.ttlMs / 60000)} minutes).`,
        );
      }
      const value = formatClaim({ owner: this.owner, version, at: new Date(this.clock.now()).toISOString(), nonce: this.nonce() });
      this.value = value;
      await this.registry.setModelTag(CLAIM_TAG, value, signal);
      const took = this.clock.monotonic() - started;
      if (took >= this.settleMs) {
        this.log.info(
          `Claiming the promotion of ${model} took ${Math.round(took)} ms (not under the ${this.settleMs} ms settle interval), so it proves nothing; claiming again.`,
        );
        continue;
      }
      this.log.info(`Claimed the promotion of ${model} version ${version} (${this.tag}); checking in ${this.settleMs} ms that no other step claimed it too.`);
      await this.clock.sleep(this.settleMs, signal);
      const after = await this.registry.getModelTag(CLAIM_TAG, signal);
      // Ours by owner, not only by value: a write of ours that timed out (an earlier round) may land late and
      // replace our latest value. That can only make another step see our claim, never make two steps pass.
      if (!this.isOurs(after)) {
        const other = parseClaim(after);
        const reason = after
          ? other
            ? `Another Evaluate & Promote step (${other.owner}) claimed the promotion of ${model} version ${other.version} at the same time (at ${other.at}), after this step`
            : `The promotion claim on ${model} was overwritten with a value this task cannot read (${this.tag}=${after.slice(0, 200)})`
          : `The promotion claim on ${model} was removed while this step waited for it to settle`;
        throw new Error(`${reason}. ${kept}.`);
      }
      const production = await this.registry.getProduction(signal);
      if ((production?.version ?? null) !== (expected?.version ?? null)) {
        throw new Error(
          `The production model changed during the evaluation: it was ${expected ? `version ${expected.version}` : 'no production model'} when the models were compared and is now ${production ? `version ${production.version}` : 'no production model'}. ${kept}.`,
        );
      }
      this.acquiredAt = this.clock.monotonic();
      return;
    }
    throw new Error(
      `Could not claim the promotion of ${model}: each of ${MAX_ROUNDS} attempts took longer than the ${this.settleMs} ms settle interval (the registry is answering slowly). ${kept}.`,
    );
  }

  /** Throws when the claim has been held too long to still exclude others (they may take it as abandoned). */
  checkStillHeld(): void {
    if (this.acquiredAt !== undefined && this.clock.monotonic() - this.acquiredAt > this.ttlMs / 3) {
      throw new Error(
        `This step held the promotion claim on ${this.registry.modelName} for more than ${Math.round(this.ttlMs / 3 / 1000)} s before promoting; other steps may take it as abandoned, so nothing was promoted. Run the evaluation again.`,
      );
    }
  }

  /**
   * Deletes the claim if it is still ours (best effort: a claim left behind expires after the TTL, and a
   * re-run of this step owns it). Returns a problem description instead of throwing.
   */
  async release(): Promise<string | undefined> {
    if (this.value === undefined) return undefined;
    const model = this.registry.modelName;
    try {
      // No signal: the release also runs after a pipeline cancel, within the agent's window.
      const current = await this.registry.getModelTag(CLAIM_TAG);
      if (this.isOurs(current)) await this.registry.deleteModelTag(CLAIM_TAG);
      this.value = undefined;
      return undefined;
    } catch (err) {
      const msg = (err instanceof Error ? err.message : String(err)).trim().replace(/\.+$/, '');
      return `the promotion claim on ${model} (registered-model tag ${this.tag}) could not be cleared (${msg}); other Evaluate & Promote steps of this model fail until it expires after ${Math.round(this.ttlMs / 60000)} minutes or the tag is deleted`;
    }
  }
}
