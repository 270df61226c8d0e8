import { isRetryable, retryPolicy } from '../../lambdas/aws/retry';
import type { AwsCallError } from '../../lambdas/aws/send';

/** The part of an SDK v3 client's resolved config that names the endpoint it calls. */
interface ClientConfig {
  readonly serviceId?: string;
  readonly region?: () => Promise<string>;
  readonly endpoint?: () => Promise<{ protocol?: string; hostname?: string; port?: number; path?: string }>;
  readonly endpointProvider?: (params: { Region?: string; UseFIPS?: boolean; UseDualStack?: boolean }) => { url: URL };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnauthorizedException', 'AuthorizationErrorException']);
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/** `Application Auto Scaling` -> `AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING`: the SDK's own variable name. */
export const endpointVariable = (serviceId: string) => `AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/\s+/g, '_')}`;

/**
 * The endpoint a failed call went to: AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL, an endpoint in the client's config, or the one its
 * endpoint rules give for its region (the order the SDK applies). The client
 * comes from the error (`send` records it), so naming an endpoint needs no
 * client of its own.
 */
export async function endpointOf(err: AwsCallError): Promise<string> {
  const config = (err.client?.config ?? {}) as ClientConfig;
  const serviceId = config.serviceId ?? err.service;
  const fromEnv = (serviceId && process.env[endpointVariable(serviceId)]) || process.env.AWS_ENDPOINT_URL;
  if (fromEnv) return fromEnv;
  try {
    const ep = await config.endpoint?.();
    if (ep?.hostname) return `${ep.protocol ?? 'https:'}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path && ep.path !== '/' ? ep.path : ''}`;
    const region = await config.region?.();
    const url = config.endpointProvider?.({ Region: region, UseFIPS: false, UseDualStack: false })?.url;
    if (url) return url.href.replace(/\/$/, '');
  } catch {
    // Fall through to the service's name.
  }
  return `the ${serviceId || 'AWS'} endpoint`;
}

/**
 * The operator's line for a failed AWS call: the failures every command
 * shares (connection, credentials, region, access) in words, anything else
 * as `<service> <operation>: <error name>: <message>`, with the attempts when
 * the call was retried.
 */
export async function explainAwsError(err: AwsCallError): Promise<string> {
  const message = err.message || err.code || err.name;
  const call = `${err.service} ${err.operation}`;
  if (err.name === 'CredentialsProviderError') {
    return `No AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws sso login'): ${message}`;
  }
  if (BAD_CREDENTIALS.has(err.name)) return `AWS credentials rejected by ${call} (${err.name}): ${message}`;
  if (ACCESS_DENIED.has(err.name) || err.$metadata?.httpStatusCode === 403) return `Access denied: ${message}`;
  if (/region is missing/i.test(message)) return 'No AWS region configured (set AWS_REGION, or a region in your AWS profile)';
  if ((err.code && NETWORK_CODES.has(err.code)) || err.name === 'TimeoutError') {
    const reason = err.code && !message.includes(err.code) ? `${err.code} ${message}`.trim() : message;
    return `Connection failed to ${await endpointOf(err)}: ${reason}`;
  }
  const retried = isRetryable(err) ? ` (gave up after ${retryPolicy.attempts} attempts)` : '';
  return `${call}: ${err.name}: ${message}${retried}`;
}
