/**
 * The simulated pool, one minute at a time (docs/simulator.md):
 * - a task serves `capacityPerTask` req/s while latency holds; a task asked
 *   for becomes ready `startupMinutes` later (Fargate 1, GPU instance 5);
 * - requests that ready capacity cannot serve wait in a backlog that drains
 *   when capacity frees up; queue and lag metrics read backlog + in flight;
 * - CPU is the busy share of ready capacity; p95 latency grows with
 *   utilisation and with the time the backlog takes to drain.
 * A batch pool's world (`queue`) is an SQS queue instead: the backlog is the
 * visible messages, served oldest first; a task works on one message at a
 * time; the oldest message's age is tracked; and scale-in stops idle tasks
 * only — a task mid-message finishes it first (ECS task scale-in protection).
 */

export interface WorldModel {
  readonly capacityPerTask: number;
  readonly startupMinutes: number;
  /** p95 latency of an idle pool, ms. */
  readonly baseP95Ms: number;
  /**
   * A batch pool: the backlog is an SQS queue's visible messages; the SLO is
   * the age of the oldest message (a minute whose oldest waiting message is
   * older than `maxMessageAgeSeconds` misses it).
   */
  readonly queue?: { readonly maxMessageAgeSeconds: number };
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
  /** Batch pools: messages being worked on (ApproximateNumberOfMessagesNotVisible), the busy tasks' mean over the minute. */
  readonly inFlight?: number;
  /** Batch pools: seconds the oldest waiting message has waited at the end of the minute (0 with an empty queue). */
  readonly messageAgeSeconds?: number;
  /** Batch pools: tasks that scale-in asked to stop while mid-message, finishing it (paid, taking no new message). */
  readonly draining?: number;
}

/** Latency past this is "forever" (no capacity at all). */
const MAX_LATENCY_MS = 60_000;
/** Backlog worth more than this share of a minute's capacity misses the SLO (a few seconds of queueing). */
export const VIOLATION_BACKLOG_SHARE = 0.05;

/**
 * A FIFO of the messages waiting in a batch pool's queue, by the minute they
 * arrived (spread evenly over it): what the age of the oldest message is.
 * One entry per minute that still has messages waiting, so it holds as many
 * entries as the oldest message is minutes old.
 */
export class MessageQueue {
  private minutes: number[] = [];
  private counts: number[] = [];
  private remaining: number[] = [];
  private head = 0;

  /** `count` messages arrived during minute `minute`. */
  arrive(minute: number, count: number): void {
    if (count > 0) {
      this.minutes.push(minute);
      this.counts.push(count);
      this.remaining.push(count);
    }
  }

  /** `count` messages were taken, oldest first. */
  take(count: number): void {
    let left = count;
    while (left > 0 && this.head < this.minutes.length) {
      const r = this.remaining[this.head]!;
      // Float noise: what is left of a minute's messages after taking "all" of them is nothing.
      if (r <= left + 1e-9 * this.counts[this.head]!) {
        left -= r;
        this.head++;
      } else {
        this.remaining[this.head] = r - left;
        left = 0;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.minutes.length) {
      this.minutes = this.minutes.slice(this.head);
      this.counts = this.counts.slice(this.head);
      this.remaining = this.remaining.slice(this.head);
      this.head = 0;
    }
  }

  /** Seconds the oldest waiting message has waited at `endMinute` (the end of the minute before it); 0 when none waits. */
  oldestAgeSeconds(endMinute: number): number {
    if (this.head >= this.minutes.length) return 0;
    const c = this.counts[this.head]!;
    // The first (c − remaining) of the minute's messages were taken: the oldest left arrived that far into it.
    const arrived = this.minutes[this.head]! + (c - this.remaining[this.head]!) / c;
    return Math.max(0, (endMinute - arrived) * 60);
  }

  /** Minutes with messages still waiting (the bound on this buffer). */
  get length(): number {
    return this.minutes.length - this.head;
  }
}

export class PoolWorld {
  private ready: number;
  /** Minute at which each starting task becomes ready. */
  private starting: number[] = [];
  private backlog = 0;
  private desiredCount: number;
  /** Batch pools: the queue's messages by arrival, tasks busy at the end of the last minute, and tasks finishing a message (until when). */
  private readonly messages: MessageQueue | undefined;
  private busy = 0;
  private draining: number[] = [];
  /** Minutes a task asked to stop mid-message keeps running: one message takes 1 / capacityPerTask seconds. */
  private readonly finishMinutes: number;

  constructor(
    private readonly model: WorldModel,
    initial: number,
  ) {
    this.ready = initial;
    this.desiredCount = initial;
    this.messages = model.queue ? new MessageQueue() : undefined;
    this.finishMinutes = Math.max(1, Math.ceil(1 / model.capacityPerTask / 60 - 1e-9));
  }

  get desired(): number {
    return this.desiredCount;
  }

  get readyTasks(): number {
    return this.ready;
  }

  /**
   * Ask for `n` tasks from minute `minute` on: new ones start, surplus ones
   * stop (starting ones first). In a batch pool, surplus ready tasks that are
   * idle stop at once and busy ones finish their message first (scale-in
   * protection); a task still finishing one counts as running again if
   * desired grows back.
   */
  setDesired(n: number, minute: number): number {
    const target = Math.max(0, Math.round(n));
    const have = this.ready + this.starting.length;
    let launched = Math.max(0, target - have);
    if (target > have && this.messages && this.draining.length > 0) {
      // ECS never stopped them (protected): they are running tasks, not new ones.
      const back = Math.min(launched, this.draining.length);
      this.draining.splice(0, back);
      this.ready += back;
      launched -= back;
    }
    if (launched > 0) {
      for (let i = 0; i < launched; i++) this.starting.push(minute + this.model.startupMinutes);
    } else if (target < have) {
      let surplus = have - target;
      this.starting.sort((a, b) => a - b);
      while (surplus > 0 && this.starting.length > 0) {
        this.starting.pop();
        surplus--;
      }
      if (this.messages) {
        const idle = Math.max(0, this.ready - this.busy);
        const now = Math.min(surplus, idle);
        this.ready -= now;
        surplus -= now;
        this.busy -= surplus;
        for (let i = 0; i < surplus; i++) this.draining.push(minute + this.finishMinutes);
      }
      this.ready -= surplus;
    }
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

    if (this.draining.length > 0) this.draining = this.draining.filter((t) => t > minute);

    const arrivals = loadRps * 60;
    const capacity = this.ready * this.model.capacityPerTask * 60;
    const demand = this.backlog + arrivals;
    const processed = Math.min(demand, capacity);
    this.backlog = demand - processed;
    if (this.messages) return this.queueMinute(minute, loadRps, arrivals, processed, capacity);

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

  /**
   * A batch pool's minute: the queue's visible messages are the backlog (what
   * `queueDepth` reads), busy tasks are the messages in flight (one message
   * per task at a time: in flight = processed ÷ per-task capacity), and the
   * SLO is the oldest message's age.
   */
  private queueMinute(minute: number, loadRps: number, arrivals: number, processed: number, capacity: number): MinuteState {
    const q = this.messages!;
    q.arrive(minute, arrivals);
    q.take(processed);
    if (this.backlog < 1e-9) this.backlog = 0;
    const inFlight = processed / (this.model.capacityPerTask * 60);
    this.busy = Math.min(this.ready, Math.ceil(inFlight - 1e-9));
    const age = this.backlog > 0 ? q.oldestAgeSeconds(minute + 1) : 0;
    const utilisation = capacity > 0 ? processed / capacity : undefined;
    let p95: number | undefined;
    if (capacity > 0) p95 = Math.min(MAX_LATENCY_MS, this.model.baseP95Ms / (1 - 0.8 * Math.min(utilisation!, 1)) + 1000 * age);
    else if (this.backlog > 0) p95 = MAX_LATENCY_MS;
    return {
      loadRps,
      tasks: this.ready + this.starting.length + this.draining.length,
      ready: this.ready,
      desired: this.desiredCount,
      backlog: this.backlog,
      servedRps: processed / 60,
      queueDepth: this.backlog,
      cpu: utilisation === undefined ? undefined : 100 * utilisation,
      p95Ms: p95,
      p99Ms: p95 === undefined ? undefined : Math.min(MAX_LATENCY_MS, 1.5 * p95),
      violation: age > this.model.queue!.maxMessageAgeSeconds,
      inFlight,
      messageAgeSeconds: age,
      draining: this.draining.length,
    };
  }
}
