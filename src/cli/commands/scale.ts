import type { Command } from 'commander';
import { autoscaling } from '../../../lambdas/aws/clients/autoscaling';
import { ecs } from '../../../lambdas/aws/clients/ecs';
import { eks } from '../../../lambdas/aws/clients/eks';
import { setServiceDesired, updateServiceScaling, type ScalingChange } from '../../../lambdas/aws/ecs-services';
import { PAUSED_TAG } from '../../../lambdas/aws/eks-nodegroup-target';
import { tagNodegroup, updateNodegroupScaling } from '../../../lambdas/aws/eks-nodegroups';
import { wholeNumber } from '../args';
import { via } from '../aws';
import { mustRead, type ResourceView } from '../inventory';
import { err, out, outputOption, printJson, type OutputFormat } from '../output';
import { checkName, DEFAULT_NAMESPACE, parseResource, qualified, type ResourceRef } from '../resource';
import { planScale, type ScalePlan } from '../scale-plan';
import { ALL_SUSPENDED, PAUSED_MIN_TAG, resumeCommand } from './pause';

interface ScaleOptions {
  readonly replicas: string;
  readonly namespace: string;
  readonly raiseMax?: boolean;
  readonly min?: string;
  readonly output: OutputFormat;
}

/** The lines that explain a scale, after the kubectl-style first line. */
function explain(ref: ResourceRef, namespace: string, view: ResourceView, plan: ScalePlan, explicitMin: boolean): string[] {
  const lines: string[] = [];
  const autoscaler = ref.kind === 'service' ? 'target tracking' : 'the scale-to-zero Lambda';
  if (plan.max) lines.push(`max capacity raised from ${plan.max.from} to ${plan.max.to} (--raise-max)`);
  if (plan.min) {
    const { from, to } = plan.min;
    if (explicitMin) lines.push(`min capacity set from ${from} to ${to} (--min)`);
    else if (plan.pause) lines.push(`min capacity lowered from ${from} to 0 (EKS needs min <= desired; resume restores ${from})`);
    else if (to > from) lines.push(`min capacity raised from ${from} to ${to} so ${autoscaler} does not undo the manual scale`);
    else lines.push(`min capacity lowered from ${from} to ${to} so ${autoscaler} does not scale it back up`);
  }
  if (plan.pause) {
    if (ref.kind === 'nodegroup') {
      lines.push(`paused: tagged ${PAUSED_TAG}=true; '${resumeCommand(ref, namespace)}' hands it back to the scale-to-zero Lambda`);
    } else if (view.limits) {
      const { min, max } = view.limits;
      const kept = plan.min ? `max ${max} kept` : `min ${min} and max ${max} kept`;
      lines.push(`paused: automatic scaling suspended (${kept}); '${resumeCommand(ref, namespace)}' hands it back to its autoscaler`);
    } else {
      lines.push('no scalable target: nothing autoscales this service, so there is nothing to pause');
    }
  } else if (view.paused) {
    lines.push(`automatic scaling stays paused; '${resumeCommand(ref, namespace)}' hands it back to its autoscaler`);
  }
  return lines;
}

async function applyService(namespace: string, name: string, view: ResourceView, plan: ScalePlan): Promise<void> {
  const change: ScalingChange = {
    ...(plan.min ? { min: plan.min.to } : {}),
    ...(plan.max ? { max: plan.max.to } : {}),
    // Suspend before desired drops to 0, so the autoscaler cannot scale it straight back.
    ...(plan.pause && !view.paused ? { suspension: ALL_SUSPENDED } : {}),
  };
  if (view.limits && Object.keys(change).length > 0) await via(autoscaling, () => updateServiceScaling(namespace, name, change));
  await via(ecs, () => setServiceDesired(namespace, name, plan.to));
}

async function applyNodegroup(namespace: string, name: string, view: ResourceView, plan: ScalePlan): Promise<void> {
  if (plan.pause && !view.paused) {
    // Tag first: the scale-to-zero Lambda must not wake the group between the two calls.
    const tags: Record<string, string> = { [PAUSED_TAG]: 'true' };
    if (plan.min && plan.min.from > 0) tags[PAUSED_MIN_TAG] = String(plan.min.from);
    await via(eks, () => tagNodegroup(view.arn!, tags));
  }
  // EKS rejects an update that changes nothing.
  if (plan.to === plan.from && !plan.min && !plan.max) return;
  await via(eks, () =>
    updateNodegroupScaling(namespace, name, {
      ...(plan.min ? { minSize: plan.min.to } : {}),
      ...(plan.max ? { maxSize: plan.max.to } : {}),
      desiredSize: plan.to,
    }),
  );
}

async function scale(first: string, second: string | undefined, opts: ScaleOptions): Promise<void> {
  // Every argument is checked before the first AWS call.
  const replicas = wholeNumber(opts.replicas, '--replicas');
  const explicitMin = opts.min !== undefined ? wholeNumber(opts.min, '--min') : undefined;
  parseResource(first, second);
  checkName(opts.namespace, 'namespace');

  const { ref, namespace, view } = await mustRead(first, second, opts.namespace);
  const plan = planScale(ref.kind, view, { replicas, raiseMax: Boolean(opts.raiseMax), ...(explicitMin !== undefined ? { min: explicitMin } : {}) });
  const warnings = plan.cappedAt !== undefined ? [`Only scheduled ${plan.cappedAt} replicas (max capacity ${plan.cappedAt}; use --raise-max to raise it)`] : [];

  if (ref.kind === 'service') await applyService(namespace, ref.name, view, plan);
  else await applyNodegroup(namespace, ref.name, view, plan);

  for (const w of warnings) err(`Warning: ${w}`);
  if (opts.output === 'json') {
    printJson({
      kind: ref.kind,
      name: ref.name,
      namespace,
      from: plan.from,
      to: plan.to,
      requested: plan.requested,
      minCapacity: plan.min ?? null,
      maxCapacity: plan.max ?? null,
      paused: (plan.pause && (ref.kind === 'nodegroup' || view.limits !== undefined)) || view.paused,
      warnings,
    });
    return;
  }
  out(`${qualified(ref)} scaled from ${plan.from} to ${plan.to} replicas in namespace ${namespace}`);
  for (const line of explain(ref, namespace, view, plan, explicitMin !== undefined)) out(line);
}

export function registerScaleCommand(program: Command): void {
  program
    .command('scale')
    .description('set the replicas of an ECS service or the nodes of an EKS node group')
    .argument('<resource>', 'NAME, service/NAME or nodegroup/NAME (or TYPE NAME)')
    .argument('[name]', 'the name, when TYPE is given as its own word')
    .requiredOption('--replicas <count>', 'desired replicas (0 pauses: automatic scaling suspended, min/max kept)')
    .option('-n, --namespace <namespace>', 'ECS cluster (services) or EKS cluster (node groups)', DEFAULT_NAMESPACE)
    .option('--raise-max', 'raise max capacity to --replicas instead of stopping at it')
    .option('--min <count>', 'set min capacity to this instead of moving it to --replicas')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The autoscaler keeps what you ask for: min capacity moves to the new replica count
(target tracking would otherwise scale it back) and the output says so. Asking above
max capacity scales to max with a warning, unless --raise-max. --replicas 0 pauses:
every kind of automatic scaling is suspended and desired goes to 0, min and max stay;
'mlscale resume NAME' hands it back to the autoscaler.

Examples:
  mlscale scale engine --replicas 6 -n pipestream
  mlscale scale service/engine --replicas 12 --raise-max -n pipestream
  mlscale scale nodegroup/gpu-workers --replicas 2 -n ml-prod
  mlscale scale embedder --replicas 0 -n pipestream`,
    )
    .action(async (first: string, second: string | undefined, opts: ScaleOptions) => scale(first, second, opts));
}
