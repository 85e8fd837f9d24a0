/** The documented Elasticsearch queries (deploy/elasticsearch/queries/*.json) and their parameters. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const QUERY_DIR = fileURLToPath(new URL('../../deploy/elasticsearch/queries/', import.meta.url));

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Params = Record<string, string | number | boolean>;

/**
 * Fills `{{name}}` placeholders. A string that is exactly one placeholder takes the parameter's
 * JSON type (so `"size": "{{size}}"` becomes a number); placeholders inside longer strings are
 * interpolated as text. An unknown placeholder is an error.
 */
export function renderQuery(template: Json, params: Params): Json {
  const sub = (s: string): Json => {
    const whole = /^\{\{(\w+)\}\}$/.exec(s);
    const value = (name: string): string | number | boolean => {
      const v = params[name];
      if (v === undefined) throw new Error(`query placeholder {{${name}}} has no value`);
      return v;
    };
    if (whole) return value(whole[1]!);
    return s.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(value(name)));
  };
  if (typeof template === 'string') return sub(template);
  if (Array.isArray(template)) return template.map((t) => renderQuery(t, params));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [sub(k) as string, renderQuery(v, params)]));
  }
  return template;
}


export function loadQuery(file: string): Json {
  return JSON.parse(readFileSync(QUERY_DIR + file, 'utf8')) as Json;
}

