/**
 * Fargate task sizes: the memory values each CPU size accepts
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
 */
const FARGATE_MEMORY: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  256: { min: 512, max: 2_048, step: 512 },
  512: { min: 1_024, max: 4_096, step: 1_024 },
  1_024: { min: 2_048, max: 8_192, step: 1_024 },
  2_048: { min: 4_096, max: 16_384, step: 1_024 },
  4_096: { min: 8_192, max: 30_720, step: 1_024 },
  8_192: { min: 16_384, max: 61_440, step: 4_096 },
  16_384: { min: 32_768, max: 122_880, step: 8_192 },
};

/** Why a Fargate cpu/memory pair is invalid, or undefined when it is valid. */
export function fargateSizeProblem(cpu: number, memoryMiB: number): string | undefined {
  const sizes = FARGATE_MEMORY[cpu];
  if (!sizes) return `cpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')} on Fargate, got ${cpu}`;
  // 256 CPU accepts 512, 1024 and 2048 only.
  const allowed =
    cpu === 256
      ? [512, 1_024, 2_048].includes(memoryMiB)
      : memoryMiB >= sizes.min && memoryMiB <= sizes.max && (memoryMiB - sizes.min) % sizes.step === 0;
  if (allowed) return undefined;
  return `memoryMiB ${memoryMiB} does not fit cpu ${cpu} on Fargate (allowed ${sizes.min}-${sizes.max} in steps of ${sizes.step})`;
}
