/** Every NATS subject Koubou uses, under one configurable prefix (default `koubou`). */

export interface Subjects {
  /** Request/reply: same body and answers as POST /task/delegate. */
  delegate: string;
  /** Request/reply: {task_id} → same as GET /task/:id/status. */
  status: string;
  /** Every state change and streamed output chunk of one task. */
  taskEvents(taskId: string): string;
  /** Wildcard for watching every task's events. */
  allTaskEvents: string;
  /** What happens to one worker (started, restarted, lost, retired, gave_up, left). */
  workerEvents(workerId: string): string;
}

/** The subjects under `prefix`. Task ids are UUIDs, which contain no subject separators. */
export function subjects(prefix: string): Subjects {
  return {
    delegate: `${prefix}.task.delegate`,
    status: `${prefix}.task.status`,
    taskEvents: (taskId) => `${prefix}.events.task.${taskId}`,
    allTaskEvents: `${prefix}.events.task.*`,
    // Worker ids hold ':' (local:backend:0), which subjects allow; '.' would split the token, and ids have none.
    workerEvents: (workerId) => `${prefix}.events.worker.${workerId}`,
  };
}
