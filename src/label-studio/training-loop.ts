import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { EnricherError, toEnricherError } from '../errors.js';
import { decodeOptions } from '../inference/options.js';
import type { Logger } from '../logger.js';
import { tasksToExamples, type LabelStudioTask, type SkippedRegion, type TrainingExample } from './annotations.js';
import type { LabelStudioClient } from './client.js';
import { parseLabelConfig, type NerTarget } from './label-config.js';
import { targetPrompts } from './predictions.js';
import type { ModelSlot, ServedModel } from './served-model.js';

/**
 * Fine-tuning from Label Studio: a round takes the project's annotated tasks (sent with
 * `/train`, or exported through Label Studio's API for START_TRAINING), converts them to
 * GLiNER training examples, runs `models/finetune.py` as a child process from the served
 * model's PyTorch checkpoint, loads the exported folder, probes it, and swaps it in. One
 * round at a time; a request during a round queues one more (with the newest annotations).
 */

/** Repository root (this file is src/label-studio/ or dist/label-studio/). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ProjectRef {
  readonly id: number;
  /** The labeling config, when the request carried it (else fetched from Label Studio). */
  readonly labelConfig?: string;
  /** Annotated tasks, when the request carried them (`/train`); else exported through the API. */
  readonly tasks?: readonly LabelStudioTask[];
}

export type TrainingState = 'idle' | 'exporting' | 'training' | 'loading' | 'done' | 'skipped' | 'failed' | 'disabled';

export interface TrainingStatus {
  readonly state: TrainingState;
  /** Rounds started since the backend started. */
  readonly round: number;
  readonly queued: boolean;
  readonly project?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly examples?: number;
  readonly skippedRegions?: number;
  readonly seconds?: number;
  readonly modelVersion?: string;
  readonly modelDir?: string;
  /** The round's training log (child stdout and stderr). */
  readonly log?: string;
  readonly reason?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** What the HTTP side needs of the loop. */
export interface TrainingControl {
  /** Starts a round, or queues one behind the running round. Refused (CONFIG_INVALID) when training is not set up. */
  request(project: ProjectRef): 'started' | 'queued';
  status(): TrainingStatus;
}

export interface TrainingLoopOptions {
  readonly config: Readonly<Config>;
  readonly slot: ModelSlot;
  /** Label Studio's API; undefined without LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY (then only `/train` with tasks works). */
  readonly client: LabelStudioClient | undefined;
  /** Loads a model folder as the backend serves it (extractor + checked window options). */
  readonly loadModel: (dir: string) => Promise<ServedModel>;
  readonly logger: Logger;
}

/** Examples of every NER target: each target's regions (by from_name/to_name) on its own text field. */
export function examplesForTargets(tasks: readonly LabelStudioTask[], targets: readonly NerTarget[], labelMap: Readonly<Record<string, string>>): { examples: TrainingExample[]; skipped: SkippedRegion[] } {
  const examples: TrainingExample[] = [];
  const skipped: SkippedRegion[] = [];
  for (const target of targets) {
    const narrowed = tasks.map((t) => ({
      ...t,
      annotations: t.annotations?.map((a) => ({
        ...a,
        result: a.result?.filter((r) => targets.length === 1 || (r.from_name === target.fromName && r.to_name === target.toName)),
      })),
    }));
    const r = tasksToExamples(narrowed, { textField: target.field, labelMap });
    examples.push(...(targets.length === 1 ? r.examples : r.examples.map((e) => ({ ...e, id: `${e.id}-${target.toName}` }))));
    skipped.push(...r.skipped);
  }
  return { examples, skipped };
}

export class TrainingLoop implements TrainingControl {
  private readonly log: Logger;
  private current: TrainingStatus = { state: 'idle', round: 0, queued: false };
  private pending: ProjectRef | undefined;
  private running: Promise<void> | undefined;
  private child: ReturnType<typeof spawn> | undefined;
  private closed = false;
  /** The checkpoint the next round starts from: the last round's, else the configured one. */
  private init: string | undefined;

  constructor(private readonly o: TrainingLoopOptions) {
    this.log = o.logger.child({ component: 'training' });
    const ls = o.config.labelStudio;
    const init = ls.trainInit ?? join(o.slot.current.dir, 'checkpoint');
    if (ls.trainInit !== undefined && !existsSync(join(ls.trainInit, 'gliner_config.json'))) {
      throw new EnricherError('CONFIG_INVALID', `labelStudio.trainInit (LABEL_STUDIO_TRAIN_INIT) ${ls.trainInit} is no GLiNER checkpoint folder (no gliner_config.json)`);
    }
    if (!existsSync(join(init, 'gliner_config.json'))) {
      this.current = { ...this.current, state: 'disabled', reason: `no PyTorch checkpoint to fine-tune: ${init} is absent (set LABEL_STUDIO_TRAIN_INIT)` };
    } else if (!existsSync(resolve(ROOT, ls.python))) {
      this.current = { ...this.current, state: 'disabled', reason: `no Python at ${ls.python} (run models/setup.sh, or set LABEL_STUDIO_PYTHON)` };
    } else {
      this.init = init;
    }
    if (this.current.state === 'disabled') this.log.warn({ reason: this.current.reason }, 'training disabled');
  }

  status(): TrainingStatus {
    return this.current;
  }

  request(project: ProjectRef): 'started' | 'queued' {
    if (this.current.state === 'disabled') throw new EnricherError('CONFIG_INVALID', `training is disabled: ${this.current.reason ?? ''}`);
    if (this.closed) throw new EnricherError('POOL_CLOSED', 'the backend is stopping');
    if (project.tasks === undefined && this.o.client === undefined) {
      throw new EnricherError('CONFIG_INVALID', 'training needs LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY to export the annotated tasks');
    }
    if (this.running !== undefined) {
      this.pending = project;
      this.current = { ...this.current, queued: true };
      return 'queued';
    }
    this.running = this.loop(project);
    return 'started';
  }

  /** Resolves when no round runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Stops a running training child and waits for the loop. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending = undefined;
    this.child?.kill('SIGTERM');
    await this.running;
  }

  private async loop(first: ProjectRef): Promise<void> {
    let next: ProjectRef | undefined = first;
    while (next !== undefined && !this.closed) {
      await this.round(next);
      next = this.pending;
      this.pending = undefined;
    }
    this.running = undefined;
  }

  private async round(project: ProjectRef): Promise<void> {
    const started = Date.now();
    const round = this.current.round + 1;
    const set = (s: Partial<TrainingStatus>): void => {
      this.current = { ...this.current, ...s, queued: this.pending !== undefined };
    };
    this.current = { state: 'exporting', round, queued: false, project: project.id, startedAt: new Date(started).toISOString() };
    this.log.info({ round, project: project.id }, 'training round started');
    try {
      const ls = this.o.config.labelStudio;
      const xml = project.labelConfig ?? (await this.o.client!.labelConfig(project.id));
      const targets = parseLabelConfig(xml);
      const tasks = project.tasks ?? (await this.o.client!.annotatedTasks(project.id));
      const { examples, skipped } = examplesForTargets(tasks, targets, ls.labelMap);
      set({ examples: examples.length, skippedRegions: skipped.length });
      for (const s of skipped) this.log.warn({ skipped: s }, 'annotation region not on word boundaries: left out of training');
      if (examples.length < ls.trainMinTasks) {
        set({ state: 'skipped', reason: `${examples.length} annotated task(s); a round needs ${ls.trainMinTasks} (LABEL_STUDIO_TRAIN_MIN_TASKS)`, finishedAt: new Date().toISOString() });
        this.log.info({ round, examples: examples.length }, 'training round skipped');
        return;
      }
      const served = this.o.slot.current;
      const base = basename(served.dir).replace(/-ls\d+-\d{8}T\d{6}$/u, '');
      const stamp = new Date(started).toISOString().replace(/[-:]/gu, '').slice(0, 15);
      const dir = resolve(ROOT, ls.modelsDir, `${base}-ls${round}-${stamp}`);
      await mkdir(dir, { recursive: true });
      const examplesFile = join(dir, 'train.jsonl');
      await writeFile(examplesFile, examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const labels = [...new Set(targets.flatMap((t) => targetPrompts(t, ls.labelMap).prompts))];
      const logFile = join(dir, 'training.log');
      set({ state: 'training', log: logFile });
      const variant = this.o.config.model.variant;
      const args = [
        join(ROOT, 'models/finetune.py'),
        '--examples', examplesFile,
        '--init', this.init!,
        '--out', dir,
        '--labels', labels.join(','),
        '--steps', String(ls.trainSteps),
        '--variants', variant === 'fp32' ? 'fp32' : `fp32,${variant}`,
      ];
      const code = await this.run(resolve(ROOT, ls.python), args, logFile);
      if (code !== 0) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' | ');
        throw new EnricherError('TRAINING_FAILED', `models/finetune.py exited ${code}: ${tail}`);
      }
      set({ state: 'loading' });
      const next = await this.o.loadModel(dir);
      try {
        // The probe: the new model answers a real request before any annotator sees it.
        const probe = examples[0]!;
        await next.use((ex) => ex.extract({ fields: [{ field: 'probe', text: probe.text }], labels, decode: decodeOptions(this.o.config), window: next.window }));
      } catch (err) {
        await next.close();
        throw new EnricherError('TRAINING_FAILED', `the fine-tuned model failed its probe: ${(err as Error).message}`, { cause: err });
      }
      this.o.slot.swap(next);
      this.init = join(dir, 'checkpoint');
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      set({ state: 'done', modelVersion: next.version, modelDir: dir, seconds, finishedAt: new Date().toISOString() });
      this.log.info({ round, modelVersion: next.version, modelDir: dir, examples: examples.length, seconds }, 'training round done: serving the new model');
    } catch (err) {
      const e = toEnricherError(err, 'TRAINING_FAILED');
      set({ state: 'failed', error: { code: e.code, message: e.message }, finishedAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 100) / 10 });
      this.log.error({ err: e, round }, 'training round failed; the served model stays');
    }
  }

  private run(command: string, args: string[], logFile: string): Promise<number> {
    return new Promise((resolvePromise, reject) => {
      const out = createWriteStream(logFile);
      const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      child.once('error', (err) => {
        out.end();
        reject(new EnricherError('TRAINING_FAILED', `cannot start ${command}: ${err.message}`, { cause: err }));
      });
      child.once('close', (code, signal) => {
        this.child = undefined;
        out.end(() => resolvePromise(code ?? (signal ? 128 : 1)));
      });
    });
  }
}
