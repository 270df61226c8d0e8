import { CliError, oneLine } from './errors';

/** The part of an SDK v3 client's resolved config the CLI reads to name the endpoint it called. */
interface ClientLike {
  readonly config: {
    readonly serviceId?: string;
    readonly region?: () => Promise<string>;
    readonly endpoint?: () => Promise<{ protocol?: string; hostname?: string; port?: number; path?: string }>;
    readonly endpointProvider?: (params: { Region?: string; UseFIPS?: boolean; UseDualStack?: boolean }) => { url: URL };
  };
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
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation', 'UnauthorizedException', 'AuthorizationErrorException']);
const BAD_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredTokenException', 'ExpiredToken', 'InvalidSignatureException', 'SignatureDoesNotMatch']);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * The endpoint a client calls: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
 * an endpoint in the client's config, or the one its endpoint rules give for
 * its region — the order the SDK itself applies.
 */
export async function endpointOf(client: ClientLike): Promise<string> {
  const serviceId = client.config.serviceId ?? '';
  const envName = `AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/\s+/g, '_')}`;
  const fromEnv = (serviceId && process.env[envName]) || process.env.AWS_ENDPOINT_URL;
  if (fromEnv) return fromEnv;
  try {
    const ep = await client.config.endpoint?.();
    if (ep?.hostname) return `${ep.protocol ?? 'https:'}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path ?? ''}`;
    const region = await client.config.region?.();
    const url = client.config.endpointProvider?.({ Region: region, UseFIPS: false, UseDualStack: false })?.url;
    if (url) return url.href.replace(/\/$/, '');
  } catch {
    // Fall through to the service's name.
  }
  return `the ${serviceId || 'AWS'} endpoint`;
}

/**
 * The one-line operator message for the failures every command shares
 * (connection, credentials, region, access), or undefined for any other error.
 */
export async function explainAwsError(err: unknown, client: ClientLike): Promise<string | undefined> {
  const e = (err ?? {}) as AwsLikeError;
  const message = oneLine(e.message ?? String(err));
  if (e.name === 'CredentialsProviderError') {
    return `No AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws sso login'): ${message}`;
  }
  if (e.name && BAD_CREDENTIALS.has(e.name)) return `AWS credentials rejected (${e.name}): ${message}`;
  if ((e.name && ACCESS_DENIED.has(e.name)) || e.$metadata?.httpStatusCode === 403) return `Access denied: ${message}`;
  if (/region is missing/i.test(message)) return 'No AWS region configured (set AWS_REGION, or a region in your AWS profile)';
  if ((e.code && NETWORK_CODES.has(e.code)) || e.name === 'TimeoutError') {
    const reason = e.code && !message.includes(e.code) ? `${e.code} ${message}` : message;
    return `Connection failed to ${await endpointOf(client)}: ${reason}`;
  }
  return undefined;
}

/** Run calls to one service; its shared failures become one-line CliErrors, anything else is rethrown as it is. */
export async function via<T>(client: ClientLike, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const explained = await explainAwsError(err, client);
    if (explained) throw new CliError(explained);
    throw err;
  }
}
