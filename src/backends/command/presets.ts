/**
 * What each agent CLI is called with in its non-interactive mode, and how its output is read. The prompt is always one
 * argv element of its own (after `--`, or glued to its flag as `--flag=<prompt>`), or stdin: never something a CLI
 * could read as a flag, never part of a command line a shell would parse.
 */
import { codexParser } from './codex-events.js';
import { geminiExitMeaning, geminiParser } from './gemini-events.js';
import { plainTextParser, type AgentOutputParser } from './agent-output.js';

export const PRESETS = ['generic', 'codex', 'gemini', 'aider'] as const;
export type PresetName = (typeof PRESETS)[number];

export interface Invocation {
  argv: string[];
  /** The prompt on stdin, or null when it travels in argv. */
  stdin: string | null;
}

export interface InvocationInput {
  /** The backend's `command`: for generic the whole template, for a preset the executable (and leading args) to use. */
  command: readonly string[] | null;
  prompt: string;
  model: string;
  /** Where the CLI runs (its cwd too). */
  workdir: string;
}

export interface Preset {
  /** Environment variables the CLI needs, passed through when set. */
  envNames: readonly string[];
  invocation(input: InvocationInput): Invocation;
  parser(onChunk: (text: string) => void): AgentOutputParser;
  /** A reading of an exit code the CLI documents, for the task's error. */
  exitMeaning(code: number): string | null;
}

const noMeaning = () => null;

const presets: Record<PresetName, Preset> = {
  // codex exec: --json for JSONL events, --oss -m for a local model served by Ollama (codex 0.171 refuses --oss
  // without a provider unless its config.toml names one), the sandbox limited to the workdir.
  codex: {
    envNames: ['CODEX_HOME', 'OLLAMA_HOST', 'CODEX_OSS_BASE_URL', 'CODEX_OSS_PORT', 'OPENAI_API_KEY', 'SSL_CERT_FILE'],
    invocation: ({ command, prompt, model, workdir }) => ({
      argv: [...(command ?? ['codex']), 'exec', '--json', '--oss', '--local-provider', 'ollama', '-m', model, '--cd', workdir, '--sandbox', 'workspace-write', '--skip-git-repo-check', '--', prompt],
      stdin: null,
    }),
    parser: codexParser,
    exitMeaning: noMeaning,
  },
  // gemini headless: stream-json events, --yolo so tools run without a prompt nobody could answer.
  gemini: {
    envNames: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_GENAI_USE_VERTEXAI', 'GEMINI_CLI_TRUST_WORKSPACE'],
    invocation: ({ command, prompt, model }) => ({
      argv: [...(command ?? ['gemini']), '--output-format', 'stream-json', '--yolo', '-m', model, `--prompt=${prompt}`],
      stdin: null,
    }),
    parser: geminiParser,
    exitMeaning: geminiExitMeaning,
  },
  // aider: one message, no questions, no commits of its own (Koubou commits the worktree), plain text out.
  aider: {
    envNames: ['OLLAMA_API_BASE', 'OPENAI_API_KEY', 'OPENAI_API_BASE'],
    invocation: ({ command, prompt, model }) => ({
      argv: [
        ...(command ?? ['aider']),
        '--yes-always', '--no-auto-commits', '--no-pretty', '--no-check-update', '--no-show-model-warnings',
        '--model', `ollama_chat/${model}`,
        `--message=${prompt}`,
      ],
      stdin: null,
    }),
    parser: plainTextParser,
    exitMeaning: noMeaning,
  },
  // Any command: {prompt}, {model} and {workdir} are replaced only where they are a whole argv element; without a
  // {prompt} element the prompt goes to stdin.
  generic: {
    envNames: [],
    invocation: ({ command, prompt, model, workdir }) => {
      const template = command ?? [];
      const values: Record<string, string> = { '{prompt}': prompt, '{model}': model, '{workdir}': workdir };
      return {
        argv: template.map((arg) => values[arg] ?? arg),
        stdin: template.includes('{prompt}') ? null : prompt,
      };
    },
    parser: plainTextParser,
    exitMeaning: noMeaning,
  },
};

export function preset(name: PresetName): Preset {
  return presets[name];
}
