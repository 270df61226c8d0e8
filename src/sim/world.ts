/**
 * The simulated pool, one minute at a time (docs/simulator.md):
 * - a task serves `capacityPerTask` req/s while latency holds; a task asked
 *   for becomes ready `startupMinutes` later (Fargate 1, GPU instance 5);
 * - requests that ready capacity cannot serve wait in a backlog that drains
 *   when capacity frees up; queue and lag metrics read backlog + in flight;
 * - CPU is the busy share of ready capacity; p95 latency grows with
 *   utilisation and with the time the backlog takes to drain.
 */

export interface WorldModel {
  readonly capacityPerTask: number;
  readonly startupMinutes: number;
  /** p95 latency of an idle pool, ms. */
  readonly baseP95Ms: number;
}

/** What one minute looked like: the datapoints CloudWatch would have. */
export interface MinuteState {
  readonly loadRps: number;
  /** Tasks existing this minute (starting + ready): what is paid for. */
  readonly tasks: number;
  readonly ready: number;
  readonly desired: number;
  /** Requests that could not be served this minute and wait for the next. */
  readonly backlog: number;
  /** Requests served per second this minute (what a request-count metric reads). */
  readonly servedRps: number;
  /**
   * What a queue-depth or Kafka-lag metric reads: the backlog plus the work in
   * flight (Little's law: arrival rate × mean time in the system).
   */
  readonly queueDepth: number;
  /** CPU %, undefined with no ready task (no datapoint). */
  readonly cpu: number | undefined;
  readonly p95Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly violation: boolean;
}

/** Latency past this is "forever" (no capacity at all). */
const MAX_LATENCY_MS = 60_000;
/** Backlog worth more than this share of a minute's capacity misses the SLO (a few seconds of queueing). */
export const VIOLATION_BACKLOG_SHARE = 0.05;

export class PoolWorld {
  private ready: number;
  /** Minute at which each starting task becomes ready. */
  private starting: number[] = [];
  private backlog = 0;
  private desiredCount: number;

  constructor(
    private readonly model: WorldModel,
    initial: number,
  ) {
    this.ready = initial;
    this.desiredCount = initial;
  }

  get desired(): number {
    return this.desiredCount;
  }

  get readyTasks(): number {
    return this.ready;
  }

  /** Ask for `n` tasks from minute `minute` on: new ones start, surplus ones stop (starting ones first). */
  setDesired(n: number, minute: number): number {
    const target = Math.max(0, Math.round(n));
    const have = this.ready + this.starting.length;
    if (target > have) {
      for (let i = have; i < target; i++) this.starting.push(minute + this.model.startupMinutes);
    } else if (target < have) {
      let surplus = have - target;
      this.starting.sort((a, b) => a - b);
      while (surplus > 0 && this.starting.length > 0) {
        this.starting.pop();
        surplus--;
      }
      this.ready -= surplus;
    }
    const launched = Math.max(0, target - have);
    this.desiredCount = target;
    return launched;
  }

  /** Advance one minute under `loadRps`. */
  step(minute: number, loadRps: number): MinuteState {
    let nowReady = 0;
    for (const t of this.starting) if (t <= minute) nowReady++;
    if (nowReady > 0) {
      this.starting = this.starting.filter((t) => t > minute);
      this.ready += nowReady;
    }

    const arrivals = loadRps * 60;
    const capacity = this.ready * this.model.capacityPerTask * 60;
    const demand = this.backlog + arrivals;
    const processed = Math.min(demand, capacity);
    this.backlog = demand - processed;

    const utilisation = capacity > 0 ? processed / capacity : undefined;
    let p95: number | undefined;
    if (capacity > 0) {
      const queueing = this.model.baseP95Ms / (1 - 0.8 * Math.min(utilisation!, 1));
      const drainSeconds = this.backlog / (capacity / 60);
      p95 = Math.min(MAX_LATENCY_MS, queueing + 1000 * drainSeconds);
    } else if (demand > 0) {
      p95 = MAX_LATENCY_MS;
    }
    const violation = capacity > 0 ? this.backlog > VIOLATION_BACKLOG_SHARE * capacity : demand > 0;
    // Mean time in the system taken as half the p95 (a long-tailed latency distribution).
    const inFlight = p95 !== undefined && capacity > 0 ? loadRps * (p95 / 2000) : 0;
    return {
      loadRps,
      tasks: this.ready + this.starting.length,
      ready: this.ready,
      desired: this.desiredCount,
      backlog: this.backlog,
      servedRps: processed / 60,
      queueDepth: this.backlog + inFlight,
      cpu: utilisation === undefined ? undefined : 100 * utilisation,
      p95Ms: p95,
      p99Ms: p95 === undefined ? undefined : Math.min(MAX_LATENCY_MS, 1.5 * p95),
      violation,
    };
  }
}
