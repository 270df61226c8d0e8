import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../lambdas/core/config/defaults';
import { ECS_DIMENSION_NAME } from '../../lambdas/core/names';
import { DEFAULT_LOG_RETENTION } from '../log-retention';
import { taskCountMetric } from '../metrics';

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
}

export interface ConsumerLagScalingProps extends PolicyCooldownProps {
  /** The consumer group's lag: e.g. `Pipestream/Kafka` `ConsumerLag` by `ConsumerGroup`, statistic Maximum. */
  readonly lagMetric: cloudwatch.IMetric;
  /** Lag to hold; target tracking adds tasks in proportion to the total lag. */
  readonly targetLag: number;
}

export interface QueuePerTaskScalingProps extends PolicyCooldownProps {
  /** Pending requests (queue depth, or lag) of the pool; a plain metric, not metric math. */
  readonly queueMetric: cloudwatch.IMetric;
  /** Pending requests per running task to hold. */
  readonly targetPerTask: number;
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
 * `scaleOnConsumerLag`, `scaleOnQueuePerTask`, `scaleOnLatency`. Each returns
 * the policy it made; several target tracking policies scale out when any
 * asks and in only when all agree.
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

  private _cpuPolicy?: appscaling.TargetTrackingScalingPolicy;
  private _consumerLagPolicy?: appscaling.TargetTrackingScalingPolicy;
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
    const gpu = props.gpuCapacityProvider ? { provider: props.gpuCapacityProvider, gpusPerTask: props.gpusPerTask ?? 1 } : undefined;

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
        stopTimeout,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: props.serviceName }),
      });
    });

    if (gpu) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The only environment variable is AWS_REGION, which CDK adds to awsvpc EC2 tasks because they cannot reach instance metadata; no secrets.',
      });
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
      ...this.cooldowns(props),
    });
    return this._cpuPolicy;
  }

  /** Target tracking on a consumer group's total lag (it exists at zero tasks, so it can wake the pool). */
  scaleOnConsumerLag(props: ConsumerLagScalingProps): appscaling.TargetTrackingScalingPolicy {
    this._consumerLagPolicy = this.scalableTarget.scaleToTrackMetric('ConsumerLagTracking', {
      customMetric: props.lagMetric,
      targetValue: props.targetLag,
      ...this.cooldowns(props),
    });
    return this._consumerLagPolicy;
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
