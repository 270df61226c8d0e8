/**
 * GPU instance facts used to validate GPU pools and node groups, and by
 * `mlscale plan`. vCPUs, memory and GPUs are from the EC2 instance type pages;
 * prices are Linux on-demand USD per hour in us-east-1 and are meant to be
 * edited for your region and discounts (see docs/plan.md).
 */
export interface GpuInstance {
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  readonly gpuModel: string;
  readonly gpuMemoryGiB: number;
  readonly usdPerHour: number;
}

export const GPU_INSTANCES: Readonly<Record<string, GpuInstance>> = {
  'g4dn.xlarge': { vcpus: 4, memoryGiB: 16, gpus: 1, gpuModel: 'T4', gpuMemoryGiB: 16, usdPerHour: 0.526 },
  'g5.xlarge': { vcpus: 4, memoryGiB: 16, gpus: 1, gpuModel: 'A10G', gpuMemoryGiB: 24, usdPerHour: 1.006 },
  'g5.2xlarge': { vcpus: 8, memoryGiB: 32, gpus: 1, gpuModel: 'A10G', gpuMemoryGiB: 24, usdPerHour: 1.212 },
  'g5.4xlarge': { vcpus: 16, memoryGiB: 64, gpus: 1, gpuModel: 'A10G', gpuMemoryGiB: 24, usdPerHour: 1.624 },
  'g5.12xlarge': { vcpus: 48, memoryGiB: 192, gpus: 4, gpuModel: 'A10G', gpuMemoryGiB: 96, usdPerHour: 5.672 },
  'g5.48xlarge': { vcpus: 192, memoryGiB: 768, gpus: 8, gpuModel: 'A10G', gpuMemoryGiB: 192, usdPerHour: 16.288 },
  'g6.xlarge': { vcpus: 4, memoryGiB: 16, gpus: 1, gpuModel: 'L4', gpuMemoryGiB: 24, usdPerHour: 0.805 },
  'g6e.xlarge': { vcpus: 4, memoryGiB: 32, gpus: 1, gpuModel: 'L40S', gpuMemoryGiB: 48, usdPerHour: 1.861 },
  'p4d.24xlarge': { vcpus: 96, memoryGiB: 1152, gpus: 8, gpuModel: 'A100', gpuMemoryGiB: 320, usdPerHour: 21.96 },
  'p5.48xlarge': { vcpus: 192, memoryGiB: 2048, gpus: 8, gpuModel: 'H100', gpuMemoryGiB: 640, usdPerHour: 55.04 },
};
