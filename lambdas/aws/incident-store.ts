import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { OPENING_TIMEOUT_MS, type IncidentRecord, type IncidentStatus } from '../core/emergency';
import { dynamodb } from './clients/dynamodb';
import { retrying } from './retry';

/** Where incidents are recorded: one item per target, its latest incident. */
export interface IncidentStore {
  /** True when claims are atomic (concurrent triggers cannot both win). */
  readonly atomic: boolean;
  current(target: string): Promise<IncidentRecord | undefined>;
  /**
   * Claim the target for a new incident (status `opening`) unless an incident is
   * open or being opened; false when another trigger got there first.
   */
  claim(record: IncidentRecord, now: Date): Promise<boolean>;
  /** The claimed incident's state is recorded and about to be applied: it is open, and resume may act on it. */
  open(record: IncidentRecord): Promise<void>;
  /** Close (or fail) the incident that `record` opened. */
  settle(record: IncidentRecord, status: Exclude<IncidentStatus, 'open' | 'opening'>, at: Date): Promise<void>;
}

/**
 * DynamoDB store: the claim is a conditional put ("no item, or its incident
 * is neither open nor being opened"), so of any number of concurrent triggers
 * exactly one doubles; the claim is `opening` until the state before the
 * incident is read and recorded, so a resume never acts half-way.
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

  async claim(record: IncidentRecord, now: Date): Promise<boolean> {
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
              status: { S: 'opening' },
              incidentId: { S: record.incidentId },
              record: { S: JSON.stringify({ ...record, status: 'opening' }) },
              claimedAt: { N: String(now.getTime()) },
              claimToken: { S: token },
            },
            // Free, over, or a claim abandoned by a trigger that died half-way.
            ConditionExpression:
              'attribute_not_exists(#target) OR (#status <> :open AND #status <> :opening) OR (#status = :opening AND #claimedAt < :stale)',
            ExpressionAttributeNames: { '#target': 'target', '#status': 'status', '#claimedAt': 'claimedAt' },
            ExpressionAttributeValues: {
              ':open': { S: 'open' },
              ':opening': { S: 'opening' },
              ':stale': { N: String(now.getTime() - OPENING_TIMEOUT_MS) },
            },
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

  async open(record: IncidentRecord): Promise<void> {
    await retrying(() =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { target: { S: record.target } },
          UpdateExpression: 'SET #status = :open, #record = :record',
          ConditionExpression: '#incidentId = :id AND #status = :opening',
          ExpressionAttributeNames: { '#status': 'status', '#record': 'record', '#incidentId': 'incidentId' },
          ExpressionAttributeValues: {
            ':open': { S: 'open' },
            ':opening': { S: 'opening' },
            ':record': { S: JSON.stringify({ ...record, status: 'open' }) },
            ':id': { S: record.incidentId },
          },
        }),
      ),
    );
  }

  async settle(record: IncidentRecord, status: Exclude<IncidentStatus, 'open' | 'opening'>, at: Date): Promise<void> {
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
