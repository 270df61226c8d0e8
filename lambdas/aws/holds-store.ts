import {
  type AttributeValue,
  DeleteItemCommand,
  type DeleteItemCommandOutput,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { epochSeconds, holdProblem, type Hold } from '../core/holds';
import { dynamodb } from './clients/dynamodb';
import { isAwsError, paginate, send } from './send';

/**
 * Where holds live: one DynamoDB table `<pipeline>-<environment>-holds`,
 * partition key `target`, sort key `holder`, TTL on `expiresAt`. Reads are
 * strongly consistent, so a hold written by one actor is seen by the next
 * reconcile at once; writes are conditional where one incident or one event
 * must be one hold.
 */
export interface HoldStore {
  /** Every hold, expired ones included (the reconciler ignores those); by target. */
  all(): Promise<Map<string, Hold[]>>;
  /** One target's holds. */
  of(target: string): Promise<Hold[]>;
  /**
   * Write a hold. `ifAbsent`: only when this holder has no active hold on the
   * target (one incident, one event: one hold); returns 'exists' otherwise.
   */
  put(hold: Hold, options?: { readonly ifAbsent?: boolean; readonly now?: number }): Promise<'written' | 'exists'>;
  /**
   * Remove a hold; false when there was none. `reasonContains`: only the hold
   * whose reason has this text (the run that wrote it, `[run <name>]`); false,
   * and nothing removed, when the hold in force is another writer's.
   */
  release(target: string, holder: string, options?: { readonly reasonContains?: string }): Promise<boolean>;
  /** Where the holds are, for messages (`table pipestream-production-holds`, `memory`). */
  readonly where: string;
}

/** A hold that cannot be written: one line naming the field; nothing is written. */
export class HoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HoldError';
  }
}

function check(hold: Hold): void {
  const problem = holdProblem(hold);
  if (problem) throw new HoldError(`hold ${hold.holder || '?'} on ${hold.target || '?'}: ${problem}`);
}

/** A hold as the table's item (also what tests seed the fake table with). */
export function toItem(h: Hold): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    target: { S: h.target },
    holder: { S: h.holder },
    reason: { S: h.reason },
    createdAt: { N: String(h.createdAt) },
    expiresAt: { N: String(h.expiresAt) },
  };
  if (h.startsAt !== undefined) item.startsAt = { N: String(h.startsAt) };
  if (h.floor !== undefined) item.floor = { N: String(h.floor) };
  if (h.ceiling !== undefined) item.ceiling = { N: String(h.ceiling) };
  if (h.suspendScaleIn) item.suspendScaleIn = { BOOL: true };
  if (h.suspendScaleOut) item.suspendScaleOut = { BOOL: true };
  if (h.suspendScheduled) item.suspendScheduled = { BOOL: true };
  return item;
}

const num = (v: AttributeValue | undefined) => (v?.N !== undefined ? Number(v.N) : undefined);

/** An item as a hold; items that are not holds (written by hand, say) are skipped, not fatal. */
export function fromItem(item: Record<string, AttributeValue>): Hold | undefined {
  const target = item.target?.S;
  const holder = item.holder?.S;
  const expiresAt = num(item.expiresAt);
  if (!target || !holder || expiresAt === undefined || !Number.isFinite(expiresAt)) return undefined;
  const floor = num(item.floor);
  const ceiling = num(item.ceiling);
  const startsAt = num(item.startsAt);
  return {
    target,
    holder,
    reason: item.reason?.S ?? '',
    createdAt: num(item.createdAt) ?? 0,
    expiresAt,
    ...(startsAt !== undefined ? { startsAt } : {}),
    ...(floor !== undefined ? { floor } : {}),
    ...(ceiling !== undefined ? { ceiling } : {}),
    ...(item.suspendScaleIn?.BOOL ? { suspendScaleIn: true } : {}),
    ...(item.suspendScaleOut?.BOOL ? { suspendScaleOut: true } : {}),
    ...(item.suspendScheduled?.BOOL ? { suspendScheduled: true } : {}),
  };
}

function group(holds: readonly Hold[]): Map<string, Hold[]> {
  const out = new Map<string, Hold[]>();
  for (const h of holds) out.set(h.target, [...(out.get(h.target) ?? []), h]);
  return out;
}

export class DynamoHoldStore implements HoldStore {
  readonly where: string;

  constructor(private readonly table: string) {
    this.where = `table ${table}`;
  }

  async all(): Promise<Map<string, Hold[]>> {
    const pages = await paginate(
      (token) =>
        send<ScanCommandOutput>(
          dynamodb,
          new ScanCommand({ TableName: this.table, ConsistentRead: true, ...(token ? { ExclusiveStartKey: JSON.parse(token) as Record<string, AttributeValue> } : {}) }),
        ),
      (page) => (page.LastEvaluatedKey ? JSON.stringify(page.LastEvaluatedKey) : undefined),
    );
    return group(pages.flatMap((p) => (p.Items ?? []).map(fromItem).filter((h): h is Hold => h !== undefined)));
  }

  async of(target: string): Promise<Hold[]> {
    const pages = await paginate(
      (token) =>
        send<QueryCommandOutput>(
          dynamodb,
          new QueryCommand({
            TableName: this.table,
            ConsistentRead: true,
            KeyConditionExpression: '#target = :target',
            ExpressionAttributeNames: { '#target': 'target' },
            ExpressionAttributeValues: { ':target': { S: target } },
            ...(token ? { ExclusiveStartKey: JSON.parse(token) as Record<string, AttributeValue> } : {}),
          }),
        ),
      (page) => (page.LastEvaluatedKey ? JSON.stringify(page.LastEvaluatedKey) : undefined),
    );
    return pages.flatMap((p) => (p.Items ?? []).map(fromItem).filter((h): h is Hold => h !== undefined));
  }

  async put(hold: Hold, options: { ifAbsent?: boolean; now?: number } = {}): Promise<'written' | 'exists'> {
    check(hold);
    try {
      await send(
        dynamodb,
        new PutItemCommand({
          TableName: this.table,
          Item: toItem(hold),
          ...(options.ifAbsent
            ? {
                // Free, or a hold of this holder that has already expired (TTL deletes lazily).
                ConditionExpression: 'attribute_not_exists(#holder) OR #expiresAt <= :now',
                ExpressionAttributeNames: { '#holder': 'holder', '#expiresAt': 'expiresAt' },
                ExpressionAttributeValues: { ':now': { N: String(epochSeconds(options.now ?? Date.now())) } },
              }
            : {}),
        }),
      );
      return 'written';
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return 'exists';
      throw err;
    }
  }

  async release(target: string, holder: string, options: { reasonContains?: string } = {}): Promise<boolean> {
    try {
      const res = await send<DeleteItemCommandOutput>(
        dynamodb,
        new DeleteItemCommand({
          TableName: this.table,
          Key: { target: { S: target }, holder: { S: holder } },
          ReturnValues: 'ALL_OLD',
          ...(options.reasonContains !== undefined
            ? { ConditionExpression: 'contains(#reason, :owner)', ExpressionAttributeNames: { '#reason': 'reason' }, ExpressionAttributeValues: { ':owner': { S: options.reasonContains } } }
            : {}),
        }),
      );
      return Boolean(res.Attributes);
    } catch (err) {
      // Another writer's hold (or none): leave it.
      if (options.reasonContains !== undefined && isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }
}

/**
 * Holds kept in this process only: for a handler run by hand with no holds
 * table in its document (and for the simulator). Nothing outlives the process.
 */
export class MemoryHoldStore implements HoldStore {
  readonly where = 'memory (no holds table configured: holds last as long as this process)';
  private readonly holds = new Map<string, Hold>();

  constructor(initial: readonly Hold[] = []) {
    for (const h of initial) this.holds.set(`${h.target}\u0000${h.holder}`, h);
  }

  async all(): Promise<Map<string, Hold[]>> {
    return group([...this.holds.values()]);
  }

  async of(target: string): Promise<Hold[]> {
    return [...this.holds.values()].filter((h) => h.target === target);
  }

  async put(hold: Hold, options: { ifAbsent?: boolean; now?: number } = {}): Promise<'written' | 'exists'> {
    check(hold);
    const key = `${hold.target}\u0000${hold.holder}`;
    const held = this.holds.get(key);
    if (options.ifAbsent && held && held.expiresAt > epochSeconds(options.now ?? Date.now())) return 'exists';
    this.holds.set(key, hold);
    return 'written';
  }

  async release(target: string, holder: string, options: { reasonContains?: string } = {}): Promise<boolean> {
    const key = `${target}\u0000${holder}`;
    const held = this.holds.get(key);
    if (options.reasonContains !== undefined && !held?.reason.includes(options.reasonContains)) return false;
    return this.holds.delete(key);
  }
}
