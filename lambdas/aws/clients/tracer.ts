import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray for the AWS calls. The scaler functions run with active tracing, so
 * each client module passes its client through `tracer.captureAWSv3Client`
 * and every SDK call becomes a subsegment of the invocation's trace.
 *
 * Outside Lambda (the CLI, the tests, the simulator) the Tracer finds no
 * Lambda environment, turns itself off and hands each client back untouched;
 * POWERTOOLS_TRACE_ENABLED=false turns it off inside Lambda too. HTTP capture
 * is off because every outbound call is an SDK call, already captured per
 * client, and patching Node's http module globally would trace them twice.
 */
export const tracer = new Tracer({ captureHTTPsRequests: false });
