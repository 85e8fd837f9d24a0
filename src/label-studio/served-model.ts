import type { EntityExtractor } from '../core/extraction.js';
import type { WindowOptions } from '../core/types.js';
import { modelVersion } from './predictions.js';

/**
 * The model the backend answers with, and the hand-over to a newly trained one: requests
 * take the current model for their whole duration (`use`), a swap makes new requests take
 * the new one at once, and the old one closes when its last request has finished.
 */
export class ServedModel {
  /** `model_version` Label Studio stores with each prediction: name@sha12. */
  readonly version: string;
  private active = 0;
  private retired = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly extractor: EntityExtractor,
    /** The model folder it was loaded from. */
    readonly dir: string,
    /** Its window options, checked against the model at load (`preflightModel`). */
    readonly window: Partial<WindowOptions>,
  ) {
    this.version = modelVersion(extractor.model);
  }

  /** Runs `fn` with this model; a swap meanwhile waits for it before closing the model. */
  async use<T>(fn: (extractor: EntityExtractor) => Promise<T>): Promise<T> {
    this.active += 1;
    try {
      return await fn(this.extractor);
    } finally {
      this.active -= 1;
      if (this.retired && this.active === 0) void this.close();
    }
  }

  /** No new requests; closes once the ones in flight are done. */
  retire(): Promise<void> {
    this.retired = true;
    return this.active === 0 ? this.close() : Promise.resolve();
  }

  /** Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.extractor.close());
  }
}

/** Holds the current ServedModel; `swap` is the only way it changes. */
export class ModelSlot {
  constructor(private served: ServedModel) {}

  get current(): ServedModel {
    return this.served;
  }

  /** Makes `next` current; the previous model closes after its requests in flight. */
  swap(next: ServedModel): void {
    const previous = this.served;
    this.served = next;
    void previous.retire();
  }

  close(): Promise<void> {
    return this.served.close();
  }
}
