/** What this machine says about a process: whether it lives, and when it started (to tell a reused pid apart). */
import fs from 'node:fs';

/** True while the process exists and has not exited (a zombie nobody has reaped yet counts as exited). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return procStat(pid)?.[0] !== 'Z';
}

/**
 * The kernel's start time of the process (field 22 of /proc/PID/stat, clock ticks since boot) as a string, or null
 * where there is no /proc. Two processes that had the same pid never share it.
 */
export function processStartTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

/** /proc/PID/stat from field 3 (the state letter) on; the command name before it may hold spaces and parentheses. */
function procStat(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
