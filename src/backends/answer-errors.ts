/** Failures of an answer itself (see DESIGN: how a backend's answer is judged), with what the server said about it. */
import { KoubouError } from '../errors.js';
import type { AnswerInfo } from '../tasks/task.js';

/**
 * A failure of the answer itself, which still says what the server reported about it (model, usage, finish reason)
 * and may keep the first part of the output, so the task's result can show them.
 */
export abstract class AnswerError extends KoubouError {
  constructor(
    message: string,
    /** What the server reported about the answer, in the task result's terms. */
    readonly answer?: AnswerInfo,
    /** The start of the output, kept when the answer is refused for its size. */
    readonly partialOutput?: string,
  ) {
    super(message);
  }
}

/** The server ended the answer with a finish reason meaning it gave up (vLLM's "abort", "error"): retry it. */
export class AnswerAborted extends AnswerError {
  readonly code = 'answer_aborted';
  override readonly status = 502;
  override readonly retryable = true;
}

/**
 * The answer ended with no text at all on a finish reason that is not the token limit (stop, content_filter, an
 * Ollama "load", one we do not know): there is nothing to hand back. Retryable, but not after a content filter.
 */
export class AnswerEmpty extends AnswerError {
  readonly code = 'answer_empty';
  override readonly status = 502;
  override readonly retryable = this.answer?.finishReason !== 'content_filter';
}

/** The answer stopped at the token limit before any text: the budget went on reasoning or was too small. */
export class AnswerTruncated extends AnswerError {
  readonly code = 'answer_truncated';
  override readonly status = 502;
}

/**
 * The answer grew past tasks.max_output_bytes (an agent CLI's output past its backend's max_output_bytes); the call
 * was aborted (the process group killed) and the first bytes kept. Permanent: it would do it again.
 */
export class OutputTooLarge extends AnswerError {
  readonly code = 'output_too_large';
  override readonly status = 502;
}
