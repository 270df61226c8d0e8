import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type IncidentRecord, type IncidentStatus } from '../core/emergency';
import { dynamodb } from './clients/dynamodb';
import { retrying } from './retry';

/** Where incidents are recorded: one item per target, its latest incident. */
export interface IncidentStore {
  /** True when claims are atomic (concurrent triggers cannot both win). */
  readonly atomic: boolean;
  current(target: string): Promise<IncidentRecord | undefined>;
  /** Record a new open incident unless one is open; false when another trigger got there first. */
  claim(record: IncidentRecord): Promise<boolean>;
  /** Close (or fail) the incident that `record` opened. */
  settle(record: IncidentRecord, status: Exclude<IncidentStatus, 'open'>, at: Date): Promise<void>;
}

/**
 * DynamoDB store: the claim is a conditional put ("no item, or its incident
 * is not open"), so of any number of concurrent triggers exactly one doubles.
 */
export class DynamoIncidentStore implements IncidentStore {
  readonly atomic = true;

  constructor(private readonly table: string) {}

  async current(target: string): Promise<IncidentRecord | undefined> {
    const res = await retrying(() =>
      dynamodb.send(new GetItemCommand({ TableName: this.table, Key: { target: { S: target } }, ConsistentRead: true })),
    );
    const json = res.Item?.record?.S;
    return json ? (JSON.parse(json) as IncidentRecord) : undefined;
  }

  async claim(record: IncidentRecord): Promise<boolean> {
    // A retried put whose first attempt took effect (response lost) fails the condition on its own item:
    // the token tells that apart from another trigger's claim.
    const token = randomUUID();
    try {
      await retrying(() =>
        dynamodb.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              target: { S: record.target },
              status: { S: 'open' },
              incidentId: { S: record.incidentId },
              record: { S: JSON.stringify(record) },
              claimToken: { S: token },
            },
            ConditionExpression: 'attribute_not_exists(#target) OR #status <> :open',
            ExpressionAttributeNames: { '#target': 'target', '#status': 'status' },
            ExpressionAttributeValues: { ':open': { S: 'open' } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
        return (err as ConditionalCheckFailedException).Item?.claimToken?.S === token;
      }
      throw err;
    }
  }

  async settle(record: IncidentRecord, status: Exclude<IncidentStatus, 'open'>, at: Date): Promise<void> {
    const closed: IncidentRecord = { ...record, status, closedAt: at.toISOString() };
    await retrying(() =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { target: { S: record.target } },
          UpdateExpression: 'SET #status = :status, #record = :record',
          ConditionExpression: '#incidentId = :id',
          ExpressionAttributeNames: { '#status': 'status', '#record': 'record', '#incidentId': 'incidentId' },
          ExpressionAttributeValues: { ':status': { S: status }, ':record': { S: JSON.stringify(closed) }, ':id': { S: record.incidentId } },
        }),
      ),
    );
  }
}
