/**
 * CPU time of processes (Linux /proc), to say where the work of a phase goes: this process (the
 * gateway emulator and the handlers), DynamoDB Local (the JVM) and the load generator. CPU time is
 * what a shared machine's other tenants cannot inflate; they only make us wait for it.
 */
import { readFileSync } from 'node:fs';
import { dynamoLocalPids } from '../../local/dynamo-local.js';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** user + system CPU ms of a process (all its threads), or undefined when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  if (pid === process.pid) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The DynamoDB Local JVM listening on `endpoint`'s port. */
export function dynamoLocalPid(endpoint: string): number | undefined {
  return dynamoLocalPids(Number(new URL(endpoint).port))[0];
}

export type CpuSnapshot = Readonly<Record<string, number | undefined>>;

export function cpuSnapshot(pids: Readonly<Record<string, number | undefined>>): CpuSnapshot {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processCpuMs(pid)]));
}

/** CPU ms per unit of work between two snapshots, by process. */
export function cpuPer(before: CpuSnapshot, after: CpuSnapshot, units: number): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    if (start !== undefined && end !== undefined && units > 0) {
      result[name] = Math.round(((end - start) / units) * 100) / 100;
    }
  }
  return result;
}
