import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { InferencePool } from '../../lib/constructs/inference-pool';
import { ScalingDashboard } from '../../lib/constructs/scaling-dashboard';
import { designDocument, existingCluster, freshStack } from './fixtures';

type Widget = { type: string; properties: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

function widgetsOf(t: Template): Widget[] {
  const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as { Properties: { DashboardBody: unknown } }[];
  // The body is a Fn::Join of strings and tokens; with the tokens as placeholders it parses as JSON.
  const body = dashboard!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

const metric = (metricName: string, statistic = 'Maximum') =>
  new cloudwatch.Metric({ namespace: 'Pipestream/Pipeline', metricName, dimensionsMap: { Pool: 'embedder' }, statistic, period: Duration.minutes(1) });

describe('Construct: ScalingDashboard', () => {
  it('shows alarm states first, then a row per pool: heading, tasks, CPU and memory, signal and latency', () => {
    const stack = freshStack();
    const pool = new InferencePool(stack, 'Embedder', {
      cluster: existingCluster(stack),
      serviceName: 'embedder',
      minCapacity: 0,
      maxCapacity: 5,
      containers: [{ name: 'model', image: ecs.ContainerImage.fromRegistry('busybox') }],
    });
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:pipestream-production-embedder-cpu');
    const dashboard = new ScalingDashboard(stack, 'Dashboard', { dashboardName: 'pipestream-production', alarms: [alarm] });
    dashboard.addPool(pool, { description: 'scale-to-zero', signal: [metric('QueueDepth').with({ label: 'Pending work' })], latency: [metric('Latency', 'p99')] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'pipestream-production' });
    const widgets = widgetsOf(t);
    expect(widgets.map((w) => w.properties.title ?? w.properties.markdown)).toEqual([
      'Alarm states',
      '### embedder (scale-to-zero, 0-5 tasks)',
      'embedder: desired vs running tasks',
      'embedder: CPU and memory %',
      'embedder: scaling signal and latency',
    ]);
    expect(JSON.stringify(widgets[2])).toContain('DesiredTaskCount');
    expect(JSON.stringify(widgets[4])).toContain('Pending work');
  });

  it('adds forecast-vs-actual graphs for predictive targets and the scalers\' invocations and errors', () => {
    const stack = freshStack();
    const dashboard = new ScalingDashboard(stack, 'Dashboard', { dashboardName: 'pipestream-production' });
    const document = designDocument((doc) => {
      doc.targets[0] = { ...doc.targets[0]!, predictive: { load: { namespace: 'Pipestream/Pipeline', metricName: 'RequestCount', dimensions: { Pool: 'engine' }, statistic: 'Sum' }, targetPerReplica: 50 } } as never;
    });
    dashboard.addForecasts(document.targets);
    dashboard.addScalers([{ name: 'Reconciler', fn: lambda.Function.fromFunctionName(stack, 'Fn', 'reconcile') }]);
    const titles = widgetsOf(Template.fromStack(stack)).map((w) => w.properties.title);
    // No alarms given: no alarm-state widget.
    expect(titles).toEqual(['engine: forecast vs actual load (req/s)', 'scalers: invocations and errors']);
  });
});
