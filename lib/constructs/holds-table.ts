import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface HoldsTableProps {
  /** `<pipeline>-<environment>-holds`: the CLI finds the table from the config by this name. */
  readonly tableName: string;
  /**
   * What happens to the table when the stack is deleted.
   * @default RemovalPolicy.RETAIN (it holds the state the reconciler and a resume need)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The holds table (DESIGN.md "Holds and the reconciler"): partition key
 * `target`, sort key `holder`, DynamoDB TTL on `expiresAt` (epoch seconds).
 * TTL only tidies up: the reconciler treats an expired hold as gone at once.
 */
export class HoldsTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: HoldsTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'target', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'holder', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
