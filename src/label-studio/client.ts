import { EnricherError } from '../errors.js';
import type { LabelStudioTask } from './annotations.js';

/**
 * The few Label Studio API calls the training loop makes: a project's labeling config and
 * its annotated tasks (the JSON export). Authentication follows Label Studio's two kinds of
 * key: a personal access token (a JWT refresh token, the default since 1.17) is exchanged
 * at `/api/token/refresh/` for a short-lived access token sent as `Bearer`; a legacy token
 * is sent as `Token <key>`.
 */
export interface LabelStudioClientOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly timeoutMs?: number;
}

const looksLikeJwt = (key: string): boolean => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/u.test(key);

export class LabelStudioClient {
  private readonly base: string;
  private access: string | undefined;

  constructor(private readonly o: LabelStudioClientOptions) {
    this.base = o.url.replace(/\/+$/u, '');
  }

  /** The project's labeling config. */
  async labelConfig(projectId: number): Promise<string> {
    const project = (await this.get(`/api/projects/${projectId}`)) as { label_config?: unknown };
    if (typeof project.label_config !== 'string') throw this.unavailable(`project ${projectId} has no label_config`);
    return project.label_config;
  }

  /** Tasks with at least one annotation, as the JSON export gives them. */
  async annotatedTasks(projectId: number): Promise<LabelStudioTask[]> {
    const tasks = await this.get(`/api/projects/${projectId}/export?exportType=JSON&download_all_tasks=false`);
    if (!Array.isArray(tasks)) throw this.unavailable(`project ${projectId}: the export is not a list of tasks`);
    return tasks as LabelStudioTask[];
  }

  private async get(path: string): Promise<unknown> {
    let res = await this.fetch(path, await this.authorization());
    if (res.status === 401 && looksLikeJwt(this.o.apiKey)) {
      // The access token expired (5 minutes by default): refresh once.
      this.access = undefined;
      res = await this.fetch(path, await this.authorization());
    }
    if (!res.ok) throw this.unavailable(`GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`, res.status);
    return res.json();
  }

  private async authorization(): Promise<string> {
    if (!looksLikeJwt(this.o.apiKey)) return `Token ${this.o.apiKey}`;
    if (this.access === undefined) {
      const res = await this.request('/api/token/refresh/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: this.o.apiKey }) });
      if (!res.ok) throw this.unavailable(`token refresh answered ${res.status}: is LABEL_STUDIO_API_KEY a personal access token of this Label Studio?`, res.status);
      const access = ((await res.json()) as { access?: unknown }).access;
      if (typeof access !== 'string') throw this.unavailable('token refresh gave no access token');
      this.access = access;
    }
    return `Bearer ${this.access}`;
  }

  private fetch(path: string, authorization: string): Promise<Response> {
    return this.request(path, { headers: { authorization, accept: 'application/json' } });
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000) });
    } catch (err) {
      throw new EnricherError('LABEL_STUDIO_UNAVAILABLE', `Label Studio at ${this.base} unreachable: ${(err as Error).message}`, { cause: err });
    }
  }

  private unavailable(message: string, status?: number): EnricherError {
    return new EnricherError('LABEL_STUDIO_UNAVAILABLE', `Label Studio: ${message}`, { context: status !== undefined ? { status } : {} });
  }
}
