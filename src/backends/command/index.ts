/**
 * The `type: command` backend: one agent CLI process per task (codex, gemini, aider or any command), run in the task's
 * workdir, by default in a git worktree of its own on branch `koubou/<task-id>` whose commit and diff become the result
 * (prepared-worktrees.ts keeps such worktrees ready, so a task rarely waits for one to be written).
 */
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandFailed, CommandWorkspaceError, ConfigError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import type { TaskChanges } from '../../tasks/task.js';
import type { Backend, BackendSettings, GenerateRequest, GenerateResult } from '../types.js';
import { childEnv } from './env.js';
import { commitAll, describeChanges, repositoryRoot } from './git.js';
import { PreparedWorktrees } from './prepared-worktrees.js';
import { preset as presetOf } from './presets.js';
import { runProcess } from './process.js';
import type { CommandSettings } from './settings.js';
import { WorkdirLocks } from './workdir-locks.js';
import { resolveWorkdir, workspaceRoots } from './workdir.js';

export interface CommandBackendDeps {
  /** The environment Koubou was started with; only allowlisted names reach a CLI (see env.ts). */
  inheritedEnv: Readonly<Record<string, string | undefined>>;
  /** Values no child may see (API token, pool token). */
  secrets: readonly string[];
  /** Where warnings about prepared worktrees go; silent when absent. */
  log?: Logger | undefined;
}

/** Builds a command backend; settings.command must be set (config.ts does for type command). */
export function createCommandBackend(settings: BackendSettings, deps: CommandBackendDeps): Backend {
  const cmd = settings.command;
  if (!cmd) throw new ConfigError(`backend "${settings.name}": type command needs its command settings`);
  const preset = presetOf(cmd.preset);
  const roots = cmd.workspace_root === null ? [] : workspaceRoots(cmd.workspace_root);
  const env = childEnv({ inherited: deps.inheritedEnv, presetNames: preset.envNames, passNames: cmd.env_pass, set: cmd.env_set, secrets: deps.secrets });
  // git sees only what it needs to find itself and the user's identity file; never asks on a terminal.
  const gitEnv = { ...childEnv({ inherited: deps.inheritedEnv, presetNames: [], passNames: [], set: {}, secrets: deps.secrets }), GIT_TERMINAL_PROMPT: '0' };
  const locks = new WorkdirLocks();
  const worktrees = new PreparedWorktrees({ perRepo: cmd.prepared_worktrees, env: gitEnv, log: deps.log ?? silentLogger });
  /** Worktree runs under way: close() waits for their clean-up (a stopped worker aborts its run; it still tidies up). */
  const inFlight = new Set<Promise<unknown>>();

  async function run(req: GenerateRequest, cwd: string): Promise<GenerateResult> {
    const model = req.model ?? settings.model;
    const { argv, stdin } = preset.invocation({ command: cmd!.command, prompt: req.prompt, model, workdir: cwd });
    const parser = preset.parser(req.onChunk ?? (() => {}));
    let exit;
    try {
      exit = await runProcess({ argv, cwd, env, stdin, maxOutputBytes: cmd!.max_output_bytes, killGraceMs: cmd!.kill_grace_ms, signal: req.signal, onStdoutLine: (l) => parser.line(l) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).syscall?.startsWith('spawn')) {
        throw new CommandFailed(`cannot start ${JSON.stringify(argv[0])}: not found on the PATH Koubou passes to it`, false, { cause: err });
      }
      throw err;
    }
    const answer = parser.answer();
    if (exit.code !== 0 || (answer.output === '' && answer.failure !== undefined)) {
      const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const why = [exit.code === null ? null : preset.exitMeaning(exit.code), answer.failure, exit.stderrTail.join('\n')].filter((s) => s).join('; ');
      throw new CommandFailed(`${argv[0]} ${how}${why ? `: ${why}` : ''}`, cmd!.retry);
    }
    // A CLI that exits 0 has finished its turn; it reports no other way of ending.
    return {
      output: answer.output,
      finishReason: 'stop',
      truncated: false,
      model,
      usage: { promptTokens: answer.promptTokens ?? null, completionTokens: answer.completionTokens ?? null, reasoningTokens: null },
    };
  }

  /** Runs in a worktree of `repo` on the task's branch; commits what the CLI changed, describes it, removes the worktree. */
  async function inWorktree(req: GenerateRequest, repo: string, workdir: string, taskId: string): Promise<GenerateResult> {
    const branch = `koubou/${taskId}`;
    const wt = await worktrees.checkout(repo, branch);
    let ok = false;
    try {
      const cwd = path.join(wt.tree, path.relative(repo, workdir));
      if (!existsSync(cwd)) {
        throw new CommandWorkspaceError(
          `the workdir ${path.relative(repo, workdir)} holds nothing git tracks (it is untracked or ignored), so the task's worktree of ${repo} has no such folder; commit something in it, or give this backend isolation: none`,
        );
      }
      const result = await run(req, cwd);
      const firstLine = req.prompt.split('\n', 1)[0]!.slice(0, 200);
      await commitAll(wt, branch, `koubou: ${firstLine}`, gitEnv);
      const changes: TaskChanges = await describeChanges(wt, branch, wt.base, cmd!.max_output_bytes, gitEnv);
      ok = true;
      return { ...result, changes };
    } finally {
      if (cmd!.keep_worktree) {
        // The user asked for the directory: it stays, on its branch.
      } else if (ok) {
        await worktrees.removeLater(repo, wt);
      } else {
        // A failed attempt's branch holds nothing to review; a retry makes a new one.
        await worktrees.remove(repo, wt, branch);
      }
    }
  }

  return {
    name: settings.name,
    type: 'command',
    model: settings.model,
    retries: cmd.retry,
    async generate(req) {
      if (req.workdir === undefined) {
        // No workdir: a scratch directory of its own, gone afterwards.
        const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'koubou-run-')));
        try {
          return await run(req, scratch);
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      }
      // Checked again here: the submit-time check may have used another backend's root.
      const workdir = resolveWorkdir(req.workdir, roots);
      const repo = cmd.isolation === 'worktree' ? await repositoryRoot(workdir, gitEnv) : null;
      if (repo !== null) {
        if (req.taskId === undefined) throw new CommandWorkspaceError('a worktree run needs the task id');
        const running = inWorktree(req, realpathSync(repo), workdir, req.taskId);
        const settled = running.catch(() => {}).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
        return running;
      }
      return locks.hold(workdir, req.signal, () => run(req, workdir));
    },
    async probe() {
      // No server to ask: whether the executable starts shows in the first task's error.
      return true;
    },
    async listModels() {
      return null;
    },
    async close() {
      await Promise.all(inFlight);
      await worktrees.close();
    },
  };
}
