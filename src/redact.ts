/**
 * Credentials written into URLs (`http://elastic:secret@es:9200`, a broker given as
 * `user:secret@kafka:9092`) never reach a log line: the password (or a lone token) in the
 * user-info part is replaced, the user name and the rest of the URL are kept so the line
 * still says where the client went.
 */

export const REDACTED = '[redacted]';

// scheme://userinfo@ — greedy, so a raw '@' inside the password is covered up to the last one.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;
// user:password@host:port without a scheme (how a broker list would carry one).
const BARE_USERINFO = /(^|[\s,;="'(])([^\s/?#@,;="':]+):([^\s/?#@,;="']*)@(?=[^\s@/]+:\d+)/g;

function maskUserinfo(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  return colon < 0 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`;
}

/** The text with every credential inside a URL (or a `user:password@host:port`) replaced. */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('@')) return text;
  return text
    .replace(URL_USERINFO, (_m, scheme: string, userinfo: string) => `${scheme}${maskUserinfo(userinfo)}@`)
    .replace(BARE_USERINFO, (_m, before: string, user: string) => `${before}${user}:${REDACTED}@`);
}

/** Maximum depth walked in a log object; deeper values are left as they are. */
const MAX_DEPTH = 8;

/**
 * A copy of a log value with URL credentials redacted in every string of its plain objects
 * and arrays; other objects (errors, buffers, class instances) are returned as they are
 * and left to their serializers. Values without a string to change are returned unchanged.
 */
export function redactDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactUrlCredentials(value) as T;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactDeep(v, depth + 1);
      if (r !== v) changed = true;
      return r;
    });
    return (changed ? out : value) as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = redactDeep(v, depth + 1);
    if (r !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = r;
    }
  }
  return (out ?? value) as T;
}
