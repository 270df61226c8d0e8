import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ResolvedPool, Thresholds } from '../../lambdas/core/config';
import { taskCountMetric, toMetric } from '../metrics';

export interface InferencePoolProps {
  readonly cluster: ecs.Cluster;
  /** The pool, resolved for this environment (capacities, metrics, cooldowns). */
  readonly pool: ResolvedPool;
  /** Runbook thresholds; the scaling targets come from here. */
  readonly thresholds: Thresholds;
  /**
   * GPU capacity provider; required for a pool whose compute is `ec2-gpu`.
   * @default - none (Fargate)
   */
  readonly gpuCapacityProvider?: ecs.AsgCapacityProvider;
  /**
   * Retention of the containers' logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One pool of inference tasks: an ECS service, its task definition, its
 * Application Auto Scaling target and the scaling policies its kind gets.
 *
 * - always-on: CPU and Kafka ConsumerLag target tracking; never to zero.
 * - demand: queue-per-task target tracking plus step scale-out on p99 latency.
 * - scale-to-zero: queue-per-task target tracking above a floor the
 *   scale-to-zero Lambda owns: it sets min 1 when work appears and min 0
 *   (desired 0) after the idle minutes, so target tracking can never take the
 *   pool to zero nor keep it from getting there.
 */
export class InferencePool extends Construct {
  public readonly pool: ResolvedPool;
  public readonly service: ecs.BaseService;
  public readonly taskDefinition: ecs.TaskDefinition;
  public readonly scalableTaskCount: ecs.ScalableTaskCount;
  public readonly scalableTarget: appscaling.ScalableTarget;
  /** `service/<cluster>/<service>`: the Application Auto Scaling resource ID. */
  public readonly resourceId: string;
  public readonly cpuPolicy?: appscaling.TargetTrackingScalingPolicy;
  public readonly consumerLagPolicy?: appscaling.TargetTrackingScalingPolicy;
  public readonly queuePerTaskPolicy?: appscaling.CfnScalingPolicy;
  public readonly latencyStepPolicy?: appscaling.StepScalingPolicy;

  constructor(scope: Construct, id: string, props: InferencePoolProps) {
    super(scope, id);
    const { pool, thresholds, cluster } = props;
    const gpu = pool.kind === 'scale-to-zero' && pool.compute.type === 'ec2-gpu' ? pool.compute : undefined;
    if (gpu && !props.gpuCapacityProvider) {
      throw new Error(`pool ${pool.name}: gpuCapacityProvider is required for ec2-gpu compute`);
    }
    this.pool = pool;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.taskDefinition = gpu
      ? new ecs.Ec2TaskDefinition(this, 'TaskDefinition', { networkMode: ecs.NetworkMode.AWS_VPC })
      : new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
          cpu: pool.cpu,
          memoryLimitMiB: pool.memoryMiB,
          runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
        });

    const share = pool.containers.length;
    pool.containers.forEach((c, i) => {
      this.taskDefinition.addContainer(c.name, {
        image: ecs.ContainerImage.fromRegistry(c.image),
        essential: c.essential,
        ...(c.command ? { command: c.command } : {}),
        // EC2 tasks need container-level limits; Fargate shares the task's when unset.
        ...(c.cpu !== undefined ? { cpu: c.cpu } : gpu ? { cpu: Math.floor(pool.cpu / share) } : {}),
        ...(c.memoryLimitMiB !== undefined
          ? { memoryLimitMiB: c.memoryLimitMiB }
          : gpu
            ? { memoryLimitMiB: Math.floor(pool.memoryMiB / share) }
            : {}),
        // The first container is the model server; it gets the GPUs.
        ...(gpu && i === 0 ? { gpuCount: gpu.gpusPerTask } : {}),
        portMappings: c.portMappings.map((containerPort) => ({ containerPort })),
        // SIGTERM, then this long to finish in-flight work before SIGKILL.
        stopTimeout: Duration.seconds(pool.stopTimeoutSeconds),
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: pool.name }),
      });
    });

    if (gpu) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The only environment variable is AWS_REGION, which CDK adds to awsvpc EC2 tasks because they cannot reach instance metadata; no secrets.',
      });
    }

    // Always-on and demand pools keep all their tasks during a deployment;
    // a scale-to-zero pool trades that for not paying for a second GPU per task.
    const keepsCapacity = pool.kind !== 'scale-to-zero';
    const common = {
      cluster,
      serviceName: pool.name,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: keepsCapacity ? 100 : 0,
      maxHealthyPercent: keepsCapacity ? 200 : 100,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      // Autoscaled pools leave DesiredCount out of the template (removeDefaultDesiredCount)
      // so a deployment never resets what the autoscaler chose; a scale-to-zero pool starts at 0.
      ...(pool.kind === 'scale-to-zero' ? { desiredCount: 0 } : {}),
    };
    this.service = gpu
      ? new ecs.Ec2Service(this, 'Service', {
          ...common,
          taskDefinition: this.taskDefinition,
          capacityProviderStrategies: [{ capacityProvider: props.gpuCapacityProvider!.capacityProviderName, weight: 1 }],
        })
      : new ecs.FargateService(this, 'Service', {
          ...common,
          taskDefinition: this.taskDefinition,
          assignPublicIp: false,
        });

    this.resourceId = `service/${cluster.clusterName}/${pool.name}`;
    this.scalableTaskCount = this.service.autoScaleTaskCount({ minCapacity: pool.minCapacity, maxCapacity: pool.maxCapacity });
    this.scalableTarget = this.scalableTaskCount.node.findChild('Target') as appscaling.ScalableTarget;

    const cooldowns = {
      scaleOutCooldown: Duration.seconds(pool.scaleOutCooldownSeconds),
      scaleInCooldown: Duration.seconds(pool.scaleInCooldownSeconds),
    };

    if (pool.kind === 'always-on') {
      this.cpuPolicy = this.scalableTarget.scaleToTrackMetric('CpuTracking', {
        predefinedMetric: appscaling.PredefinedMetric.ECS_SERVICE_AVERAGE_CPU_UTILIZATION,
        targetValue: thresholds.cpuPercent,
        ...cooldowns,
      });
      // With lagScaling 'drain' the reconciler sizes the pool to what clears the lag; target tracking on total lag is the alternative.
      if (pool.trackConsumerLag && pool.lagScaling === 'target-tracking') {
        this.consumerLagPolicy = this.scalableTarget.scaleToTrackMetric('ConsumerLagTracking', {
          customMetric: toMetric(pool.metrics.consumerLag),
          targetValue: thresholds.consumerLag,
          ...cooldowns,
        });
      }
    }

    if (pool.kind === 'demand' || pool.kind === 'scale-to-zero') {
      this.queuePerTaskPolicy = this.queuePerTask(cluster.clusterName, pool, thresholds.queueDepthPerTask, cooldowns);
    }
    if (pool.kind === 'demand') {
      // Latency is not proportional to capacity, so it gets step scaling, out only:
      // +20 % above the p99 threshold, +50 % above twice it, for 3 of 3 minutes.
      this.latencyStepPolicy = this.scalableTarget.scaleOnMetric('LatencyStepScaling', {
        metric: toMetric(pool.metrics.latency, { statistic: 'p99' }),
        scalingSteps: [
          { upper: thresholds.cpuModuleP99Ms, change: 0 },
          { lower: thresholds.cpuModuleP99Ms, change: 20 },
          { lower: thresholds.cpuModuleP99Ms * 2, change: 50 },
        ],
        adjustmentType: appscaling.AdjustmentType.PERCENT_CHANGE_IN_CAPACITY,
        minAdjustmentMagnitude: 1,
        cooldown: cooldowns.scaleOutCooldown,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      });
    }
  }

  /**
   * Target tracking on pending requests per running task, as metric math
   * (the L2 only takes a single metric): AWS's "backlog per instance" pattern.
   */
  private queuePerTask(
    clusterName: string,
    pool: ResolvedPool,
    target: number,
    cooldowns: { scaleOutCooldown: Duration; scaleInCooldown: Duration },
  ): appscaling.CfnScalingPolicy {
    const queue = pool.metrics.queueDepth;
    const dims = (d: Record<string, string>) => Object.entries(d).map(([name, value]) => ({ name, value }));
    return new appscaling.CfnScalingPolicy(this, 'QueuePerTaskTracking', {
      policyName: `${pool.name}-queue-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.scalableTarget.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: target,
        scaleOutCooldown: cooldowns.scaleOutCooldown.toSeconds(),
        scaleInCooldown: cooldowns.scaleInCooldown.toSeconds(),
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'queue',
              metricStat: {
                metric: { namespace: queue.namespace, metricName: queue.metricName, dimensions: dims(queue.dimensions) },
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
                  dimensions: dims({ ClusterName: clusterName, ServiceName: pool.name }),
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
  }

  /** Tasks the service wants (Container Insights). */
  metricDesiredTasks(): cloudwatch.Metric {
    return taskCountMetric('DesiredTaskCount', this.service.cluster.clusterName, this.pool.name);
  }

  /** Tasks running (Container Insights). */
  metricRunningTasks(): cloudwatch.Metric {
    return taskCountMetric('RunningTaskCount', this.service.cluster.clusterName, this.pool.name);
  }

  metricCpu(): cloudwatch.Metric {
    return this.service.metricCpuUtilization({ period: Duration.minutes(1), statistic: 'Average' });
  }

  metricMemory(): cloudwatch.Metric {
    return this.service.metricMemoryUtilization({ period: Duration.minutes(1), statistic: 'Average' });
  }
}
