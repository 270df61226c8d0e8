import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { sfn } from './clients/sfn';
import { retrying } from './retry';

export interface ExecutionStatus {
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
  readonly error?: string;
  readonly cause?: string;
}

export async function describeExecution(executionArn: string): Promise<ExecutionStatus> {
  const res = await retrying(() => sfn.send(new DescribeExecutionCommand({ executionArn })));
  return {
    status: res.status ?? 'UNKNOWN',
    ...(res.startDate ? { startDate: res.startDate } : {}),
    ...(res.stopDate ? { stopDate: res.stopDate } : {}),
    ...(res.error ? { error: res.error } : {}),
    ...(res.cause ? { cause: res.cause } : {}),
  };
}

export interface StateEntered {
  readonly id: number;
  readonly name: string;
  /** The event type, e.g. TaskStateEntered. */
  readonly type: string;
  readonly at?: Date;
}

/**
 * States entered after event `afterId`, oldest first. Reads the history
 * newest first and stops at the first event already seen, so following a
 * long execution reads only what is new.
 */
export async function statesEnteredSince(executionArn: string, afterId: number): Promise<{ states: StateEntered[]; lastId: number }> {
  const fresh: HistoryEvent[] = [];
  let nextToken: string | undefined;
  let seenOld = false;
  do {
    const res = await retrying(() => sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, nextToken })));
    for (const e of res.events ?? []) {
      if ((e.id ?? 0) <= afterId) {
        seenOld = true;
        break;
      }
      fresh.push(e);
    }
    nextToken = res.nextToken;
  } while (nextToken && !seenOld);
  fresh.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const states = fresh
    .filter((e) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name)
    .map((e) => ({ id: e.id ?? 0, name: e.stateEnteredEventDetails!.name!, type: e.type!, ...(e.timestamp ? { at: e.timestamp } : {}) }));
  return { states, lastId: fresh.reduce((max, e) => Math.max(max, e.id ?? 0), afterId) };
}
