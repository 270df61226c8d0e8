import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  ListStateMachinesCommand,
  type ListStateMachinesCommandOutput,
  StartExecutionCommand,
  type StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { sfn } from './clients/sfn';
import { isAwsError, paginate, send } from './send';

/**
 * Start a runbook execution under a name derived from its incident. A second
 * start of the same incident is rejected by Step Functions (names are unique
 * for 90 days): reported as `started: false`, not as a failure.
 */
export async function startRunbook(stateMachineArn: string, name: string, input: unknown): Promise<{ started: boolean; executionArn?: string }> {
  try {
    const res = await send<StartExecutionCommandOutput>(sfn, new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { started: true, ...(res.executionArn ? { executionArn: res.executionArn } : {}) };
  } catch (err) {
    if (isAwsError(err, 'ExecutionAlreadyExists')) return { started: false };
    throw err;
  }
}

/** The ARN of the state machine with this name, or undefined when there is none. */
export async function findStateMachineArn(name: string): Promise<string | undefined> {
  let found: string | undefined;
  await paginate(
    async (nextToken) => {
      const res = await send<ListStateMachinesCommandOutput>(sfn, new ListStateMachinesCommand({ nextToken }));
      found ??= (res.stateMachines ?? []).find((m) => m.name === name)?.stateMachineArn;
      return res;
    },
    (page) => (found ? undefined : page.nextToken),
  );
  return found;
}

/** `arn:…:stateMachine:<machine>` + name -> `arn:…:execution:<machine>:<name>` (how Step Functions names executions). */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

export interface ExecutionStatus {
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
  readonly error?: string;
  readonly cause?: string;
  readonly output?: string;
}

export async function describeExecution(executionArn: string): Promise<ExecutionStatus> {
  const res = await send<DescribeExecutionCommandOutput>(sfn, new DescribeExecutionCommand({ executionArn }));
  return {
    status: res.status ?? 'UNKNOWN',
    ...(res.startDate ? { startDate: res.startDate } : {}),
    ...(res.stopDate ? { stopDate: res.stopDate } : {}),
    ...(res.error ? { error: res.error } : {}),
    ...(res.cause ? { cause: res.cause } : {}),
    ...(res.output ? { output: res.output } : {}),
  };
}

export interface StateEntered {
  readonly id: number;
  readonly name: string;
  /** The event type, e.g. TaskStateEntered. */
  readonly type: string;
  readonly at?: Date;
  /** The state's input (JSON text), when the history carries it. */
  readonly input?: string;
}

/**
 * States entered after event `afterId`, oldest first. Reads the history
 * newest first and stops at the first event already seen, so following a
 * long execution reads only what is new.
 */
export async function statesEnteredSince(executionArn: string, afterId: number): Promise<{ states: StateEntered[]; lastId: number }> {
  const fresh: HistoryEvent[] = [];
  let seenOld = false;
  await paginate(
    async (nextToken) => {
      const res = await send<GetExecutionHistoryCommandOutput>(sfn, new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, nextToken }));
      for (const e of res.events ?? []) {
        if ((e.id ?? 0) <= afterId) {
          seenOld = true;
          break;
        }
        fresh.push(e);
      }
      return res;
    },
    (page) => (seenOld ? undefined : page.nextToken),
  );
  fresh.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const states = fresh
    .filter((e) => e.type?.endsWith('StateEntered') && e.stateEnteredEventDetails?.name)
    .map((e) => ({
      id: e.id ?? 0,
      name: e.stateEnteredEventDetails!.name!,
      type: e.type!,
      ...(e.timestamp ? { at: e.timestamp } : {}),
      ...(e.stateEnteredEventDetails!.input !== undefined ? { input: e.stateEnteredEventDetails!.input } : {}),
    }));
  return { states, lastId: fresh.reduce((max, e) => Math.max(max, e.id ?? 0), afterId) };
}
