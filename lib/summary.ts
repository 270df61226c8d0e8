import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { MlscaleStack } from './mlscale-stack';

/** A plain-text account of what each stack deploys: pools, policies, alarms. */
export function summarize(stacks: readonly MlscaleStack[], assembly: CloudAssembly): string {
  const lines: string[] = [];
  for (const stack of stacks) {
    const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string }> };
    const resources = Object.values(template.Resources);
    const count = (type: string) => resources.filter((r) => r.Type === type).length;
    const env = stack.envConfig;
    lines.push(`${stack.stackName} (environment ${env.name}, preset ${env.preset}, cluster ${env.clusterName}): ${resources.length} resources`);
    stack.pools.forEach((p, i) => {
      const pool = env.pools[i]!;
      const policies = [
        p.cpuPolicy && `CPU ${env.thresholds.cpuPercent} %`,
        p.consumerLagPolicy && `ConsumerLag ${env.thresholds.consumerLag}`,
        p.queuePerTaskPolicy && `queue ${env.thresholds.queueDepthPerTask}/task`,
        p.latencyPolicy && `p99 > ${env.thresholds.cpuModuleP99Ms} ms step`,
      ].filter(Boolean);
      const compute = pool.kind === 'scale-to-zero' && pool.compute.type === 'ec2-gpu' ? `EC2 ${pool.compute.instanceType}` : 'Fargate';
      lines.push(
        `  pool ${pool.name.padEnd(12)} ${pool.kind.padEnd(13)} ${String(pool.minCapacity).padStart(2)}-${String(pool.maxCapacity).padEnd(3)} ${compute.padEnd(16)} ` +
          (policies.length ? `target tracking / step: ${policies.join(', ')}` : 'no policies (scale-to-zero Lambda)'),
      );
    });
    lines.push(`  alarms ${count('AWS::CloudWatch::Alarm')}, dashboards ${count('AWS::CloudWatch::Dashboard')}, Lambda functions ${count('AWS::Lambda::Function')}, state machines ${count('AWS::StepFunctions::StateMachine')}`);
  }
  return lines.join('\n');
}
