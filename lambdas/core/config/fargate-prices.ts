/**
 * Fargate on-demand prices per region and CPU architecture: what
 * `mlscale rightsize` prices a task size at. Edit this table to change them
 * (a region you run in, a new price list); nothing else holds Fargate prices
 * for rightsize.
 *
 * Source: the AWS Fargate pricing page, https://aws.amazon.com/fargate/pricing/
 * ("Amazon ECS on AWS Fargate", On-Demand, Linux/X86 and Linux/ARM, per vCPU
 * per hour and per GB of memory per hour). Table written 2026-12-02
 * (FARGATE_PRICES_AS_OF). Only the us-east-1 figures were checked that day,
 * against copies of the page published in March and June 2026. us-east-2,
 * us-west-2 and eu-west-1 are priced as us-east-1 (the page has long listed
 * these four regions at one price) and could not be re-checked against the
 * live page when the table was written. Other regions are left out rather
 * than guessed: add the region you run in (rightsize otherwise says it fell
 * back to the us-east-1 prices).
 *
 * Not included: Windows (other sizes, plus a per-vCPU licence fee), Fargate
 * Spot, Savings Plans, ephemeral storage above the free 20 GB, and
 * everything around the task (load balancer, NAT, logs). `config/plan-table.json`
 * carries its own copy of the us-east-1 x86 prices for `mlscale plan`.
 */

export type FargateArchitecture = 'X86_64' | 'ARM64';

export interface FargatePrice {
  /** USD per vCPU per hour (1 vCPU = 1024 CPU units). */
  readonly vcpuHour: number;
  /** USD per GB of memory per hour (1 GB = 1024 MiB, as Fargate bills it). */
  readonly gbHour: number;
}

export const FARGATE_PRICES_AS_OF = '2026-12-02';
export const FARGATE_PRICES_SOURCE = 'https://aws.amazon.com/fargate/pricing/';

/** The region whose prices apply when the one in use is not in the table. */
export const DEFAULT_PRICE_REGION = 'us-east-1';

/** Hours in a month, as AWS's own monthly estimates count them (8,760 / 12). */
export const HOURS_PER_MONTH = 730;

export const FARGATE_PRICES: Readonly<Record<string, Readonly<Record<FargateArchitecture, FargatePrice>>>> = {
  // US East (N. Virginia), US East (Ohio), US West (Oregon), Europe (Ireland): one price group.
  'us-east-1': { X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 }, ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 } },
  'us-east-2': { X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 }, ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 } },
  'us-west-2': { X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 }, ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 } },
  'eu-west-1': { X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 }, ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 } },
};

export interface PriceLookup {
  readonly price: FargatePrice;
  /** The region whose prices these are (the default one when `region` is not in the table). */
  readonly region: string;
  readonly architecture: FargateArchitecture;
  /** True when `region` was not in the table and the default region's prices are used. */
  readonly fallback: boolean;
}

/** The prices for a region and architecture; the default region's when the table has no row for it. */
export function fargatePrice(region: string | undefined, architecture: FargateArchitecture = 'X86_64'): PriceLookup {
  const row = region !== undefined ? FARGATE_PRICES[region] : undefined;
  if (row) return { price: row[architecture], region: region!, architecture, fallback: false };
  return { price: FARGATE_PRICES[DEFAULT_PRICE_REGION]![architecture], region: DEFAULT_PRICE_REGION, architecture, fallback: true };
}
