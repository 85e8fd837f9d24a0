/**
 * Readiness and liveness state, fed by the components and read by the HTTP probes.
 * Readiness: every named check passes (model loaded, group joined, sinks reachable).
 * Liveness: the process makes progress — when work is pending and the sinks are reachable,
 * a sink round finished recently. An outage of a sink is not a liveness failure (restarting
 * would not fix Elasticsearch); it is a readiness failure.
 */

import type { HealthProbes } from '../http/server.js';

export type CheckName = 'model' | 'kafka' | 'elasticsearch' | 'producer' | 'running';

export interface CheckState {
  readonly ok: boolean;
  readonly detail?: string;
  /** When the check last changed (ms since epoch). */
  readonly since: number;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckState>>;
}

export interface LivenessReport {
  readonly live: boolean;
  readonly detail: string;
  readonly backlog: number;
  readonly lastProgressAgoMs: number;
}

export class HealthState implements HealthProbes {
  private readonly checks = new Map<CheckName, CheckState>();
  private lastProgress: number;

  constructor(
    private readonly required: readonly CheckName[],
    private readonly now: () => number = Date.now,
  ) {
    this.lastProgress = now();
    for (const name of required) this.checks.set(name, { ok: false, detail: 'starting', since: now() });
  }

  /** Sets a check; returns true when its ok-ness changed (for logging transitions once). */
  set(name: CheckName, ok: boolean, detail?: string): boolean {
    const prev = this.checks.get(name);
    if (prev !== undefined && prev.ok === ok && prev.detail === detail) return false;
    this.checks.set(name, { ok, ...(detail !== undefined ? { detail } : {}), since: prev?.ok === ok ? prev.since : this.now() });
    return prev?.ok !== ok;
  }

  isOk(name: CheckName): boolean {
    return this.checks.get(name)?.ok ?? false;
  }

  /** Records that a unit of work finished (a sink round, or an idle poll with nothing to do). */
  progress(): void {
    this.lastProgress = this.now();
  }

  readiness(): ReadinessReport {
    const checks: Record<string, CheckState> = {};
    let ready = true;
    for (const name of this.required) {
      const c = this.checks.get(name) ?? { ok: false, since: 0 };
      checks[name] = c;
      ready &&= c.ok;
    }
    return { ready, checks };
  }

  /**
   * @param backlog - messages in flight (admitted, not done)
   * @param stallMs - how long pending work may go without progress while sinks are up
   */
  liveness(backlog: number, stallMs: number): LivenessReport {
    const ago = this.now() - this.lastProgress;
    const sinksUp = this.isOk('elasticsearch') && (this.checks.get('producer')?.ok ?? true);
    if (backlog > 0 && sinksUp && ago > stallMs) {
      return { live: false, detail: `no progress for ${ago} ms with ${backlog} message(s) pending and sinks reachable`, backlog, lastProgressAgoMs: ago };
    }
    return { live: true, detail: 'ok', backlog, lastProgressAgoMs: ago };
  }
}
