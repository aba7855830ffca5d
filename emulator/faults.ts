/**
 * Fault injection: tests make the emulator misbehave the ways a real workspace or network does, for a
 * chosen request, a chosen number of times.
 */

export type FaultKind = 'status' | 'reset' | 'slow' | 'html' | 'truncate';

export interface FaultSpec {
  /** Only this method (any when absent). */
  method?: string;
  /** Exact path (without query) or a pattern tested against it. */
  path: string | RegExp;
  /**
   * - `status`: answer `status` (default 503) with a Databricks error body, before the route runs.
   * - `reset`: destroy the socket without answering, before the route runs.
   * - `slow`: wait `delayMs` (real time, default 2000) and then handle the request normally, so a client
   *   with a shorter timeout gives up although the server did the work.
   * - `html`: answer 200 text/html with a sign-in page, before the route runs.
   * - `truncate`: run the route, announce a content-length larger than the body, send the body, close.
   */
  kind: FaultKind;
  status?: number;
  /** Sent as `Retry-After` with a `status` fault. */
  retryAfterSeconds?: number;
  delayMs?: number;
  /** How many requests this fault answers; default 1, `Infinity` allowed. */
  times?: number;
  /** Let this many matching requests through first. */
  afterCalls?: number;
  /** Override the error body of a `status` fault. */
  errorCode?: string | number;
  message?: string;
}

export interface Fault extends Readonly<FaultSpec> {
  readonly id: number;
  /** Requests this fault answered. */
  readonly hits: number;
  /** Matching requests seen (including those let through by afterCalls). */
  readonly seen: number;
  /** A short label for the request log, e.g. `status:429`. */
  readonly label: string;
}

interface FaultState extends FaultSpec {
  id: number;
  hits: number;
  seen: number;
  label: string;
}

const DEFAULT_ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  409: 'RESOURCE_CONFLICT',
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** The body a `status` fault sends. */
export function faultErrorBody(f: FaultSpec): { error_code: string | number; message: string } {
  const status = f.status ?? 503;
  const code = f.errorCode ?? DEFAULT_ERROR_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
  const message =
    f.message ??
    (status === 429
      ? 'The service is receiving too many requests. Please retry after some time.'
      : status === 503
        ? 'The service is temporarily unavailable. Please try again later.'
        : `Injected fault: HTTP ${status}.`);
  return { error_code: code, message };
}

/** The HTML page a `html` fault (and a misrouted request in real life) returns. */
export const SIGN_IN_PAGE_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body><form method="post" action="https://login.microsoftonline.com/common/oauth2/authorize">
<div>Sign in</div><input type="email" name="loginfmt" placeholder="Email, phone, or Skype"></form></body></html>
`;

export class FaultRegistry {
  private readonly faults: FaultState[] = [];
  private nextId = 1;

  /** Adds a fault; returns a live view of its counters. */
  add(spec: FaultSpec): Fault {
    if (spec.kind === 'status' && spec.status !== undefined && (spec.status < 400 || spec.status > 599)) {
      throw new Error(`A status fault needs a 4xx/5xx status (got ${spec.status}).`);
    }
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new Error('A fault needs times > 0.');
    const label = spec.kind === 'status' ? `status:${spec.status ?? 503}` : spec.kind;
    const state: FaultState = { ...spec, times, afterCalls: spec.afterCalls ?? 0, id: this.nextId++, hits: 0, seen: 0, label };
    this.faults.push(state);
    return state;
  }

  clear(): void {
    this.faults.length = 0;
  }

  /** Every fault added since the last clear, with counters. */
  list(): readonly Fault[] {
    return this.faults;
  }

  /** The fault to apply to this request, if any; updates counters. */
  take(method: string, path: string): Fault | undefined {
    let chosen: FaultState | undefined;
    for (const f of this.faults) {
      if (f.method && f.method.toUpperCase() !== method.toUpperCase()) continue;
      if (typeof f.path === 'string' ? f.path !== path : !f.path.test(path)) continue;
      f.seen++;
      if (chosen) continue;
      if (f.seen <= (f.afterCalls ?? 0)) continue;
      if (f.hits >= (f.times ?? 1)) continue;
      f.hits++;
      chosen = f;
    }
    return chosen;
  }
}
