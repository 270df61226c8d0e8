import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface BatchQueueProps {
  /**
   * Name of the queue; one ending in `.fifo` makes a FIFO queue (and a FIFO dead-letter queue).
   * @default - a name CloudFormation generates
   */
  readonly queueName?: string;
  /**
   * Receives of one message before it moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a received message stays invisible to the other workers; longer than one message takes.
   * @default Duration.seconds(300)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * How long SQS keeps a message, in the queue and in the dead-letter queue.
   * @default Duration.days(14), the most SQS allows
   */
  readonly retentionPeriod?: Duration;
  /**
   * Topic told when a message lands in the dead-letter queue.
   * @default - no dead-letter alarm
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Name of the dead-letter alarm; only with `alarmTopic`.
   * @default - a name CloudFormation generates
   */
  readonly deadLetterAlarmName?: string;
}

const MAX_QUEUE_NAME = 80;

/**
 * The SQS queue a batch pool works off, built the way a batch queue should
 * be: encrypted at rest (SQS-managed keys: a worker needs no KMS grant), TLS
 * only, a dead-letter queue after `maxReceiveCount` receives (a message that
 * keeps failing stops coming back), messages kept 14 days. An existing queue
 * needs none of this: give it to the InferencePool as it is.
 */
export class BatchQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly maxReceiveCount: number;
  /** Messages in the dead-letter queue for a minute (with `alarmTopic`). */
  public readonly deadLetterAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchQueueProps = {}) {
    super(scope, id);
    const errors: string[] = [];
    const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
    if (known(props.maxReceiveCount) && (!Number.isInteger(props.maxReceiveCount) || props.maxReceiveCount < 1 || props.maxReceiveCount > 1000)) {
      errors.push(`maxReceiveCount must be a whole number from 1 to 1000, got ${props.maxReceiveCount}`);
    }
    if (props.deadLetterAlarmName !== undefined && !props.alarmTopic) errors.push('deadLetterAlarmName needs alarmTopic');
    if (errors.length > 0) throw new Error(`BatchQueue ${id}: ${errors.join('; ')}`);

    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    const retentionPeriod = props.retentionPeriod ?? Duration.days(14);
    const name = props.queueName;
    const fifo = name !== undefined && !Token.isUnresolved(name) && name.endsWith('.fifo') ? true : undefined;
    const common = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      ...(fifo ? { fifo } : {}),
    };

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', { ...common, ...deadLetterName(name) });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      ...(name !== undefined ? { queueName: name } : {}),
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(300),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });

    if (props.alarmTopic) {
      // Dead-letter messages > 0 for 1 of 1 one-minute periods: a message failed maxReceiveCount times.
      this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
        ...(props.deadLetterAlarmName !== undefined ? { alarmName: props.deadLetterAlarmName } : {}),
        alarmDescription: `${name ?? this.node.path}: a message failed ${this.maxReceiveCount} receives and is in the dead-letter queue (kept ${retentionPeriod.toHumanString()}).`,
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // An empty, inactive queue stops publishing: no datapoints, no dead letters.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.deadLetterAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    }
  }
}

/** `<name>-dlq` (before `.fifo`), when that is still a valid queue name; else CloudFormation names it. */
function deadLetterName(name: string | undefined): { queueName?: string } {
  if (name === undefined || Token.isUnresolved(name)) return {};
  const fifo = name.endsWith('.fifo');
  const dlq = `${fifo ? name.slice(0, -'.fifo'.length) : name}-dlq${fifo ? '.fifo' : ''}`;
  return dlq.length <= MAX_QUEUE_NAME ? { queueName: dlq } : {};
}
