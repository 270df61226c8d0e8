import * as z from 'zod/mini';

/** CloudWatch statistics that target tracking and GetMetricData both accept. */
export const BASIC_STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;

/** A basic statistic or a percentile such as `p95` / `p99.9`. */
export const statisticSchema = z.string().check(
  z.refine((s) => (BASIC_STATISTICS as readonly string[]).includes(s) || /^p(\d{1,2}(\.\d+)?|100)$/.test(s), {
    message: `must be one of ${BASIC_STATISTICS.join(', ')} or a percentile like p99`,
  }),
);

const metricShape = {
  namespace: z.string().check(z.minLength(1)),
  metricName: z.string().check(z.minLength(1)),
  dimensions: z._default(z.record(z.string(), z.string()), {}),
  statistic: statisticSchema,
};

/** One CloudWatch metric, named the way CloudWatch names it (the config: no unknown keys). */
export const metricSchema = z.strictObject(metricShape);

/** The same metric in the targets document (extra fields allowed, as DESIGN.md says). */
export const documentMetricSchema = z.object(metricShape);

export type MetricRef = z.infer<typeof metricSchema>;

/** Partial metric used for overrides: anything left out comes from the pool's default. */
export const metricOverrideSchema = z.partial(metricSchema);
export type MetricOverride = z.infer<typeof metricOverrideSchema>;

export function isPercentile(statistic: string): boolean {
  return statistic.startsWith('p');
}
