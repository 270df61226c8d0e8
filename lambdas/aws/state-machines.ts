import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { sfn } from './clients/sfn';
import { retrying } from './retry';

/** The ARN of the state machine with this name, or undefined when there is none. */
export async function findStateMachineArn(name: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const res = await retrying(() => sfn.send(new ListStateMachinesCommand({ nextToken })));
    const match = (res.stateMachines ?? []).find((m) => m.name === name);
    if (match?.stateMachineArn) return match.stateMachineArn;
    nextToken = res.nextToken;
  } while (nextToken);
  return undefined;
}

/** `arn:…:stateMachine:<machine>` + name -> `arn:…:execution:<machine>:<name>` (how Step Functions names executions). */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}
