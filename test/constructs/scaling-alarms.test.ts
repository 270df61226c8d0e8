import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ScalingAlarms } from '../../lib/constructs/scaling-alarms';
import { existingTopic, freshStack, productionEnvironment } from './fixtures';

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function build(emergencyKinds?: ['emergencyLatency' | 'cpu']) {
  const stack = freshStack();
  const env = productionEnvironment();
  const alarms = new ScalingAlarms(stack, 'Alarms', {
    namePrefix: 'pipestream-production',
    clusterName: 'pipestream-production',
    pools: env.pools,
    thresholds: env.thresholds,
    topic: existingTopic(stack),
    ...(emergencyKinds ? { emergencyKinds } : {}),
  });
  return { alarms, template: Template.fromStack(stack) };
}

const alarmProps = (t: Template, name: string): Props => {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } })) as { Properties: Props }[];
  expect(found, name).toHaveLength(1);
  return found[0]!.Properties;
};

describe('Construct: ScalingAlarms', () => {
  it('gives each pool the runbook alarms its kind has, every one notifying the topic', () => {
    const { alarms, template: t } = build();
    expect(alarms.forPool('engine')).toHaveLength(7);
    expect(alarms.forPool('cpu-modules')).toHaveLength(5);
    expect(alarms.forPool('gpu-modules')).toHaveLength(5);
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as { Properties: Props }[]) {
      expect(a.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
    }
    expect(alarmProps(t, 'pipestream-production-engine-cpu')).toMatchObject({ Namespace: 'AWS/ECS', MetricName: 'CPUUtilization', Threshold: 70, EvaluationPeriods: 5 });
  });

  it('divides pending work by running tasks for the queue alarms', () => {
    const props = alarmProps(build().template, 'pipestream-production-cpu-modules-queueDepth');
    expect(props.Metrics).toContainEqual(expect.objectContaining({ Expression: 'IF(running > 0, work / running, work)', ReturnData: true }));
    expect(JSON.stringify(props.Metrics)).toContain('"ClusterName","Value":"pipestream-production"');
  });

  it('marks the emergency kinds of emergency-enabled pools, which also notify when they are OK again', () => {
    const { alarms, template: t } = build();
    // The scale-to-zero pool has no emergency by default.
    expect(alarms.emergencyAlarms.map((a) => `${a.pool.name}-${a.spec.kind}`)).toEqual(['engine-emergencyLatency']);
    expect(alarmProps(t, 'pipestream-production-engine-emergencyLatency').OKActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:oncall']);
    expect(alarmProps(t, 'pipestream-production-engine-cpu').OKActions).toBeUndefined();
    expect(alarmProps(t, 'pipestream-production-engine-emergencyLatency').AlarmDescription).toMatch(/Starts the emergency runbook\.$/);
  });

  it('takes other emergency kinds', () => {
    const { alarms } = build(['cpu']);
    expect(alarms.emergencyAlarms.map((a) => `${a.pool.name}-${a.spec.kind}`)).toEqual(['engine-cpu', 'cpu-modules-cpu']);
  });
});
