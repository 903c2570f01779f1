/**
 * Runs one synchronous invocation: find the function's current version (cached), get an
 * environment, hand the event over the Runtime API, classify what came back, make the ledger
 * entry durable, and only then release the result. The lease is released in `finally` on every
 * path. Function failures are returned as values; platform failures are thrown as GantryError.
 */
import type { Logger } from '../../common/logger.js';
import { GantryError } from '../../common/errors.js';
import type { FunctionCache } from '../functions/function-cache.js';
import { LATEST, type FunctionRecord, type FunctionVersion, type TenantId } from '../functions/function-types.js';
import { combineQualifiers, resolveQualifier } from '../functions/qualifier.js';
import { billedDurationMs } from '../metering/pricing/billing.js';
import type { ColdStartKind, InvocationSource, LedgerEntry, MeteringGate, MeteringLedger } from '../metering/ledger.js';
import { newInvocationId } from './invocation-id.js';
import type { ControlPlaneMetrics } from '../metrics.js';
import type { RuntimeReply } from '../runtime-api/runtime-reply.js';
import { functionArn, splitQualifiedName } from '../functions/lambda-contract.js';
import type { ConcurrencyLimiter } from '../scheduler/concurrency-limiter.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { reportLine } from '../logs/environment-log.js';
import { classifyInitFailure, classifyReply, type Classified } from './classify.js';

export interface InvokeRequest {
  readonly tenantId: TenantId;
  /** The function's name, or `name:qualifier` (Lambda's partial ARN form). */
  readonly functionName: string;
  /** `$LATEST` (the default), a published version number or an alias; must agree with one in the name. */
  readonly qualifier?: string;
  readonly payload: Buffer;
  readonly source: InvocationSource;
  /** `X-Gantry-Log-Type: Tail`: return the last 4 KB of the invocation's log. */
  readonly logTail?: boolean;
  /** Async attempts run under the id the event was accepted with (default: a new one). */
  readonly invocationId?: string;
  /** Which attempt of that invocation this is (default 1); the ledger is keyed by id and attempt. */
  readonly attempt?: number;
}

export interface InvokeResult extends Classified {
  readonly invocationId: string;
  readonly billedMs: number;
  readonly durationUs: number;
  readonly initDurationUs: number;
  readonly coldStart: ColdStartKind;
  /** `$LATEST` (when absent) or the published version number that ran (an alias's weights chose it). */
  readonly executedVersion?: string;
  /** The environment that ran it (absent when nothing ran, e.g. a cached init failure). */
  readonly environmentId?: string;
  /** Base64 of the log tail, when asked for. */
  readonly logResult?: string;
}

export interface InvokerDeps {
  readonly functions: FunctionCache;
  readonly scheduler: Scheduler;
  readonly limiter: ConcurrencyLimiter;
  readonly ledger: MeteringLedger;
  /** Refuses invocations that could not be metered and counts refused requests (none: no checks). */
  readonly gate?: MeteringGate;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
}

export interface InvokerOptions {
  readonly region: string;
  readonly nodeId: string;
}

/** An environment that died between two invocations never got the event: try another, a few times. */
const MAX_DELIVERY_ATTEMPTS = 3;
/** How long a warm runtime may take to poll `next` again after its previous answer. */
const POLL_WAIT_MS = 2_000;
/** Tail requests: output is complete once the stream was quiet this long (bounded below). */
const LOG_QUIET_MS = 5;
const LOG_SETTLE_MAX_MS = 150;

export class Invoker {
  private inFlight = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly deps: InvokerDeps,
    private readonly opts: InvokerOptions,
  ) {}

  get inFlightCount(): number {
    return this.inFlight;
  }

  async invoke(req: InvokeRequest): Promise<InvokeResult> {
    this.inFlight += 1;
    try {
      const { name, qualifier } = splitQualifiedName(req.functionName);
      const f = await this.deps.functions.get(req.tenantId, name);
      if (f === undefined) {
        throw new GantryError('ResourceNotFound', `Function not found: ${name}`, { component: 'invoke-api' });
      }
      const version = resolveQualifier(f, combineQualifiers(qualifier, req.qualifier)).record;
      const lease = this.admit(version);
      try {
        return await this.run(version, req, req.invocationId ?? newInvocationId());
      } catch (e) {
        // The node budget throttles too (scheduler): count it with the reserved-concurrency ones.
        if (e instanceof GantryError && e.type === 'TooManyRequests') this.deps.metrics.throttles.inc({ function: version.name });
        // Refused before any code ran (a metering failure comes after the run: not a refusal).
        if (e instanceof GantryError && (e.type === 'TooManyRequests' || (e.type === 'ServiceUnavailable' && e.component !== 'metering'))) {
          this.deps.gate?.rejected(version.tenantId, version.name, e.type === 'TooManyRequests' ? 'throttled' : 'unavailable');
        }
        throw e;
      } finally {
        lease.release();
      }
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  /** Nothing runs that could not be metered (503), nor over the function's concurrency (429). */
  private admit(f: FunctionRecord) {
    try {
      this.deps.gate?.admit();
    } catch (e) {
      this.deps.gate?.rejected(f.tenantId, f.name, 'unavailable');
      throw e;
    }
    try {
      return this.deps.limiter.acquire(f.functionId, f.reservedConcurrency);
    } catch (e) {
      this.deps.metrics.throttles.inc({ function: f.name });
      this.deps.gate?.rejected(f.tenantId, f.name, 'throttled');
      throw e;
    }
  }

  /** Resolves when no invocation is in flight (SIGTERM drain). */
  drained(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async run(version: FunctionRecord, req: InvokeRequest, invocationId: string): Promise<InvokeResult> {
    const startedAt = new Date();
    for (let attempt = 1; ; attempt++) {
      const acquired = await this.deps.scheduler.acquire(version);
      if (acquired.kind === 'init-failed') {
        const classified = classifyInitFailure(acquired.outcome, invocationId, version.timeoutMs);
        // A cached init failure ran nothing, so it is not metered (compat.md §9: only what runs is billed).
        if (acquired.cached) {
          this.deps.gate?.rejected(version.tenantId, version.name, 'init-failed');
          return { ...classified, invocationId, billedMs: 0, durationUs: 0, initDurationUs: 0, coldStart: 'none', executedVersion: version.executedVersion ?? LATEST };
        }
        return this.finish(version, req, invocationId, startedAt, classified, 0, acquired.initDurationUs, acquired.coldStart);
      }
      const { lease } = acquired;
      let disposition: 'reuse' | 'discard' = 'discard';
      try {
        lease.log.begin(invocationId, version.executedVersion ?? LATEST);
        const reply = await lease.channel.dispatch(this.eventFor(version, req, invocationId), version.timeoutMs, POLL_WAIT_MS);
        if (reply.kind === 'not-delivered') {
          if (attempt < MAX_DELIVERY_ATTEMPTS) continue;
          throw new GantryError('ServiceUnavailable', 'No environment could take the invocation.', { component: 'scheduler' });
        }
        const classified = classifyReply(reply, invocationId, version.timeoutMs);
        disposition = classified.reusable ? 'reuse' : 'discard';
        const result = await this.finish(version, req, invocationId, startedAt, classified, durationUs(reply), lease.initDurationUs, lease.coldStart);
        // Output travels through the engine, beside the reply: when the tail is wanted, give the
        // last lines a moment to arrive. Otherwise nothing waits for logs.
        if (req.logTail) await lease.log.settle(LOG_QUIET_MS, LOG_SETTLE_MAX_MS);
        lease.log.end(reportLine({ requestId: invocationId, durationUs: result.durationUs, billedMs: result.billedMs, memoryMb: version.memoryMb, initDurationUs: result.initDurationUs }));
        const ran = { ...result, environmentId: lease.environmentId };
        return req.logTail ? { ...ran, logResult: Buffer.from(lease.log.tailText()).toString('base64') } : ran;
      } finally {
        lease.release(disposition);
      }
    }
  }

  private eventFor(version: FunctionVersion, req: InvokeRequest, invocationId: string) {
    return { requestId: invocationId, payload: req.payload, invokedFunctionArn: functionArn(this.opts.region, version.name, invokedQualifier(req)) };
  }

  private async finish(
    version: FunctionVersion,
    req: InvokeRequest,
    invocationId: string,
    startedAt: Date,
    classified: Classified,
    durationUsValue: number,
    initDurationUs: number,
    coldStart: ColdStartKind,
  ): Promise<InvokeResult> {
    const entry: LedgerEntry = {
      invocationId,
      attempt: req.attempt ?? 1,
      tenantId: version.tenantId,
      functionId: version.functionId,
      functionName: version.name,
      versionId: version.versionId,
      // Absent means $LATEST (ledger.ts), so entries of unversioned calls stay as they were.
      ...(version.executedVersion === undefined || version.executedVersion === LATEST ? {} : { executedVersion: version.executedVersion }),
      source: req.source,
      startedAt,
      durationUs: durationUsValue,
      initDurationUs,
      billedMs: billedDurationMs(durationUsValue, initDurationUs, version.timeoutMs),
      memoryMb: version.memoryMb,
      coldStart,
      status: classified.status,
      errorType: classified.errorType,
    };
    // Durable before the result is released (design.md, Metering).
    await this.deps.ledger.append(entry);
    this.observe(entry);
    return { ...classified, invocationId, billedMs: entry.billedMs, durationUs: durationUsValue, initDurationUs, coldStart, executedVersion: entry.executedVersion ?? LATEST };
  }

  private observe(e: LedgerEntry): void {
    const m = this.deps.metrics;
    m.invocations.inc({ function: e.functionName, outcome: e.status === 'succeeded' ? 'success' : e.errorType ?? 'error' });
    m.duration.observe(e.durationUs / 1e6);
    if (e.coldStart !== 'none') m.coldStarts.inc({ kind: e.coldStart });
    // Per call, so debug: the ledger and /metrics carry the same facts at the default level.
    this.deps.logger.debug(
      {
        invocationId: e.invocationId,
        function: e.functionName,
        version: e.versionId,
        source: e.source,
        coldStart: e.coldStart,
        initUs: e.initDurationUs,
        durationUs: e.durationUs,
        billedMs: e.billedMs,
        status: e.status,
        errorType: e.errorType,
        node: this.opts.nodeId,
      },
      'invocation finished',
    );
  }
}

/** Lambda's context.invokedFunctionArn carries the qualifier the caller used (an alias stays an alias). */
function invokedQualifier(req: InvokeRequest): string | undefined {
  return req.qualifier ?? splitQualifiedName(req.functionName).qualifier;
}

function durationUs(reply: Exclude<RuntimeReply, { kind: 'not-delivered' }>): number {
  return Number((reply.timing.endedAtNs - reply.timing.startedAtNs) / 1000n);
}
