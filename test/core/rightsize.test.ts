import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FARGATE_SIZES, fargateSizeProblem } from '../../lambdas/core/config/fargate';
import { FARGATE_PRICES, fargatePrice, HOURS_PER_MONTH } from '../../lambdas/core/config/fargate-prices';
import {
  monthlyUsd,
  percentile,
  projectedPercent,
  rightsize,
  scaleContainers,
  summarizeUtilization,
  taskHourUsd,
  wholeHours,
  type RightsizeInput,
} from '../../lambdas/core/rightsize';

const PRICE = FARGATE_PRICES['us-east-1']!.X86_64;
const input = (over: Partial<RightsizeInput>): RightsizeInput => ({
  current: { cpu: 1024, memoryMiB: 2048 },
  cpuP95Percent: 30,
  memoryP99Percent: 35,
  cpuTargetPercent: 70,
  memoryLimitPercent: 80,
  price: PRICE,
  averageTasks: 1,
  ...over,
});
const size = (d: ReturnType<typeof rightsize>) => (d.recommended ? `${d.recommended.cpu}/${d.recommended.memoryMiB}` : 'none');

describe('the Fargate size table', () => {
  it('holds exactly the valid pairs: 256 CPU with 512, 1024, 2048 MiB only; 16 vCPU up to 120 GB in 8 GB steps', () => {
    expect(FARGATE_SIZES.filter((s) => s.cpu === 256).map((s) => s.memoryMiB)).toEqual([512, 1024, 2048]);
    expect(FARGATE_SIZES.filter((s) => s.cpu === 512).map((s) => s.memoryMiB)).toEqual([1024, 2048, 3072, 4096]);
    expect(FARGATE_SIZES.filter((s) => s.cpu === 4096)).toHaveLength(23);
    expect(FARGATE_SIZES.filter((s) => s.cpu === 8192).map((s) => s.memoryMiB / 1024)).toEqual([16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);
    expect(FARGATE_SIZES.filter((s) => s.cpu === 16384).map((s) => s.memoryMiB / 1024)).toEqual([32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120]);
    for (const s of FARGATE_SIZES) expect(fargateSizeProblem(s.cpu, s.memoryMiB), `${s.cpu}/${s.memoryMiB}`).toBeUndefined();
    expect(fargateSizeProblem(256, 1536)).toBeDefined();
  });
});

describe('prices', () => {
  it('us-east-1 Linux/x86 and ARM, per vCPU-hour and GB-hour; an unknown region falls back to us-east-1', () => {
    expect(fargatePrice('us-east-1')).toEqual({ price: { vcpuHour: 0.04048, gbHour: 0.004445 }, region: 'us-east-1', architecture: 'X86_64', fallback: false });
    expect(fargatePrice('eu-west-1', 'ARM64').price).toEqual({ vcpuHour: 0.03238, gbHour: 0.00356 });
    expect(fargatePrice('xx-nowhere-1')).toMatchObject({ region: 'us-east-1', fallback: true });
    expect(fargatePrice(undefined)).toMatchObject({ region: 'us-east-1', fallback: true });
  });

  it('a task-hour is vCPUs × vCPU-hour + GB × GB-hour; a month is 730 hours', () => {
    expect(taskHourUsd({ cpu: 1024, memoryMiB: 2048 }, PRICE)).toBeCloseTo(0.04937, 10);
    expect(taskHourUsd({ cpu: 256, memoryMiB: 512 }, PRICE)).toBeCloseTo(0.0123425, 10);
    expect(monthlyUsd({ cpu: 1024, memoryMiB: 2048 }, PRICE, 4)).toBeCloseTo(0.04937 * HOURS_PER_MONTH * 4, 10);
  });
});

describe('percentiles and coverage', () => {
  it('nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBeUndefined();
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });

  it('hours are datapoints × period, the smaller of the two series; 23.99 h is 23 whole hours', () => {
    const pts = (n: number) => Array.from({ length: n }, (_, i) => ({ t: i * 60_000, v: i }));
    const s = summarizeUtilization(pts(1440), pts(1439), 60);
    expect(s.cpuHours).toBe(24);
    expect(s.hours).toBeCloseTo(1439 / 60, 10);
    expect(wholeHours(s.hours)).toBe(23);
    expect(wholeHours(24)).toBe(24);
    expect(summarizeUtilization([], [], 60)).toEqual({ cpuHours: 0, memoryHours: 0, hours: 0 });
  });

  it('projection: observed % × current ÷ candidate', () => {
    expect(projectedPercent(30, 1024, 512)).toBe(60);
    expect(projectedPercent(80, 2048, 4096)).toBe(40);
  });
});

describe('rightsize', () => {
  it('picks the cheapest valid pair with p95 CPU and p99 memory within their limits', () => {
    const d = rightsize(input({}));
    expect(size(d)).toBe('512/1024');
    expect(d.verdict).toBe('downsize');
    expect(d.recommended).toMatchObject({ cpuP95Percent: 60, memoryP99Percent: 70, fits: true });
    expect(d.monthlyDifferenceUsd).toBeCloseTo((taskHourUsd({ cpu: 512, memoryMiB: 1024 }, PRICE) - taskHourUsd({ cpu: 1024, memoryMiB: 2048 }, PRICE)) * 730, 10);
  });

  it('exactly at the target fits; a hair above does not', () => {
    // 35 % of 1024 is 70 % of 512; 40 % of 2048 is 80 % of 1024.
    expect(size(rightsize(input({ cpuP95Percent: 35, memoryP99Percent: 40 })))).toBe('512/1024');
    expect(size(rightsize(input({ cpuP95Percent: 35.001, memoryP99Percent: 40 })))).toBe('1024/2048');
    expect(size(rightsize(input({ cpuP95Percent: 35, memoryP99Percent: 40.001 })))).toBe('512/2048');
    // At the current size: exactly 70 % keeps it, as the CPU alarm (GreaterThanThreshold) would not fire.
    expect(rightsize(input({ cpuP95Percent: 70, memoryP99Percent: 80 })).verdict).toBe('keep');
  });

  it('the pool’s own CPU target decides', () => {
    expect(size(rightsize(input({ cpuP95Percent: 30, cpuTargetPercent: 50 })))).toBe('1024/2048');
    expect(size(rightsize(input({ cpuP95Percent: 30, cpuTargetPercent: 60 })))).toBe('512/1024');
  });

  it('already the smallest: keeps 256/512 and says so', () => {
    const d = rightsize(input({ current: { cpu: 256, memoryMiB: 512 }, cpuP95Percent: 5, memoryP99Percent: 10 }));
    expect(d.verdict).toBe('keep');
    expect(size(d)).toBe('256/512');
    expect(d.monthlyDifferenceUsd).toBe(0);
    expect(d.reason).toMatch(/^256 CPU \/ 512 MiB is already the cheapest Fargate size/);
  });

  it('memory-bound: little CPU but a lot of memory', () => {
    // 10 % of 1024 CPU fits 256; 75 % of 2048 MiB (1536 MiB used) needs 1920 MiB: 2048.
    const d = rightsize(input({ cpuP95Percent: 10, memoryP99Percent: 75 }));
    expect(size(d)).toBe('256/2048');
    expect(d.bound).toBe('memory');
    // Needing more than 256 CPU can hold: the cheapest pair with enough memory.
    expect(size(rightsize(input({ cpuP95Percent: 10, memoryP99Percent: 90 })))).toBe('512/3072');
  });

  it('cpu-bound: a lot of CPU, little memory', () => {
    const d = rightsize(input({ current: { cpu: 2048, memoryMiB: 8192 }, cpuP95Percent: 30, memoryP99Percent: 10 }));
    // 30 % of 2048 needs 878 units: 1024, whose smallest memory is 2048 (819 MiB used is 40 %).
    expect(size(d)).toBe('1024/2048');
    expect(d.bound).toBe('cpu');
    expect(d.recommended?.memoryP99Percent).toBe(40);
  });

  it('256 CPU’s memory set: 1536 MiB is not offered, so 1500 MiB needed goes to 2048', () => {
    // 1200 MiB used (58.6 % of 2048): 1536 MiB would hold it at 78 %, but 256 CPU does not take 1536.
    const d = rightsize(input({ current: { cpu: 512, memoryMiB: 2048 }, cpuP95Percent: 10, memoryP99Percent: (1200 / 2048) * 100 }));
    expect(size(d)).toBe('256/2048');
  });

  it('sizes up when the task runs over its limits', () => {
    const d = rightsize(input({ cpuP95Percent: 85, memoryP99Percent: 40 }));
    expect(d.verdict).toBe('upsize');
    expect(size(d)).toBe('2048/4096');
    expect(d.current.fits).toBe(false);
    expect(d.monthlyDifferenceUsd).toBeGreaterThan(0);
  });

  it('says when no Fargate size fits', () => {
    const d = rightsize(input({ current: { cpu: 16384, memoryMiB: 122880 }, cpuP95Percent: 95, memoryP99Percent: 50 }));
    expect(d.verdict).toBe('none-fits');
    expect(d.recommended).toBeUndefined();
    expect(d.monthlyDifferenceUsd).toBeUndefined();
    expect(d.reason).toBe(
      'no Fargate size keeps p95 CPU at or under 70 % and p99 memory at or under 80 %: even the largest, 16384 CPU / 122880 MiB, projects p95 CPU 95 %; add tasks instead (maxCapacity)',
    );
  });

  it('costs scale with the average task count; the recommendation does not', () => {
    const one = rightsize(input({ averageTasks: 1 }));
    const many = rightsize(input({ averageTasks: 6.5 }));
    expect(size(many)).toBe(size(one));
    expect(many.current.monthlyCostUsd).toBeCloseTo(one.current.monthlyCostUsd * 6.5, 10);
  });

  it('property: the recommendation is a valid Fargate pair within both limits and the cheapest such; else none fits', () => {
    const sizeArb = fc.constantFrom(...FARGATE_SIZES);
    fc.assert(
      fc.property(
        sizeArb,
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.integer({ min: 10, max: 95 }),
        fc.integer({ min: 10, max: 95 }),
        fc.constantFrom(PRICE, FARGATE_PRICES['us-east-1']!.ARM64),
        (current, cpu, memory, cpuTarget, memoryLimit, price) => {
          const i = input({ current, cpuP95Percent: cpu, memoryP99Percent: memory, cpuTargetPercent: cpuTarget, memoryLimitPercent: memoryLimit, price });
          const d = rightsize(i);
          const within = (s: { cpu: number; memoryMiB: number }) =>
            projectedPercent(cpu, current.cpu, s.cpu) <= cpuTarget + 1e-9 && projectedPercent(memory, current.memoryMiB, s.memoryMiB) <= memoryLimit + 1e-9;
          const fitting = FARGATE_SIZES.filter(within);
          if (!d.recommended) {
            expect(d.verdict).toBe('none-fits');
            expect(fitting).toEqual([]);
            return;
          }
          const r = d.recommended;
          expect(fargateSizeProblem(r.cpu, r.memoryMiB)).toBeUndefined();
          expect(r.cpuP95Percent).toBeLessThanOrEqual(cpuTarget + 1e-9);
          expect(r.memoryP99Percent).toBeLessThanOrEqual(memoryLimit + 1e-9);
          for (const s of fitting) expect(taskHourUsd(r, price)).toBeLessThanOrEqual(taskHourUsd(s, price) + 1e-12);
          // The current size fits at its own utilisation whenever both are within the limits: never sized up then.
          if (cpu <= cpuTarget && memory <= memoryLimit) expect(d.verdict).not.toBe('upsize');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('scaleContainers', () => {
  it('scales the containers that set their own limits in proportion, rounding down so the sum still fits', () => {
    const containers = [{ name: 'engine', memoryLimitMiB: 1536 }, { name: 'sidecar', memoryLimitMiB: 512, cpu: 128 }, { name: 'shares' }];
    expect(scaleContainers(containers, { cpu: 1024, memoryMiB: 2048 }, { cpu: 512, memoryMiB: 1024 })).toEqual([
      { name: 'engine', memoryLimitMiB: 768 },
      { name: 'sidecar', cpu: 64, memoryLimitMiB: 256 },
    ]);
    const odd = scaleContainers([{ name: 'a', memoryLimitMiB: 1000 }, { name: 'b', memoryLimitMiB: 1048 }], { cpu: 1024, memoryMiB: 2048 }, { cpu: 1024, memoryMiB: 3072 });
    expect(odd.reduce((s, c) => s + c.memoryLimitMiB!, 0)).toBeLessThanOrEqual(3072);
    expect(scaleContainers([{ name: 'x' }], { cpu: 1024, memoryMiB: 2048 }, { cpu: 256, memoryMiB: 512 })).toEqual([]);
  });
});
