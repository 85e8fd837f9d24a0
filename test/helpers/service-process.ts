/**
 * `node dist/cli.js run` as a child process, for the tests that kill, stop or multiply the
 * service: JSON log lines parsed as they come, the bound HTTP port, signals and exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './services.js';
import { waitFor } from './wait-for.js';

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly component?: string;
  readonly [key: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ServiceProcess {
  readonly lines: LogLine[] = [];
  /** Non-JSON output (stack traces of crashes), kept for failure messages. */
  readonly raw: string[] = [];
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    const onLine = (line: string): void => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.raw.push(line);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Starts the service with exactly this environment (plus PATH/HOME). */
  static start(label: string, env: Readonly<Record<string, string>>): ServiceProcess {
    const child = spawn(process.execPath, ['dist/cli.js', 'run'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(label, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Waits for a log line matching `predicate`; fails early if the process exits. */
  async waitForLog(predicate: (l: LogLine) => boolean, timeoutMs = 60_000, description = 'log line'): Promise<LogLine> {
    return waitFor(
      () => {
        const found = this.lines.find(predicate);
        if (found !== undefined) return found;
        if (this.exit !== undefined) throw new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before ${description}: ${this.tail()}`);
        return undefined;
      },
      { timeoutMs, intervalMs: 50, description: `${this.label}: ${description}` },
    );
  }

  /** Resolves with the HTTP port once the service reports it started. */
  async started(timeoutMs = 120_000): Promise<number> {
    const line = await this.waitForLog((l) => l.msg === 'service started', timeoutMs, 'service started');
    return Number(line['port']);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Last lines of output, for assertion messages. */
  tail(n = 15): string {
    return [...this.lines.slice(-n).map((l) => JSON.stringify(l)), ...this.raw.slice(-n)].join('\n');
  }

  /** Sum of a Prometheus metric's samples (all label sets), from the running service. */
  async metric(port: number, name: string, labelFilter = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return sumMetric(text, name, labelFilter);
  }
}

/** Sums the samples of `name` whose label set contains `labelFilter`. */
export function sumMetric(text: string, name: string, labelFilter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter !== '' && !rest.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Resident set size of a process in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}
