import type { Entity } from '../core/types.js';
import { EnricherError } from '../errors.js';
import type { NerTarget } from './label-config.js';

/**
 * Between Label Studio's label values and the model's prompts, and from our entities to
 * Label Studio's prediction format (`label_studio_ml` `/predict` results).
 */

/** A target's prompts for the model and the way back to its label values. */
export interface TargetPrompts {
  readonly target: NerTarget;
  /** Distinct prompts, in label order (what the engine is asked for). */
  readonly prompts: readonly string[];
  /** Prompt → the Label value it stands for. */
  readonly valueOf: ReadonlyMap<string, string>;
}

/**
 * Prompts for a target: each Label value itself, or its entry in `labelMap` (`PER` → `person`).
 * Two values mapped to one prompt could not be told apart in the model's answer, so they are
 * refused.
 */
export function targetPrompts(target: NerTarget, labelMap: Readonly<Record<string, string>> = {}): TargetPrompts {
  const valueOf = new Map<string, string>();
  for (const value of target.labels) {
    const prompt = (labelMap[value] ?? value).trim();
    if (prompt === '') throw new EnricherError('LABEL_CONFIG_INVALID', `label "${value}" of <Labels name="${target.fromName}"> maps to an empty prompt`);
    const other = valueOf.get(prompt);
    if (other !== undefined) {
      throw new EnricherError('LABEL_CONFIG_INVALID', `labels "${other}" and "${value}" of <Labels name="${target.fromName}"> both map to the prompt "${prompt}": map them to different prompts`);
    }
    valueOf.set(prompt, value);
  }
  return { target, prompts: [...valueOf.keys()], valueOf };
}

/** One region of a prediction, as Label Studio stores it. */
export interface PredictionRegion {
  readonly from_name: string;
  readonly to_name: string;
  readonly type: 'labels';
  readonly value: { readonly start: number; readonly end: number; readonly text: string; readonly labels: string[] };
  readonly score: number;
}

export interface TaskPrediction {
  readonly model_version: string;
  /** The lowest entity score (uncertainty sampling asks about the least sure tasks first); 0 when nothing was found. */
  readonly score: number;
  readonly result: PredictionRegion[];
}

/** A task's prediction from the entities found in each of its targets' texts (UTF-16 offsets, as Label Studio's). */
export function taskPrediction(found: ReadonlyArray<{ prompts: TargetPrompts; entities: readonly Entity[] }>, modelVersion: string): TaskPrediction {
  const result: PredictionRegion[] = [];
  for (const { prompts, entities } of found) {
    for (const e of entities) {
      const value = prompts.valueOf.get(e.label);
      if (value === undefined) throw new Error(`bug: the engine returned label "${e.label}", which was not asked for`);
      result.push({
        from_name: prompts.target.fromName,
        to_name: prompts.target.toName,
        type: 'labels',
        value: { start: e.start, end: e.end, text: e.text, labels: [value] },
        score: e.score,
      });
    }
  }
  const score = result.reduce((low, r) => Math.min(low, r.score), result.length === 0 ? 0 : Infinity);
  return { model_version: modelVersion, score, result };
}

/** `model_version` of a model: its name and the first 12 hex digits of its ONNX file's sha256. */
export function modelVersion(model: { readonly name: string; readonly sha256?: string | undefined }): string {
  return model.sha256 === undefined ? model.name : `${model.name}@${model.sha256.slice(0, 12)}`;
}
