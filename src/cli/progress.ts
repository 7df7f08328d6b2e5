/** A one-line progress indicator on a terminal (stderr): state and elapsed time, redrawn in place, cleared at the end. */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 250;

export class Progress {
  private text = '';
  private frame = 0;
  private shown = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();

  /** Does nothing at all unless `stream` is a terminal, so piped output stays clean. */
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled: boolean = stream.isTTY === true,
  ) {}

  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.render(), REDRAW_MS);
    this.timer.unref();
    this.render();
  }

  update(text: string): void {
    this.text = text;
    if (this.timer) this.render();
  }

  /** Writes a line of output above the indicator. */
  print(out: NodeJS.WritableStream, line: string): void {
    this.erase();
    out.write(line);
    if (this.timer) this.render();
  }

  /** Stops and removes the indicator. */
  clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.erase();
  }

  private render(): void {
    const elapsed = Math.floor((Date.now() - this.startedAt) / 1000);
    const spinner = FRAMES[this.frame++ % FRAMES.length] ?? '';
    const line = `${spinner} ${this.text || 'waiting'} · ${elapsed}s`;
    const width = Math.max(10, (this.stream.columns || 80) - 1);
    this.stream.write(`\r\x1b[K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.shown = true;
  }

  private erase(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
