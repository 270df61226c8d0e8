import { ECSClient, ListServicesCommand } from '@aws-sdk/client-ecs';
import { EKSClient, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { GetExecutionHistoryCommand, type HistoryEvent, type HistoryEventType, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it } from 'vitest';
import { listServiceNames } from '../../lambdas/aws/ecs';
import { listNodegroupNames } from '../../lambdas/aws/eks';
import { executionArnOf, findStateMachineArn, statesEnteredSince } from '../../lambdas/aws/step-functions';

const ecs = mockClient(ECSClient);
const eks = mockClient(EKSClient);
const sfn = mockClient(SFNClient);
afterEach(() => [ecs, eks, sfn].forEach((m) => m.reset()));
const machine = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;

describe('Adapters: the CLI’s reads page through every result', () => {
  it('lists service names from both ECS ARN formats across pages', async () => {
    ecs
      .on(ListServicesCommand, { cluster: 'c', nextToken: undefined })
      .resolves({ serviceArns: ['arn:aws:ecs:eu-west-1:1:service/c/new-format'], nextToken: 't1' })
      .on(ListServicesCommand, { cluster: 'c', nextToken: 't1' })
      .resolves({ serviceArns: ['arn:aws:ecs:eu-west-1:1:service/old-format'] });
    expect(await listServiceNames('c')).toEqual(['new-format', 'old-format']);
  });

  it('lists node groups across pages', async () => {
    eks
      .on(ListNodegroupsCommand, { clusterName: 'k', nextToken: undefined })
      .resolves({ nodegroups: ['a'], nextToken: 'n' })
      .on(ListNodegroupsCommand, { clusterName: 'k', nextToken: 'n' })
      .resolves({ nodegroups: ['b'] });
    expect(await listNodegroupNames('k')).toEqual(['a', 'b']);
  });

  it('finds a state machine on a later page, and says when there is none', async () => {
    sfn
      .on(ListStateMachinesCommand, { nextToken: undefined })
      .resolves({ stateMachines: [{ name: 'x', stateMachineArn: machine('x'), type: 'STANDARD', creationDate: new Date() }], nextToken: 'p2' })
      .on(ListStateMachinesCommand, { nextToken: 'p2' })
      .resolves({ stateMachines: [{ name: 'wanted', stateMachineArn: machine('wanted'), type: 'STANDARD', creationDate: new Date() }] });
    expect(await findStateMachineArn('wanted')).toBe(machine('wanted'));
    expect(await findStateMachineArn('missing')).toBeUndefined();
  });

  it('derives an execution ARN from its state machine and name', () => {
    expect(executionArnOf(machine('sm'), 'run-1')).toBe('arn:aws:states:eu-west-1:123456789012:execution:sm:run-1');
  });

  it('reads history newest first and stops at the first event already seen', async () => {
    const ev = (id: number, name?: string): HistoryEvent => ({
      id,
      type: (name ? 'TaskStateEntered' : 'TaskStateExited') as HistoryEventType,
      timestamp: new Date(1_000 * id),
      ...(name ? { stateEnteredEventDetails: { name } } : {}),
    });
    sfn
      .on(GetExecutionHistoryCommand, { nextToken: undefined })
      .resolves({ events: [ev(9, 'D'), ev(8), ev(7, 'C')], nextToken: 'older' })
      .on(GetExecutionHistoryCommand, { nextToken: 'older' })
      .resolves({ events: [ev(6), ev(5, 'B'), ev(4), ev(3, 'A')], nextToken: 'oldest' });
    const fresh = await statesEnteredSince('arn:exec', 4);
    expect(fresh.states.map((s) => s.name)).toEqual(['B', 'C', 'D']);
    expect(fresh.lastId).toBe(9);
    // The third page is never read: event 4 was already seen.
    expect(sfn).toHaveReceivedCommandTimes(GetExecutionHistoryCommand, 2);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: 'arn:exec', reverseOrder: true });
  });
});
