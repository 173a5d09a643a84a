import os from 'node:os';

export interface MachineInfo {
  readonly cpu_model: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  readonly hostname: string;
  /** 1, 5 and 15 minute load averages when the description was taken. */
  readonly loadavg: readonly number[];
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    hostname: os.hostname(),
    loadavg: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
