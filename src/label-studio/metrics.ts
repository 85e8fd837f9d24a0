import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TrainingState, TrainingStatus } from './training-loop.js';

const STATES: readonly TrainingState[] = ['idle', 'exporting', 'training', 'loading', 'done', 'skipped', 'failed', 'disabled'];

/** The Label Studio backend's Prometheus metrics, on a registry of its own. */
export class BackendMetrics {
  readonly registry = new Registry();
  readonly predictSeconds = new Histogram({
    name: 'enricher_ls_predict_duration_seconds',
    help: 'Time to answer one /predict request (all its tasks).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly predictTasks = new Counter({
    name: 'enricher_ls_predict_tasks_total',
    help: 'Tasks predicted, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private statusSource: () => TrainingStatus = () => ({ state: 'idle', round: 0, queued: false });
  readonly trainingState = new Gauge({
    name: 'enricher_ls_training_state',
    help: 'Training loop state: 1 on the current state, 0 on the others.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const now = this.statusSource().state;
      for (const s of STATES) this.trainingState.set({ state: s }, s === now ? 1 : 0);
    },
  });
  readonly trainingRounds = new Gauge({
    name: 'enricher_ls_training_rounds',
    help: 'Training rounds started since the backend started.',
    registers: [this.registry],
    collect: () => {
      this.trainingRounds.set(this.statusSource().round);
    },
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the training gauges read the loop's status at each scrape. */
  trackTraining(status: () => TrainingStatus): void {
    this.statusSource = status;
  }

  observePredict(seconds: number, tasks: number, ok: boolean): void {
    const outcome = ok ? 'ok' : 'refused';
    this.predictSeconds.observe({ outcome }, seconds);
    this.predictTasks.inc({ outcome }, tasks);
  }
}
