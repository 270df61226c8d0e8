import type { Command } from 'commander';
import { autoscaling } from '../../../lambdas/aws/clients/autoscaling';
import { ecs } from '../../../lambdas/aws/clients/ecs';
import { eks } from '../../../lambdas/aws/clients/eks';
import { setServiceDesired, updateServiceScaling } from '../../../lambdas/aws/ecs-services';
import { PAUSED_TAG } from '../../../lambdas/aws/eks-nodegroup-target';
import { tagNodegroup, untagNodegroup, updateNodegroupScaling } from '../../../lambdas/aws/eks-nodegroups';
import { NOT_SUSPENDED, type Suspension } from '../../../lambdas/core/emergency';
import { via } from '../aws';
import { CliError } from '../errors';
import { mustRead } from '../inventory';
import { out, outputOption, printJson, type OutputFormat } from '../output';
import { DEFAULT_NAMESPACE, qualified, type ResourceRef } from '../resource';

/** Everything automatic suspended: KEDA's "paused" on Application Auto Scaling. */
export const ALL_SUSPENDED: Suspension = { dynamicIn: true, dynamicOut: true, scheduled: true };

/** A node group's min size before `scale --replicas 0` lowered it (EKS needs min <= desired): resume restores it. */
export const PAUSED_MIN_TAG = 'mlscale:paused-min-size';

interface PauseOptions {
  readonly namespace: string;
  readonly output: OutputFormat;
}

export const resumeCommand = (ref: ResourceRef, namespace: string) => `mlscale resume ${ref.kind}/${ref.name} -n ${namespace}`;

function notAutoscaled(ref: ResourceRef, namespace: string, verb: string): CliError {
  return new CliError(`${qualified(ref)} in namespace '${namespace}' has no scalable target (Application Auto Scaling): nothing to ${verb}`);
}

async function pause(first: string, second: string | undefined, opts: PauseOptions): Promise<void> {
  const { ref, namespace, view } = await mustRead(first, second, opts.namespace);
  const lines: string[] = [];
  if (view.paused) {
    lines.push(`${qualified(ref)} is already paused in namespace ${namespace}`);
  } else if (ref.kind === 'service') {
    if (!view.limits) throw notAutoscaled(ref, namespace, 'pause');
    await via(autoscaling, () => updateServiceScaling(namespace, ref.name, { suspension: ALL_SUSPENDED }));
    lines.push(`${qualified(ref)} paused in namespace ${namespace}`);
    lines.push(`dynamic scaling in/out and scheduled scaling suspended; ${view.desired} replicas kept until '${resumeCommand(ref, namespace)}'`);
  } else {
    await via(eks, () => tagNodegroup(view.arn!, { [PAUSED_TAG]: 'true' }));
    lines.push(`${qualified(ref)} paused in namespace ${namespace}`);
    lines.push(`tagged ${PAUSED_TAG}=true: the scale-to-zero Lambda leaves it at ${view.desired} nodes until '${resumeCommand(ref, namespace)}'`);
  }
  report(opts.output, lines, { kind: ref.kind, name: ref.name, namespace, paused: true, changed: !view.paused, replicas: view.desired });
}

async function resume(first: string, second: string | undefined, opts: PauseOptions): Promise<void> {
  const { ref, namespace, view } = await mustRead(first, second, opts.namespace);
  const lines: string[] = [];
  let replicas = view.desired;
  let minCapacity = view.limits?.min ?? null;
  const s = view.suspension;
  const suspended = s.dynamicIn || s.dynamicOut || s.scheduled;
  let changed = true;
  if (ref.kind === 'service') {
    if (!view.limits) throw notAutoscaled(ref, namespace, 'resume');
    if (!suspended) {
      changed = false;
      lines.push(`${qualified(ref)} is not paused in namespace ${namespace}`);
    } else {
      await via(autoscaling, () => updateServiceScaling(namespace, ref.name, { suspension: NOT_SUSPENDED }));
      lines.push(`${qualified(ref)} resumed in namespace ${namespace}`);
      if (view.desired < view.limits.min) {
        // Back under the autoscaler, never below its minimum (after `scale --replicas 0`).
        replicas = view.limits.min;
        await via(ecs, () => setServiceDesired(namespace, ref.name, replicas));
        lines.push(`desired raised from ${view.desired} to ${replicas} replicas (min capacity)`);
      }
    }
  } else if (!view.paused) {
    changed = false;
    lines.push(`${qualified(ref)} is not paused in namespace ${namespace}`);
  } else {
    const savedMin = Number(view.tags?.[PAUSED_MIN_TAG]);
    await via(eks, () => untagNodegroup(view.arn!, [PAUSED_TAG, PAUSED_MIN_TAG]));
    lines.push(`${qualified(ref)} resumed in namespace ${namespace}`);
    const limits = view.limits!;
    if (Number.isInteger(savedMin) && savedMin > limits.min && savedMin <= limits.max) {
      replicas = Math.max(view.desired, savedMin);
      minCapacity = savedMin;
      await via(eks, () => updateNodegroupScaling(namespace, ref.name, { minSize: savedMin, desiredSize: replicas }));
      lines.push(`min capacity restored from ${limits.min} to ${savedMin}${replicas !== view.desired ? `; desired raised from ${view.desired} to ${replicas}` : ''}`);
    }
  }
  report(opts.output, lines, { kind: ref.kind, name: ref.name, namespace, paused: false, changed, replicas, minCapacity });
}

function report(format: OutputFormat, lines: readonly string[], json: Record<string, unknown>): void {
  if (format === 'json') printJson(json);
  else lines.forEach((l) => out(l));
}

export function registerPauseCommands(program: Command): void {
  for (const [verb, action, what] of [
    ['pause', pause, 'suspend automatic scaling (ECS: dynamic scale-in/out and scheduled scaling; node group: the mlscale:paused tag); capacity stays as it is'],
    ['resume', resume, 'hand a paused service or node group back to its autoscaler'],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME (or TYPE NAME)')
      .argument('[name]', 'the name, when TYPE is given as its own word')
      .option('-n, --namespace <namespace>', 'ECS cluster (services) or EKS cluster (node groups)', DEFAULT_NAMESPACE)
      .addOption(outputOption())
      .addHelpText('after', `\nExamples:\n  mlscale ${verb} engine -n pipestream\n  mlscale ${verb} nodegroup/gpu-workers -n ml-prod`)
      .action(async (first: string, second: string | undefined, opts: PauseOptions) => action(first, second, opts));
  }
}
