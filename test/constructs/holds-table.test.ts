import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { HoldsTable } from '../../lib/constructs/holds-table';
import { freshStack } from './fixtures';

describe('Construct: HoldsTable', () => {
  it('is keyed by target and holder, expires holds by TTL on expiresAt, and is retained with the stack', () => {
    const stack = freshStack();
    new HoldsTable(stack, 'Holds', { tableName: 'pipestream-production-holds' });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        TableName: 'pipestream-production-holds',
        KeySchema: [
          { AttributeName: 'target', KeyType: 'HASH' },
          { AttributeName: 'holder', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'target', AttributeType: 'S' },
          { AttributeName: 'holder', AttributeType: 'S' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('takes another removal policy when told (a throwaway environment)', () => {
    const stack = freshStack();
    new HoldsTable(stack, 'Holds', { tableName: 'pipestream-dev-holds', removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });
});
