import { describeExecution, statesEnteredSince, type ExecutionStatus, type StateEntered } from '../../lambdas/aws/step-functions';
import { sleep } from './watch';

export interface FollowResult extends ExecutionStatus {
  /** Names of the states entered, in order. */
  readonly states: readonly string[];
}

const clock = (d: Date | undefined) => (d ? d.toISOString().slice(11, 19) : '--:--:--');

export function duration(start: Date | undefined, stop: Date | undefined): string {
  if (!start || !stop) return '';
  const s = Math.max(0, Math.round((stop.getTime() - start.getTime()) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Poll an execution until it stops, printing one line per state entered
 * (`print`, with what `progress` adds for it; states `shown` refuses are
 * recorded but not printed), and return its final status. Reads the status before the history,
 * so the history read after a final status holds every state.
 */
export async function followExecution(
  executionArn: string,
  intervalMs: number,
  print: (line: string) => void,
  progress?: (state: StateEntered) => string | undefined,
  shown: (state: StateEntered) => boolean = () => true,
): Promise<FollowResult> {
  const states: string[] = [];
  let lastId = 0;
  for (;;) {
    const status = await describeExecution(executionArn);
    const fresh = await statesEnteredSince(executionArn, lastId);
    lastId = fresh.lastId;
    for (const s of fresh.states) {
      states.push(s.name);
      if (!shown(s)) continue;
      const detail = progress?.(s);
      print(`  ${clock(s.at)}  ${s.name}${detail ? `  (${detail})` : ''}`);
    }
    if (status.status !== 'RUNNING') return { ...status, states };
    await sleep(intervalMs);
  }
}
