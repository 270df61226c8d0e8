/** What `main` is given besides argv: how a long-running command (`get --watch`) is told to stop. */
export interface RunContext {
  /** Aborting it ends `--watch` after the frame in progress. @default - SIGINT (Ctrl-C) ends it */
  readonly signal?: AbortSignal;
}

/** Wait `ms`, or less when `signal` aborts; true when the wait ran its full length. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (full: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(full);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `frame` now and every `intervalMs` until the signal aborts: the given
 * one, else Ctrl-C (listened to only while watching, so every other command
 * keeps Ctrl-C's default of ending the process).
 */
export async function watch(intervalMs: number, ctx: RunContext, frame: (n: number) => Promise<void>): Promise<void> {
  let signal = ctx.signal;
  let stop: (() => void) | undefined;
  if (!signal) {
    const controller = new AbortController();
    stop = () => controller.abort();
    process.once('SIGINT', stop);
    signal = controller.signal;
  }
  try {
    for (let n = 0; !signal.aborted; n++) {
      await frame(n);
      if (!(await sleep(intervalMs, signal))) break;
    }
  } finally {
    if (stop) process.removeListener('SIGINT', stop);
  }
}
