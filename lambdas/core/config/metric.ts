import { z } from 'zod';

/** CloudWatch statistics that target tracking and GetMetricData both accept. */
export const BASIC_STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;

/** A basic statistic or a percentile such as `p95` / `p99.9`. */
export const statisticSchema = z
  .string()
  .refine((s) => (BASIC_STATISTICS as readonly string[]).includes(s) || /^p(\d{1,2}(\.\d+)?|100)$/.test(s), {
    message: `must be one of ${BASIC_STATISTICS.join(', ')} or a percentile like p99`,
  });

/** One CloudWatch metric, named the way CloudWatch names it. */
export const metricSchema = z.strictObject({
  namespace: z.string().min(1),
  metricName: z.string().min(1),
  dimensions: z.record(z.string(), z.string()).default({}),
  statistic: statisticSchema,
});

export type MetricRef = z.infer<typeof metricSchema>;

/** Partial metric used for overrides: anything left out comes from the pool's default. */
export const metricOverrideSchema = metricSchema.partial();
export type MetricOverride = z.infer<typeof metricOverrideSchema>;

export function isPercentile(statistic: string): boolean {
  return statistic.startsWith('p');
}
