import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { tracer } from './tracer';

/**
 * Created once per process and default-constructed: region, credentials and
 * endpoint come from the environment, so AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_<SERVICE> redirect every call. Traced in X-Ray inside
 * Lambda, untouched elsewhere (tracer.ts). One file per service so a
 * handler loads only the SDK packages it uses (each costs cold-start time).
 */
export const autoscaling = tracer.captureAWSv3Client(new ApplicationAutoScalingClient({}));
