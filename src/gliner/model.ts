import type { GlinerSettings } from './model-config.js';
import { sha256File, type ModelFiles } from './model-dir.js';
import { loadModelText, type ModelTextOptions } from './model-text.js';
import type { Preprocessor } from './preprocess.js';
import { BatchRunner } from './runner.js';
import { OnnxSession, type SessionSettings } from './session.js';
import type { ModelInfo } from '../core/types.js';

/** How to load a model folder. */
export interface LoadOptions extends SessionSettings, ModelTextOptions {
  /** Name reported in `enrichment.model`. @defaultValue the folder's name */
  name?: string;
  /** sha256 of the ONNX file when already known (pool workers get it from the main thread). */
  sha256?: string;
}

/** A loaded model: the tokenizer side and the ONNX side, plus what to report about it. */
export interface LoadedModel {
  info: ModelInfo;
  files: ModelFiles;
  settings: GlinerSettings;
  preprocessor: Preprocessor;
  runner: BatchRunner;
  release(): Promise<void>;
}

/**
 * Loads and cross-checks a model folder: config, tokenizer (its `<<ENT>>` id must equal
 * `class_token_index`, a relation model's `<<REL>>` id `rel_token_index`), ONNX session; then
 * runs a probe batch so a graph that disagrees with its config (logits shape, a relation model's
 * `rel_idx`/`rel_logits`/`rel_mask` outputs and candidate threshold) fails at start-up rather
 * than on traffic.
 */
export async function loadModel(dir: string, options: LoadOptions): Promise<LoadedModel> {
  const { files, settings, preprocessor } = loadModelText(dir, options);
  const tokenizer = preprocessor.tokenizer;
  const session = await OnnxSession.create(files.onnx, options);
  try {
    const runner = new BatchRunner(session, settings, { clsId: tokenizer.clsId, sepId: tokenizer.sepId, padId: tokenizer.padId });
    const probePrompt = preprocessor.prompt(['person', 'location'], settings.relex ? ['born in', 'lives in'] : []);
    const probeText = preprocessor.prepareText('Ada Lovelace was born in London .', preprocessor.limits(probePrompt));
    await runner.probe(probePrompt, { ids: probeText.ids, counts: probeText.counts });
    const info: ModelInfo = {
      name: options.name ?? files.name,
      sha256: options.sha256 ?? (await sha256File(files.onnx)),
      file: files.onnxRelative,
      spanMode: settings.spanMode,
      ...(settings.relex ? { relationsLayer: settings.relex.relationsLayer } : {}),
      maxLen: settings.maxLen,
      maxWidth: settings.maxWidth,
      executionProvider: session.executionProvider,
    };
    return { info, files, settings, preprocessor, runner, release: () => session.release() };
  } catch (err) {
    await session.release();
    throw err;
  }
}
