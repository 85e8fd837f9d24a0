// Docker HEALTHCHECK: GET /healthz on the service's own port (node:20-slim has no curl).
// Exit 0 when the service answers 200, 1 otherwise (Docker's "unhealthy").
const port = process.env.HTTP_PORT || '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
  process.exitCode = res.ok ? 0 : 1;
} catch {
  process.exitCode = 1; // not listening (yet): unhealthy
}
