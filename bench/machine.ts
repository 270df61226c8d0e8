import * as os from 'node:os';

/** One line naming the machine and the date, for every benchmark report. */
export function machineLine(now = new Date()): string {
  const cpus = os.cpus();
  return `${now.toISOString().slice(0, 10)}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}
