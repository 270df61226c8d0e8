import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { nagFindings } from './nag-util';
import { exampleConfig } from './util';

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in any stack of the example config', () => {
    expect(nagFindings(exampleConfig())).toEqual([]);
  });

  it('finds nothing in an existing VPC with a Fargate scale-to-zero pool', () => {
    const config = exampleConfig();
    config.network = { vpcId: 'vpc-0abc1234def567890', privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'], availabilityZones: ['eu-west-1a', 'eu-west-1b'] };
    config.pools = config.pools.map((p) => (p.kind === 'scale-to-zero' ? { ...p, cpu: 1024, memoryMiB: 2048, compute: { type: 'fargate' as const } } : p));
    expect(nagFindings(config)).toEqual([]);
  });

  it('reports an unacknowledged finding (the check is live)', () => {
    const findings = nagFindings(exampleConfig(), (stacks) => {
      // A topic without encryption or an SSL-only policy: AwsSolutions-SNS2 and SNS3.
      new sns.Topic(stacks[0]!, 'PlainTopic');
    });
    expect(findings.some((f) => f.startsWith('AwsSolutions-SNS3') && f.includes('PlainTopic'))).toBe(true);
  });
});
