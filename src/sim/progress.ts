/**
 * A progress line on stderr for long simulations: written in place with \r,
 * only once the run has taken more than `afterMs` (2 s), at most every
 * `everyMs` (250 ms), and erased when the run ends. Only for a person at a
 * terminal: the CLI makes none when stdout is a document (-o json/yaml) or
 * stderr is not a TTY.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  readonly now?: () => number;
  readonly afterMs?: number;
  readonly everyMs?: number;
}

export class ProgressLine {
  private readonly now: () => number;
  private readonly started: number;
  private last = -Infinity;
  private width = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: ProgressOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Show `text()` if the run is long enough and the last update old enough (the text is made only then). */
  update(text: () => string): void {
    const t = this.now();
    if (t - this.started < (this.options.afterMs ?? 2_000) || t - this.last < (this.options.everyMs ?? 250)) return;
    this.last = t;
    const line = text();
    this.stream.write(`\r${line.padEnd(this.width)}`);
    this.width = Math.max(this.width, line.length);
  }

  /** Erase the line (if one was written), leaving the cursor where it started. */
  done(): void {
    if (this.width > 0) this.stream.write(`\r${' '.repeat(this.width)}\r`);
    this.width = 0;
  }
}

/** The progress line for a run, or none: only for a table on a terminal. */
export function progressLine(output: string, stream: ProgressStream, options?: ProgressOptions): ProgressLine | undefined {
  return output === 'table' && stream.isTTY === true ? new ProgressLine(stream, options) : undefined;
}

/** `simulating nyc_taxi.csv: 42 % (130,000 of 309,600 minutes)`. */
export function minutesProgress(label: string, done: number, total: number): string {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  return `${label}: ${pct} % (${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} minutes)`;
}
