import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';

/**
 * One client per service, created once per process and default-constructed:
 * region, credentials and endpoint come from the environment, so
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> redirect every call.
 */
export const clients = {
  ecs: new ECSClient({}),
  autoscaling: new ApplicationAutoScalingClient({}),
  cloudwatch: new CloudWatchClient({}),
  eks: new EKSClient({}),
  dynamodb: new DynamoDBClient({}),
  sfn: new SFNClient({}),
};
