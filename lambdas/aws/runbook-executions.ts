import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfn } from './clients/sfn';
import { retrying } from './retry';

/**
 * Start a runbook execution under a name derived from its incident. A second
 * start of the same incident is rejected by Step Functions (names are unique
 * for 90 days): reported as `started: false`, not as a failure.
 */
export async function startRunbook(stateMachineArn: string, name: string, input: unknown): Promise<{ started: boolean; executionArn?: string }> {
  try {
    const res = await retrying(() => sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })));
    return { started: true, ...(res.executionArn ? { executionArn: res.executionArn } : {}) };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') return { started: false };
    throw err;
  }
}
