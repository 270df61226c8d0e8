import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_STARTUP_SECONDS, DEFAULTS } from '../../lambdas/core/config/defaults';
import { lagGrowthPolicy } from '../../lambdas/core/lag-growth';
import { ECS_DIMENSION_NAME } from '../../lambdas/core/names';
import { DEFAULT_LOG_RETENTION } from '../log-retention';
import { taskCountMetric } from '../metrics';
import { acknowledgeTaskArns } from '../nag';
import { LagGrowthStepScaling } from './lag-growth-step-scaling';
import { StepScaleIn } from './step-scale-in';
import { stepScaleInCooldownSeconds } from '../../lambdas/core/scale-in';

/** The environment variables a pool with a queue gives every container: where its work is. */
export const QUEUE_URL_ENV = 'MLSCALE_QUEUE_URL';
export const QUEUE_NAME_ENV = 'MLSCALE_QUEUE_NAME';

/** One container of a pool's task. */
export interface InferenceContainerProps {
  /** Container name, unique within the task. */
  readonly name: string;
  readonly image: ecs.ContainerImage;
  /** @default - the image's own command */
  readonly command?: readonly string[];
  /**
   * CPU units reserved for this container.
   * @default - on Fargate it shares the task's CPU; on GPU capacity it gets an equal share of it
   */
  readonly cpu?: number;
  /**
   * Hard memory limit of this container.
   * @default - on Fargate the task's memory; on GPU capacity an equal share of it
   */
  readonly memoryLimitMiB?: number;
  /** @default - no port mappings */
  readonly containerPorts?: readonly number[];
  /** @default true */
  readonly essential?: boolean;
}

export interface InferencePoolProps {
  /**
   * The ECS cluster the pool runs in: one defined in this app, or an existing
   * one imported with `ecs.Cluster.fromClusterAttributes` (with its VPC).
   */
  readonly cluster: ecs.ICluster;
  /** Name of the ECS service: the pool's name in the targets document, the alarms and the CLI. */
  readonly serviceName: string;
  /** Fewest tasks the autoscaler may leave; 0 lets the pool scale to zero. */
  readonly minCapacity: number;
  /** Most tasks the autoscaler may run. */
  readonly maxCapacity: number;
  /** The task's containers. The first is the model server: on GPU capacity it gets the GPUs. */
  readonly containers: readonly InferenceContainerProps[];
  /**
   * CPU units of the task.
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Memory of the task.
   * @default 2048
   */
  readonly memoryLimitMiB?: number;
  /**
   * How long a container gets after SIGTERM to finish in-flight work before SIGKILL.
   * @default Duration.seconds(120)
   */
  readonly stopTimeout?: Duration;
  /**
   * EC2 GPU capacity to run the tasks on (ECS on Fargate has no GPUs); see `GpuCapacityProvider`.
   * @default - Fargate
   */
  readonly gpuCapacityProvider?: ecs.AsgCapacityProvider;
  /**
   * GPUs the first container asks for; only with `gpuCapacityProvider`.
   * @default 1
   */
  readonly gpusPerTask?: number;
  /**
   * Share of the desired tasks kept running during a deployment.
   * @default 100
   */
  readonly minHealthyPercent?: number;
  /**
   * Most tasks during a deployment, as a share of the desired ones.
   * @default 200
   */
  readonly maxHealthyPercent?: number;
  /**
   * Tasks the service is created with.
   * @default - left out of the template, so a deployment never resets what the autoscaler chose
   */
  readonly desiredCount?: number;
  /**
   * Subnets of the tasks.
   * @default - the private subnets (with egress) of the cluster's VPC
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Cooldown after a scale-out, for every policy of the pool that does not set its own.
   * @default Duration.seconds(60)
   */
  readonly scaleOutCooldown?: Duration;
  /**
   * Cooldown after a scale-in, for every policy of the pool that does not set its own.
   * @default Duration.seconds(300)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Retention of the containers' logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The SQS queue the tasks work off (a batch pool): one built here (see
   * `BatchQueue`) or an existing one (`sqs.Queue.fromQueueAttributes`). The
   * task role may receive, delete and change the visibility of its messages,
   * and every container gets `MLSCALE_QUEUE_URL` and `MLSCALE_QUEUE_NAME`.
   * Scale on it with `scaleOnQueuePerTask` and the queue's
   * ApproximateNumberOfMessagesVisible.
   * @default - no queue
   */
  readonly queue?: sqs.IQueue;
  /**
   * Let each task set its own scale-in protection through the ECS agent
   * endpoint (`$ECS_AGENT_URI/task-protection/v1/state`): the task role gets
   * `ecs:UpdateTaskProtection` and `ecs:GetTaskProtection` on this cluster's
   * tasks, so a worker mid-message is not stopped by a scale-in.
   * @default - true with a queue, else false
   */
  readonly taskProtection?: boolean;
}

/** Cooldowns of one target tracking policy. */
export interface PolicyCooldownProps {
  /** @default - the pool's scaleOutCooldown */
  readonly scaleOutCooldown?: Duration;
  /** @default - the pool's scaleInCooldown */
  readonly scaleInCooldown?: Duration;
}

export interface CpuScalingProps extends PolicyCooldownProps {
  /** Average CPU utilization of the tasks to hold. */
  readonly targetUtilizationPercent: number;
  /** Scale out only (another policy scales in: scaleInOnCpu). @default false */
  readonly disableScaleIn?: boolean;
}

export interface StepScaleInOnCpuProps {
  /** The CPU target tracking target the scale-in sizes to (as scaleOnCpu's). */
  readonly targetUtilizationPercent: number;
  /** One-minute datapoints, all below 90 % of target, before a step (1-14). */
  readonly minutes: number;
  /** With target tracking on a lag too: the lag must be below 90 % of this as well. */
  readonly lag?: { readonly metric: cloudwatch.IMetric; readonly target: number };
  /** @default - the pool's scaleInCooldown; never under its stop timeout + 180 s (stepScaleInCooldownSeconds) */
  readonly cooldown?: Duration;
  /** The name of the alarm on RunningTaskCount going missing (StepScaleIn.blindAlarm). @default - generated */
  readonly blindAlarmName?: string;
  /** Where that alarm pages. @default - nowhere */
  readonly alarmTopic?: sns.ITopic;
}

export interface ConsumerLagScalingProps extends PolicyCooldownProps {
  /** The consumer group's lag: e.g. `Pipestream/Kafka` `ConsumerLag` by `ConsumerGroup`, statistic Maximum. */
  readonly lagMetric: cloudwatch.IMetric;
  /** Lag to hold; target tracking adds tasks in proportion to the total lag. */
  readonly targetLag: number;
  /** Scale out only (another policy scales in: scaleInOnCpu). @default false */
  readonly disableScaleIn?: boolean;
}

export interface QueuePerTaskScalingProps extends PolicyCooldownProps {
  /** Pending requests (queue depth, or lag) of the pool; a plain metric, not metric math. */
  readonly queueMetric: cloudwatch.IMetric;
  /** Pending requests per running task to hold. */
  readonly targetPerTask: number;
}

export interface LagGrowthScalingProps {
  /** The consumer group's lag, a plain metric; the policy reads it at statistic Maximum, one-minute period. */
  readonly lagMetric: cloudwatch.IMetric;
  /** Messages per second one task serves while latency holds. */
  readonly capacityPerTask: number;
  /** Share of a task's capacity to plan for, above 0 and at most 1: e.g. the CPU target / 100. */
  readonly targetUtilization: number;
  /**
   * Seconds from "desired + 1" to a task serving; with the alarm's window it sets the policy's cooldown.
   * @default - 60 on Fargate, 300 on GPU capacity
   */
  readonly startupSeconds?: number;
  /**
   * The shortest cooldown the policy may have.
   * @default - the pool's scaleOutCooldown
   */
  readonly scaleOutCooldown?: Duration;
}

export interface LatencyScalingProps {
  /** The latency to step on, at the statistic that matters (p99), in milliseconds. */
  readonly latencyMetric: cloudwatch.IMetric;
  /** Latency above which the pool steps out: +20 % of its tasks above it, +50 % above twice it. */
  readonly thresholdMs: number;
  /** @default - the pool's scaleOutCooldown */
  readonly cooldown?: Duration;
}

/**
 * One pool of inference tasks: an ECS service (Fargate, or EC2 GPU capacity),
 * its task definition, log group and Application Auto Scaling target. It
 * scales on nothing until a verb adds a policy: `scaleOnCpu`,
 * `scaleOnConsumerLag`, `scaleOnLagGrowth`, `scaleOnQueuePerTask`,
 * `scaleOnLatency`. Each returns the policy it made; several target tracking
 * policies scale out when any asks and in only when all agree.
 *
 * With an mlscale Reconciler in the app, min, max and desired are its to
 * write at run time (from holds). Scale through the verbs, not through
 * `service.autoScaleTaskCount()`, which would register the service twice.
 */
export class InferencePool extends Construct {
  public readonly serviceName: string;
  public readonly minCapacity: number;
  public readonly maxCapacity: number;
  public readonly scaleOutCooldown: Duration;
  public readonly scaleInCooldown: Duration;
  public readonly service: ecs.BaseService;
  public readonly taskDefinition: ecs.TaskDefinition;
  public readonly logGroup: logs.LogGroup;
  public readonly scalableTarget: appscaling.ScalableTarget;
  /** `service/<cluster>/<service>`: the Application Auto Scaling resource ID. */
  public readonly resourceId: string;
  /** The queue the tasks work off, if any. */
  public readonly queue?: sqs.IQueue;
  /** Whether the tasks may set their own scale-in protection. */
  public readonly taskProtection: boolean;
  /** `arn:<partition>:ecs:<region>:<account>:task/<cluster>/*`: the pool's tasks (and the cluster's other tasks). */
  public readonly taskArns: string;

  private readonly gpu: boolean;
  private readonly stopTimeout: Duration;
  private _cpuPolicy?: appscaling.TargetTrackingScalingPolicy;
  private _consumerLagPolicy?: appscaling.TargetTrackingScalingPolicy;
  private _lagGrowthScaling?: LagGrowthStepScaling;
  private _stepScaleIn?: StepScaleIn;
  private _queuePerTaskPolicy?: appscaling.CfnScalingPolicy;
  private _latencyPolicy?: appscaling.StepScalingPolicy;

  constructor(scope: Construct, id: string, props: InferencePoolProps) {
    super(scope, id);
    const errors = validate(props);
    if (errors.length > 0) throw new Error(`InferencePool ${id}: ${errors.join('; ')}`);

    this.serviceName = props.serviceName;
    this.minCapacity = props.minCapacity;
    this.maxCapacity = props.maxCapacity;
    this.scaleOutCooldown = props.scaleOutCooldown ?? Duration.seconds(DEFAULTS.pool.scaleOutCooldownSeconds);
    this.scaleInCooldown = props.scaleInCooldown ?? Duration.seconds(DEFAULTS.pool.scaleInCooldownSeconds);
    const cpu = props.cpu ?? DEFAULTS.pool.cpu;
    const memoryMiB = props.memoryLimitMiB ?? DEFAULTS.pool.memoryMiB;
    const stopTimeout = props.stopTimeout ?? Duration.seconds(DEFAULTS.pool.stopTimeoutSeconds);
    this.stopTimeout = stopTimeout;
    const gpu = props.gpuCapacityProvider ? { provider: props.gpuCapacityProvider, gpusPerTask: props.gpusPerTask ?? 1 } : undefined;
    this.gpu = gpu !== undefined;
    this.queue = props.queue;
    this.taskProtection = props.taskProtection ?? props.queue !== undefined;
    this.taskArns = Stack.of(this).formatArn({
      service: 'ecs',
      resource: 'task',
      resourceName: `${props.cluster.clusterName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const queueEnvironment = props.queue ? { [QUEUE_URL_ENV]: props.queue.queueUrl, [QUEUE_NAME_ENV]: props.queue.queueName } : undefined;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskDefinition = gpu
      ? new ecs.Ec2TaskDefinition(this, 'TaskDefinition', { networkMode: ecs.NetworkMode.AWS_VPC })
      : new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
          cpu,
          memoryLimitMiB: memoryMiB,
          runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
        });

    const share = props.containers.length;
    props.containers.forEach((c, i) => {
      this.taskDefinition.addContainer(c.name, {
        image: c.image,
        essential: c.essential ?? true,
        ...(c.command ? { command: [...c.command] } : {}),
        // EC2 tasks need container-level limits; Fargate shares the task's when unset.
        ...(c.cpu !== undefined ? { cpu: c.cpu } : gpu ? { cpu: Math.floor(cpu / share) } : {}),
        ...(c.memoryLimitMiB !== undefined ? { memoryLimitMiB: c.memoryLimitMiB } : gpu ? { memoryLimitMiB: Math.floor(memoryMiB / share) } : {}),
        // The first container is the model server; it gets the GPUs.
        ...(gpu && i === 0 ? { gpuCount: gpu.gpusPerTask } : {}),
        portMappings: (c.containerPorts ?? []).map((containerPort) => ({ containerPort })),
        ...(queueEnvironment ? { environment: queueEnvironment } : {}),
        stopTimeout,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: props.serviceName }),
      });
    });

    const environment = [
      ...(gpu ? ['AWS_REGION, which CDK adds to awsvpc EC2 tasks because they cannot reach instance metadata'] : []),
      ...(queueEnvironment ? [`${QUEUE_URL_ENV} and ${QUEUE_NAME_ENV}, the queue the workers read`] : []),
    ];
    if (environment.length > 0) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: `The only environment variable${queueEnvironment ? 's are' : ' is'} ${environment.join(', and ')}; no secrets.`,
      });
    }

    if (props.queue) props.queue.grantConsumeMessages(this.taskDefinition.taskRole);
    if (this.taskProtection) {
      // A worker marks itself protected while it holds a message; the agent endpoint calls ECS with the task role.
      this.taskDefinition.addToTaskRolePolicy(
        new iam.PolicyStatement({ actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'], resources: [this.taskArns] }),
      );
      acknowledgeTaskArns(this.taskDefinition.taskRole, this.taskArns);
    }

    const common = {
      cluster: props.cluster,
      serviceName: props.serviceName,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: props.minHealthyPercent ?? 100,
      maxHealthyPercent: props.maxHealthyPercent ?? 200,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ...(props.desiredCount !== undefined ? { desiredCount: props.desiredCount } : {}),
    };
    this.service = gpu
      ? new ecs.Ec2Service(this, 'Service', {
          ...common,
          taskDefinition: this.taskDefinition,
          capacityProviderStrategies: [{ capacityProvider: gpu.provider.capacityProviderName, weight: 1 }],
        })
      : new ecs.FargateService(this, 'Service', { ...common, taskDefinition: this.taskDefinition, assignPublicIp: false });

    this.resourceId = `service/${props.cluster.clusterName}/${props.serviceName}`;
    // The scalable target sits at Service/TaskCount/Target, where service.autoScaleTaskCount() puts it, so its
    // logical ID never changes: a replaced target would be registered anew and then the old one deregistered,
    // which is the same registration, leaving the service with no scaling at all.
    const taskCount = new Construct(this.service, 'TaskCount');
    this.scalableTarget = new appscaling.ScalableTarget(taskCount, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: ECS_DIMENSION_NAME,
      resourceId: `service/${this.service.cluster.clusterName}/${this.service.serviceName}`,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      // The service-linked role ECS scaling uses; ScalableTarget would otherwise create a role of its own.
      role: iam.Role.fromRoleArn(
        taskCount,
        'ScalingRole',
        Stack.of(this).formatArn({
          region: '',
          service: 'iam',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
    });
  }

  /** Target tracking on the tasks' average CPU utilization. Cannot wake a pool at zero: no tasks, no CPU metric. */
  scaleOnCpu(props: CpuScalingProps): appscaling.TargetTrackingScalingPolicy {
    this._cpuPolicy = this.scalableTarget.scaleToTrackMetric('CpuTracking', {
      predefinedMetric: appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_CPU_UTILIZATION,
      targetValue: props.targetUtilizationPercent,
      ...(props.disableScaleIn ? { disableScaleIn: true } : {}),
      ...this.cooldowns(props),
    });
    return this._cpuPolicy;
  }

  /**
   * Scale in on CPU sooner than target tracking does (after `minutes`
   * one-minute datapoints below 90 % of target, not 15), sized as target
   * tracking sizes it: a step policy on metric math over CPU and running
   * tasks (StepScaleIn, lambdas/core/scale-in.ts). Give the pool's target
   * tracking policies `disableScaleIn` so this is the only scale-in.
   */
  scaleInOnCpu(props: StepScaleInOnCpuProps): StepScaleIn {
    this._stepScaleIn = new StepScaleIn(this, 'StepScaleIn', {
      scalingTarget: this.scalableTarget,
      cpuMetric: this.metricCpu(),
      runningTasksMetric: this.metricRunningTasks(),
      ...(props.lag ? { lagMetric: props.lag.metric } : {}),
      policy: {
        cpuTarget: props.targetUtilizationPercent,
        minutes: props.minutes,
        // Never shorter than the stopped tasks take to leave RunningTaskCount (stepScaleInCooldownSeconds).
        cooldownSeconds: stepScaleInCooldownSeconds((props.cooldown ?? this.scaleInCooldown).toSeconds(), this.stopTimeout.toSeconds()),
        ...(props.lag ? { lagTarget: props.lag.target } : {}),
      },
      policyName: `${this.serviceName}-step-scale-in`,
      subject: this.serviceName,
      ...(props.blindAlarmName !== undefined ? { blindAlarmName: props.blindAlarmName } : {}),
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
    return this._stepScaleIn;
  }

  /** Target tracking on a consumer group's total lag (it exists at zero tasks, so it can wake the pool). */
  scaleOnConsumerLag(props: ConsumerLagScalingProps): appscaling.TargetTrackingScalingPolicy {
    this._consumerLagPolicy = this.scalableTarget.scaleToTrackMetric('ConsumerLagTracking', {
      customMetric: props.lagMetric,
      targetValue: props.targetLag,
      ...(props.disableScaleIn ? { disableScaleIn: true } : {}),
      ...this.cooldowns(props),
    });
    return this._consumerLagPolicy;
  }

  /**
   * Step scale-out on the growth rate of a consumer group's lag (Pipestream:
   * "scale on lag growth rate, not absolute lag"): an alarm on `RATE(lag)`
   * adds tasks in steps of a task's worth of growth, before the absolute lag
   * is high, and a draining backlog adds nothing. Never scales in. The numbers
   * are `lagGrowthPolicy()`'s (lambdas/core/lag-growth.ts), which the
   * simulator models too.
   */
  scaleOnLagGrowth(props: LagGrowthScalingProps): LagGrowthStepScaling {
    const errors: string[] = [];
    const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
    if (known(props.capacityPerTask) && !(props.capacityPerTask > 0)) errors.push(`capacityPerTask must be > 0, got ${props.capacityPerTask}`);
    if (known(props.targetUtilization) && !(props.targetUtilization > 0 && props.targetUtilization <= 1)) {
      errors.push(`targetUtilization must be above 0 and at most 1, got ${props.targetUtilization}`);
    }
    if (known(props.startupSeconds) && !(props.startupSeconds >= 0)) errors.push(`startupSeconds must be >= 0, got ${props.startupSeconds}`);
    if (errors.length > 0) throw new Error(`InferencePool ${this.node.id}: scaleOnLagGrowth: ${errors.join('; ')}`);
    const policy = lagGrowthPolicy({
      capacityPerTask: props.capacityPerTask,
      targetUtilization: props.targetUtilization,
      startupSeconds: props.startupSeconds ?? DEFAULT_STARTUP_SECONDS[this.gpu ? 'ec2-gpu' : 'fargate'],
      scaleOutCooldownSeconds: (props.scaleOutCooldown ?? this.scaleOutCooldown).toSeconds(),
    });
    this._lagGrowthScaling = new LagGrowthStepScaling(this, 'LagGrowthStepScaling', {
      scalingTarget: this.scalableTarget,
      lagMetric: props.lagMetric,
      policy,
      policyName: `${this.serviceName}-lag-growth`,
      subject: this.serviceName,
    });
    return this._lagGrowthScaling;
  }

  /**
   * Target tracking on pending requests per running task, AWS's "backlog per
   * instance" pattern, as metric math over the queue and Container Insights'
   * RunningTaskCount. An L1 policy: the L2 takes a single metric only.
   */
  scaleOnQueuePerTask(props: QueuePerTaskScalingProps): appscaling.CfnScalingPolicy {
    const queue = props.queueMetric.toMetricConfig().metricStat;
    if (!queue) throw new Error(`InferencePool ${this.node.id}: scaleOnQueuePerTask needs a plain queueMetric, not metric math`);
    const cooldowns = this.cooldowns(props);
    this._queuePerTaskPolicy = new appscaling.CfnScalingPolicy(this, 'QueuePerTaskTracking', {
      policyName: `${this.serviceName}-queue-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.scalableTarget.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.targetPerTask,
        scaleOutCooldown: cooldowns.scaleOutCooldown.toSeconds(),
        scaleInCooldown: cooldowns.scaleInCooldown.toSeconds(),
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'queue',
              metricStat: {
                metric: { namespace: queue.namespace, metricName: queue.metricName, dimensions: (queue.dimensions ?? []).map((d) => ({ name: d.name, value: String(d.value) })) },
                stat: queue.statistic,
              },
              returnData: false,
            },
            {
              id: 'running',
              metricStat: {
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'RunningTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: this.service.cluster.clusterName },
                    { name: 'ServiceName', value: this.serviceName },
                  ],
                },
                stat: 'Average',
              },
              returnData: false,
            },
            { id: 'perTask', expression: 'IF(running > 0, queue / running, queue)', label: 'Pending requests per task', returnData: true },
          ],
        },
      },
    });
    return this._queuePerTaskPolicy;
  }

  /**
   * Step scale-out on latency, never in: latency is not proportional to
   * capacity, so it gets steps, not target tracking. +20 % above the
   * threshold, +50 % above twice it, for 3 of 3 one-minute periods.
   */
  scaleOnLatency(props: LatencyScalingProps): appscaling.StepScalingPolicy {
    const t = props.thresholdMs;
    this._latencyPolicy = this.scalableTarget.scaleOnMetric('LatencyStepScaling', {
      metric: props.latencyMetric,
      scalingSteps: [
        { upper: t, change: 0 },
        { lower: t, change: 20 },
        { lower: t * 2, change: 50 },
      ],
      adjustmentType: appscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
      minAdjustmentMagnitude: 1,
      cooldown: props.cooldown ?? this.scaleOutCooldown,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
    });
    return this._latencyPolicy;
  }

  /** The policy `scaleOnCpu` added, if any. */
  get cpuPolicy(): appscaling.TargetTrackingScalingPolicy | undefined {
    return this._cpuPolicy;
  }

  /** The policy `scaleOnConsumerLag` added, if any. */
  get consumerLagPolicy(): appscaling.TargetTrackingScalingPolicy | undefined {
    return this._consumerLagPolicy;
  }

  /** The step policy and alarm `scaleOnLagGrowth` added, if any. */
  get lagGrowthScaling(): LagGrowthStepScaling | undefined {
    return this._lagGrowthScaling;
  }

  /** The step scale-in policy and alarm `scaleInOnCpu` added, if any. */
  get stepScaleIn(): StepScaleIn | undefined {
    return this._stepScaleIn;
  }

  /** The policy `scaleOnQueuePerTask` added, if any. */
  get queuePerTaskPolicy(): appscaling.CfnScalingPolicy | undefined {
    return this._queuePerTaskPolicy;
  }

  /** The policy `scaleOnLatency` added, if any. */
  get latencyPolicy(): appscaling.StepScalingPolicy | undefined {
    return this._latencyPolicy;
  }

  /** Tasks the service wants (Container Insights). */
  metricDesiredTasks(): cloudwatch.Metric {
    return taskCountMetric('DesiredTaskCount', this.service.cluster.clusterName, this.serviceName);
  }

  /** Tasks running (Container Insights). */
  metricRunningTasks(): cloudwatch.Metric {
    return taskCountMetric('RunningTaskCount', this.service.cluster.clusterName, this.serviceName);
  }

  metricCpu(): cloudwatch.Metric {
    return this.service.metricCpuUtilization({ period: Duration.minutes(1), statistic: 'Average' });
  }

  metricMemory(): cloudwatch.Metric {
    return this.service.metricMemoryUtilization({ period: Duration.minutes(1), statistic: 'Average' });
  }

  private cooldowns(props: PolicyCooldownProps): { scaleOutCooldown: Duration; scaleInCooldown: Duration } {
    return { scaleOutCooldown: props.scaleOutCooldown ?? this.scaleOutCooldown, scaleInCooldown: props.scaleInCooldown ?? this.scaleInCooldown };
  }
}

/** Every problem with the props, so one synth names them all. Tokens are not checked. */
function validate(props: InferencePoolProps): string[] {
  const errors: string[] = [];
  const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
  if (known(props.minCapacity) && props.minCapacity < 0) errors.push(`minCapacity must be >= 0, got ${props.minCapacity}`);
  if (known(props.maxCapacity) && props.maxCapacity < 1) errors.push(`maxCapacity must be >= 1, got ${props.maxCapacity}`);
  if (known(props.minCapacity) && known(props.maxCapacity) && props.maxCapacity < props.minCapacity) {
    errors.push(`maxCapacity must be >= minCapacity, got ${props.maxCapacity} < ${props.minCapacity}`);
  }
  if (props.containers.length === 0) errors.push('containers must name at least one container, got none');
  if (props.gpusPerTask !== undefined && !props.gpuCapacityProvider) errors.push('gpusPerTask needs gpuCapacityProvider: Fargate has no GPUs');
  if (known(props.gpusPerTask) && props.gpusPerTask < 1) errors.push(`gpusPerTask must be >= 1, got ${props.gpusPerTask}`);
  return errors;
}
