/** Whether a process is still there (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids a fake agent CLI in `hang` mode wrote: its own and its grandchild's. */
export function hangPids(text: string): [number, number] {
  const [child, grandchild] = text.split(' ').map(Number);
  return [child!, grandchild!];
}
