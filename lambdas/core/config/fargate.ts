/**
 * Fargate task sizes: the memory values each CPU size accepts
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
 * The same sizes for Linux/x86_64 and Linux/ARM64. One table: the config
 * check below, `mlscale plan` and `mlscale rightsize` (FARGATE_SIZES) all
 * read it.
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

/** 256 CPU accepts 512, 1024 and 2048 only (not every 512 MiB step in between). */
const CPU_256_MEMORY: readonly number[] = [512, 1_024, 2_048];

function memoryFits(cpu: number, memoryMiB: number): boolean {
  const sizes = FARGATE_MEMORY[cpu];
  if (!sizes) return false;
  if (cpu === 256) return CPU_256_MEMORY.includes(memoryMiB);
  return memoryMiB >= sizes.min && memoryMiB <= sizes.max && (memoryMiB - sizes.min) % sizes.step === 0;
}

/** A Fargate task size: CPU units (1024 = 1 vCPU) and memory in MiB. */
export interface FargateSize {
  readonly cpu: number;
  readonly memoryMiB: number;
}

/** Every valid Fargate cpu/memory pair, by cpu then memory, from the table above. */
export const FARGATE_SIZES: readonly FargateSize[] = Object.entries(FARGATE_MEMORY).flatMap(([key, { min, max, step }]) => {
  const cpu = Number(key);
  const sizes: FargateSize[] = [];
  for (let memoryMiB = min; memoryMiB <= max; memoryMiB += step) if (memoryFits(cpu, memoryMiB)) sizes.push({ cpu, memoryMiB });
  return sizes;
});

/** Why a Fargate cpu/memory pair is invalid, or undefined when it is valid. */
export function fargateSizeProblem(cpu: number, memoryMiB: number): string | undefined {
  const sizes = FARGATE_MEMORY[cpu];
  if (!sizes) return `cpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')} on Fargate, got ${cpu}`;
  if (memoryFits(cpu, memoryMiB)) return undefined;
  return `memoryMiB ${memoryMiB} does not fit cpu ${cpu} on Fargate (allowed ${sizes.min}-${sizes.max} in steps of ${sizes.step})`;
}
