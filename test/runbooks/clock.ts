/**
 * Virtual time for runbook executions. `Date` is faked (only `Date`: timers
 * stay real, so promises and the SDK mocks behave as usual), and a Wait
 * state moves the clock forward instead of sleeping. Executions may run
 * concurrently: the clock moves only when every live execution is waiting,
 * and then to the earliest wake-up, so two runbooks interleave as they would
 * in AWS and holds expire when their time comes.
 *
 * Nothing may start an execution from inside another one (a hook of a Task,
 * say): the outer one would be neither waiting nor done, and the clock would
 * never move. Run them side by side (`Promise.all`) with a start time instead.
 */
import { vi } from 'vitest';

export class VirtualClock {
  private live = 0;
  private sequence = 0;
  private readonly sleepers: { until: number; seq: number; wake: () => void }[] = [];
  private pending = false;

  /** Fake `Date` and set it to `at` (epoch ms). */
  start(at: number): void {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
    this.live = 0;
    this.sleepers.length = 0;
  }

  stop(): void {
    vi.useRealTimers();
  }

  /** An execution begins; call before its first await so a sibling cannot move the clock past its start. */
  enter(): void {
    this.live++;
  }

  /** An execution ended (whatever its status). */
  leave(): void {
    this.live--;
    this.advance();
  }

  /** Resolves once the clock reads `until` (at once if it already does). */
  sleepUntil(until: number): Promise<void> {
    if (until <= Date.now()) return Promise.resolve();
    return new Promise((wake) => {
      this.sleepers.push({ until, seq: this.sequence++, wake });
      this.advance();
    });
  }

  /** Move the clock forward to `at` between executions (never back). */
  advanceTo(at: number): void {
    if (this.live > 0) throw new Error('advanceTo while executions run: let their Wait states move the clock');
    if (at > Date.now()) vi.setSystemTime(at);
  }

  /**
   * Look again once what is runnable now has run (a macrotask later): an
   * execution started in the same tick as a sibling's first Wait is then counted.
   */
  private advance(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.step();
    });
  }

  private step(): void {
    if (this.sleepers.length === 0 || this.sleepers.length < this.live) return;
    this.sleepers.sort((a, b) => a.until - b.until || a.seq - b.seq);
    const next = this.sleepers.shift()!;
    if (next.until > Date.now()) vi.setSystemTime(next.until);
    next.wake();
  }
}
