import { z } from 'zod';
import type { Config } from '../config.js';
import { EnricherError } from '../errors.js';
import { decodeOptions } from '../inference/options.js';
import type { Logger } from '../logger.js';
import type { LabelStudioTask } from './annotations.js';
import { parseLabelConfig, type NerTarget } from './label-config.js';
import { targetPrompts, taskPrediction, type TargetPrompts, type TaskPrediction } from './predictions.js';
import type { ModelSlot } from './served-model.js';
import type { ProjectRef, TrainingControl, TrainingStatus } from './training-loop.js';

/**
 * What the Label Studio ML backend protocol asks of us (label_studio_ml `api.py`), apart from
 * HTTP itself (`http.ts`): request bodies checked by zod schemas, labeling configs turned into
 * prompts once per distinct config, predictions per task with windows for long texts, and
 * webhook events handed to the training loop. Every refusal is a coded EnricherError;
 * `http.ts` maps codes to statuses.
 */

export const MODEL_CLASS = 'NewsEntityEnricher';

const projectField = z.union([z.string(), z.number()]).nullish();
const TaskSchema = z.looseObject({ id: z.union([z.number(), z.string()]).optional(), data: z.record(z.string(), z.unknown()) });
const PredictSchema = z.looseObject({
  tasks: z.array(TaskSchema).min(1, 'needs at least one task'),
  label_config: z.string().min(1).nullish(),
  project: projectField,
});
const SetupSchema = z.looseObject({ project: projectField, schema: z.string().min(1) });
const WebhookSchema = z.looseObject({
  action: z.string().min(1),
  project: z.looseObject({ id: z.number().int(), label_config: z.string().nullish() }).nullish(),
});
const TrainSchema = z.looseObject({
  project: z.union([projectField, z.looseObject({ id: z.number().int() })]),
  label_config: z.string().min(1).nullish(),
  /** Label Studio sends the annotated tasks themselves (its JSON export format). */
  annotations: z.array(z.looseObject({ id: z.union([z.number(), z.string()]).optional(), data: z.record(z.string(), z.unknown()), annotations: z.array(z.looseObject({})).optional() })).optional(),
});

/** Events that change a project's annotations; training starts only on START_TRAINING or /train. */
const ANNOTATION_EVENTS = new Set(['ANNOTATION_CREATED', 'ANNOTATION_UPDATED', 'ANNOTATION_DELETED', 'ANNOTATIONS_CREATED', 'ANNOTATIONS_DELETED']);

function parseBody<T>(schema: z.ZodType<T>, body: unknown, endpoint: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new EnricherError('REQUEST_INVALID', `${endpoint}: ${issues}`);
}

/** Label Studio names a project `"12.1701234567"` (id.timestamp) in /predict and /setup, or 12 elsewhere. */
export function projectId(project: unknown): number | undefined {
  if (typeof project === 'number' && Number.isInteger(project)) return project;
  if (typeof project === 'string') {
    const id = Number.parseInt(project.split('.')[0] ?? '', 10);
    return Number.isInteger(id) ? id : undefined;
  }
  if (typeof project === 'object' && project !== null && 'id' in project) return projectId((project as { id: unknown }).id);
  return undefined;
}

export interface BackendOptions {
  readonly config: Readonly<Config>;
  readonly slot: ModelSlot;
  readonly training: TrainingControl;
  readonly logger: Logger;
}

export interface HealthAnswer {
  readonly status: 'UP';
  readonly model_class: string;
  readonly model_version: string;
  readonly model_dir: string;
  readonly training: TrainingStatus;
}

/** Distinct labeling configs kept parsed (a backend usually serves one or a few projects). */
const MAX_CACHED_CONFIGS = 64;

export class LabelStudioBackend {
  private readonly log: Logger;
  private readonly prompts = new Map<string, TargetPrompts[]>();
  /** Labeling config per project, from /setup (used when /predict carries none). */
  private readonly projectConfigs = new Map<number, string>();

  constructor(private readonly o: BackendOptions) {
    this.log = o.logger.child({ component: 'label-studio' });
  }

  health(): HealthAnswer {
    const served = this.o.slot.current;
    return { status: 'UP', model_class: MODEL_CLASS, model_version: served.version, model_dir: served.dir, training: this.o.training.status() };
  }

  /** `POST /setup`: checks the project's labeling config (refused here, not at the first prediction). */
  setup(body: unknown): { model_version: string } {
    const req = parseBody(SetupSchema, body, '/setup');
    this.targets(req.schema);
    const id = projectId(req.project);
    if (id !== undefined) this.projectConfigs.set(id, req.schema);
    this.log.info({ project: id ?? null }, 'project set up');
    return { model_version: this.o.slot.current.version };
  }

  /** `POST /predict`: one prediction per task, in order. */
  async predict(body: unknown, signal?: AbortSignal): Promise<{ results: TaskPrediction[]; model_version: string }> {
    const req = parseBody(PredictSchema, body, '/predict');
    const { maxTasks } = this.o.config.labelStudio;
    if (req.tasks.length > maxTasks) throw new EnricherError('REQUEST_INVALID', `/predict: ${req.tasks.length} tasks in one request; at most ${maxTasks} (LABEL_STUDIO_MAX_TASKS)`);
    const id = projectId(req.project);
    const xml = req.label_config ?? (id !== undefined ? this.projectConfigs.get(id) : undefined);
    if (xml === undefined) throw new EnricherError('REQUEST_INVALID', '/predict: no label_config, and no /setup was made for this project');
    const targets = this.targets(xml);
    // Every task is checked before any inference runs: a bad task refuses the request whole.
    const texts = req.tasks.map((task) => targets.map((t) => this.taskText(task, t.target)));
    const served = this.o.slot.current;
    return served.use(async (extractor) => {
      const results = await Promise.all(
        texts.map(async (perTarget) => {
          const found = await Promise.all(
            targets.map(async (prompts, i) => {
              const text = perTarget[i]!;
              if (text.trim() === '') return { prompts, entities: [] };
              const [field] = await extractor.extract(
                { fields: [{ field: prompts.target.toName, text }], labels: prompts.prompts, decode: decodeOptions(this.o.config), window: served.window, mergeAdjacent: this.o.config.inference.mergeAdjacent },
                signal,
              );
              return { prompts, entities: field?.entities ?? [] };
            }),
          );
          return taskPrediction(found, served.version);
        }),
      );
      return { results, model_version: served.version };
    });
  }

  /** `POST /webhook`: START_TRAINING starts a round; annotation events are acknowledged. */
  webhook(body: unknown): { status: string; training?: string } {
    const req = parseBody(WebhookSchema, body, '/webhook');
    if (req.action === 'START_TRAINING') {
      const id = req.project?.id;
      if (id === undefined) throw new EnricherError('REQUEST_INVALID', '/webhook START_TRAINING: no project.id');
      return { status: 'ok', training: this.o.training.request(this.projectRef(id, req.project?.label_config)) };
    }
    if (!ANNOTATION_EVENTS.has(req.action)) this.log.debug({ action: req.action }, 'webhook event ignored');
    return { status: ANNOTATION_EVENTS.has(req.action) ? 'ok' : 'ignored' };
  }

  /** `POST /train` (Label Studio's "Start training" with older versions). */
  train(body: unknown): { status: string; training: string } {
    const req = parseBody(TrainSchema, body, '/train');
    const id = projectId(req.project);
    if (id === undefined) throw new EnricherError('REQUEST_INVALID', '/train: no project id');
    return { status: 'ok', training: this.o.training.request(this.projectRef(id, req.label_config, req.annotations as LabelStudioTask[] | undefined)) };
  }

  private projectRef(id: number, labelConfig: string | null | undefined, tasks?: readonly LabelStudioTask[]): ProjectRef {
    const xml = labelConfig ?? this.projectConfigs.get(id);
    if (xml !== undefined) this.targets(xml); // refuse a bad config now, not after exporting tasks
    return { id, ...(xml !== undefined ? { labelConfig: xml } : {}), ...(tasks !== undefined ? { tasks } : {}) };
  }

  /** Prompts per target of a labeling config, parsed once per distinct config. */
  targets(xml: string): TargetPrompts[] {
    let t = this.prompts.get(xml);
    if (t === undefined) {
      t = parseLabelConfig(xml).map((target) => targetPrompts(target, this.o.config.labelStudio.labelMap));
      const max = this.o.config.inference.maxLabelsPerMessage;
      for (const p of t) {
        if (p.prompts.length > max) {
          throw new EnricherError('LABEL_CONFIG_INVALID', `<Labels name="${p.target.fromName}"> has ${p.prompts.length} labels; at most ${max} (MAX_LABELS_PER_MESSAGE)`);
        }
      }
      if (this.prompts.size >= MAX_CACHED_CONFIGS) this.prompts.delete(this.prompts.keys().next().value!);
      this.prompts.set(xml, t);
    }
    return t;
  }

  private taskText(task: z.infer<typeof TaskSchema>, target: NerTarget): string {
    const text = task.data[target.field];
    if (typeof text !== 'string') {
      throw new EnricherError('REQUEST_INVALID', `/predict: task ${String(task.id)} has no string data.${target.field} (the field of <Text name="${target.toName}">)`, {
        context: { task: task.id },
      });
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.o.config.maxBodyBytes) {
      throw new EnricherError('MESSAGE_TOO_LARGE', `/predict: task ${String(task.id)} data.${target.field} is ${bytes} bytes; at most ${this.o.config.maxBodyBytes} (MAX_BODY_BYTES)`, {
        context: { task: task.id },
      });
    }
    return text;
  }
}
