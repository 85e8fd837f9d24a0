#!/usr/bin/env node
// Downloads a GLiNER ONNX export from the Hugging Face Hub into MODEL_DIR, verifying sha256.
//
// Used by the compose `model-fetch` service and the Kubernetes init container; both run it from
// the enricher image (`node deploy/model-fetch/fetch-model.mjs`), so it needs nothing but Node 20.
// Plain JavaScript with no dependencies on purpose: it runs before, and apart from, the service.
//
// Environment (all optional except MODEL_DIR):
//   MODEL_DIR               target folder (Hugging Face layout: gliner_config.json, onnx/model.onnx, …)
//   MODEL_REPO              default onnx-community/gliner_medium_news-v2.1
//   MODEL_REVISION          branch, tag or commit sha (pin a commit in production); default main
//   MODEL_VARIANT           ONNX variant as the service names it (fp32, fp16, int8, …, or a file name)
//   MODEL_FILES             replaces the whole file list (space/comma separated, paths in the repo)
//   MODEL_EXTRA_FILES       added to the list (e.g. onnx/model.onnx_data for external-data exports)
//   MODEL_SHA256_FILE       `sha256sum` format ("<hex>  <path>"); every listed file must match
//   MODEL_REQUIRE_CHECKSUMS true: fail unless every file has a checksum (from the file or the Hub's LFS pointer)
//   MODEL_FETCH_FORCE       true: download again even when the folder is complete
//   MODEL_FETCH_RETRIES     attempts per file (default 4); MODEL_FETCH_TIMEOUT_MS per file (default 1800000)
//   HF_ENDPOINT             default https://huggingface.co (a mirror or proxy also works)
//   HF_TOKEN                bearer token for gated/private repos (sent to HF_ENDPOINT only)
// Flags: --plan (print the file list as JSON and exit), --write-sha256 FILE (write the verified
// checksums after a successful fetch, to pin them), --help.
// Exit status: 0 done (or already present), 1 failed, 2 usage error.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

/** Same names as src/gliner/model-dir.ts ONNX_VARIANTS (a test keeps them in step). */
export const ONNX_VARIANTS = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  quantized: 'model_quantized.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
  opt: 'model_opt.onnx',
  opt_int8: 'model_opt_int8.onnx',
  factored: 'model_factored.onnx',
  factored_int8: 'model_factored_int8.onnx',
  factored_mixed: 'model_factored_mixed.onnx',
};
const REQUIRED = ['gliner_config.json', 'tokenizer.json', 'tokenizer_config.json'];
/** Present in the published exports but not read by the engine: a 404 is not an error. */
const OPTIONAL = ['special_tokens_map.json', 'added_tokens.json', 'spm.model'];
const MARKER = '.fetch-complete.json';
const SHA256 = /^[0-9a-f]{64}$/;

class UsageError extends Error {}

function log(level, msg, fields = {}) {
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), component: 'model-fetch', msg, ...fields })}\n`);
}

const truthy = (v) => ['1', 'true', 'yes', 'on'].includes(String(v ?? '').trim().toLowerCase());
const list = (v) => String(v ?? '').split(/[\s,]+/).filter((s) => s !== '');

/** Repo path of the ONNX file for a variant (a name with a slash is taken as a repo path). */
export function onnxPath(variant) {
  const file = ONNX_VARIANTS[variant] ?? variant;
  if (!file.endsWith('.onnx')) {
    throw new UsageError(`unknown MODEL_VARIANT "${variant}": use one of ${Object.keys(ONNX_VARIANTS).join(', ')} or an .onnx file name`);
  }
  return file.includes('/') ? file : `onnx/${file}`;
}

/** The files to fetch, each `{ path, required }`. */
export function plan(env) {
  const variant = env.MODEL_VARIANT || 'fp32';
  let files;
  if (list(env.MODEL_FILES).length > 0) {
    files = list(env.MODEL_FILES).map((path) => ({ path, required: true }));
  } else {
    files = [
      ...REQUIRED.map((path) => ({ path, required: true })),
      ...OPTIONAL.map((path) => ({ path, required: false })),
      { path: onnxPath(variant), required: true },
    ];
  }
  for (const path of list(env.MODEL_EXTRA_FILES)) if (!files.some((f) => f.path === path)) files.push({ path, required: true });
  for (const f of files) {
    const n = normalize(f.path);
    if (n.startsWith('..') || n.startsWith(sep) || n.includes(`${sep}..${sep}`)) throw new UsageError(`file path escapes MODEL_DIR: ${f.path}`);
  }
  return files;
}

/** Parses `sha256sum` output: "<hex>  <path>" or "<hex> *<path>"; comments and blank lines ignored. */
export function parseChecksums(text) {
  const out = new Map();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    if (!m) throw new UsageError(`checksum file line ${i + 1} is not "<sha256>  <path>": ${line}`);
    out.set(m[2].trim().replace(/^\.\//, ''), m[1].toLowerCase());
  }
  return out;
}

async function sha256OfFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk);
  return hash.digest('hex');
}

class HttpError extends Error {
  constructor(status, url) {
    super(`HTTP ${status} for ${url}`);
    this.status = status;
  }
  get retriable() {
    return this.status === 429 || this.status >= 500;
  }
}

/** The sha256 the Hub reports for an LFS file (`X-Linked-Etag` on the resolve redirect), if any. */
function lfsSha256(headers) {
  const v = (headers.get('x-linked-etag') ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  return SHA256.test(v) ? v : undefined;
}

/**
 * GETs a repo file. The first request does not follow redirects so the LFS checksum header of
 * the Hub's answer can be read; the redirect target (a CDN) gets no Authorization header.
 */
async function open(url, token, signal) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  let res = await fetch(url, { headers, redirect: 'manual', signal });
  const reported = lfsSha256(res.headers);
  for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
    const location = res.headers.get('location');
    if (!location || hops >= 10) throw new HttpError(res.status, url);
    const next = new URL(location, res.url || url);
    const sameOrigin = next.origin === new URL(url).origin;
    await res.body?.cancel();
    res = await fetch(next, { headers: sameOrigin ? headers : {}, redirect: 'manual', signal });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new HttpError(res.status, url);
  }
  return { res, reported };
}

/** Streams one file to `<dest>.<random>.part`, hashing it; renames into place once verified. */
async function download(url, dest, expected, options) {
  const { token, timeoutMs } = options;
  const signal = AbortSignal.timeout(timeoutMs);
  const { res, reported } = await open(url, token, signal);
  if (expected !== undefined && reported !== undefined && expected !== reported) {
    await res.body?.cancel();
    throw new Error(`${url}: the Hub reports sha256 ${reported}, the checksum file says ${expected} (pin MODEL_REVISION to the commit the checksums came from)`);
  }
  const want = expected ?? reported;
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${randomBytes(4).toString('hex')}.part`;
  const hash = createHash('sha256');
  let bytes = 0;
  const out = createWriteStream(tmp, { flags: 'wx' });
  try {
    for await (const chunk of res.body) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(length) && length !== bytes) throw new Error(`${url}: got ${bytes} bytes, Content-Length says ${length}`);
    const got = hash.digest('hex');
    if (want !== undefined && got !== want) throw new Error(`${url}: sha256 ${got} does not match the expected ${want}`);
    await rename(tmp, dest); // atomic: a reader never sees a half-written file
    return { sha256: got, bytes, verified: want === undefined ? 'none' : expected !== undefined ? 'checksum-file' : 'hub-lfs' };
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

async function withRetries(attempts, what, fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retriable = err instanceof HttpError ? err.retriable : !(err instanceof UsageError) && !/sha256|Content-Length/.test(String(err?.message));
      if (!retriable || attempt >= attempts) throw err;
      const wait = Math.min(30_000, 1000 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      log('warn', 'download failed; retrying', { file: what, attempt, waitMs: Math.round(wait), err: String(err?.message ?? err) });
      await delay(wait);
    }
  }
}

function fileUrl(endpoint, repo, revision, path) {
  const enc = (s) => s.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${enc(repo)}/resolve/${encodeURIComponent(revision)}/${enc(path)}`;
}

async function readMarker(dir) {
  try {
    return JSON.parse(await readFile(join(dir, MARKER), 'utf8'));
  } catch {
    return undefined; // absent or unreadable: fetch again
  }
}

/** The folder already holds this exact plan (same repo, revision, files and sizes, and pinned checksums). */
async function isComplete(dir, marker, key, files, checksums) {
  if (marker === undefined || marker.key !== key) return false;
  for (const f of files) {
    const rec = marker.files?.[f.path];
    if (rec === undefined) {
      if (f.required) return false;
      continue;
    }
    if (rec.missing === true) continue;
    const st = await stat(join(dir, f.path)).catch(() => undefined);
    if (st === undefined || st.size !== rec.bytes) return false;
    const pinned = checksums.get(f.path);
    if (pinned !== undefined && pinned !== rec.sha256) return false;
  }
  return true;
}

export async function main(argv = process.argv.slice(2), env = process.env) {
  if (argv.includes('--help')) {
    process.stdout.write(`${(await readFile(new URL(import.meta.url), 'utf8')).split('\n').filter((l) => l.startsWith('//')).slice(0, 24).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
    return 0;
  }
  const files = plan(env);
  const repo = env.MODEL_REPO || 'onnx-community/gliner_medium_news-v2.1';
  const revision = env.MODEL_REVISION || 'main';
  const endpoint = env.HF_ENDPOINT || 'https://huggingface.co';
  if (argv.includes('--plan')) {
    process.stdout.write(`${JSON.stringify({ repo, revision, endpoint, files: files.map((f) => ({ ...f, url: fileUrl(endpoint, repo, revision, f.path) })) })}\n`);
    return 0;
  }
  const dir = env.MODEL_DIR;
  if (!dir) throw new UsageError('MODEL_DIR is required');
  const wi = argv.indexOf('--write-sha256');
  const writeSha = wi >= 0 ? argv[wi + 1] : undefined;
  if (wi >= 0 && !writeSha) throw new UsageError('--write-sha256 needs a file name');
  const checksums = env.MODEL_SHA256_FILE ? parseChecksums(await readFile(env.MODEL_SHA256_FILE, 'utf8')) : new Map();
  for (const path of checksums.keys()) {
    if (!files.some((f) => f.path === path)) log('warn', 'checksum file lists a file that is not fetched', { file: path });
  }
  const requireChecksums = truthy(env.MODEL_REQUIRE_CHECKSUMS);
  const options = { token: env.HF_TOKEN || undefined, timeoutMs: Number(env.MODEL_FETCH_TIMEOUT_MS || 1_800_000) };
  const attempts = Math.max(1, Number(env.MODEL_FETCH_RETRIES || 4));
  const key = `${endpoint}|${repo}|${revision}|${files.map((f) => f.path).join(',')}`;

  await mkdir(dir, { recursive: true });
  const marker = await readMarker(dir);
  if (!truthy(env.MODEL_FETCH_FORCE) && (await isComplete(dir, marker, key, files, checksums))) {
    log('info', 'model already present; nothing to do', { dir, repo, revision });
    if (writeSha) await writeChecksumFile(writeSha, marker.files);
    return 0;
  }

  const started = Date.now();
  const record = {};
  for (const f of files) {
    const dest = join(dir, f.path);
    const expected = checksums.get(f.path);
    if (expected !== undefined && existsSync(dest) && (await sha256OfFile(dest)) === expected) {
      const st = await stat(dest);
      record[f.path] = { sha256: expected, bytes: st.size, verified: 'checksum-file' };
      log('info', 'file present and verified', { file: f.path });
      continue;
    }
    const url = fileUrl(endpoint, repo, revision, f.path);
    try {
      const got = await withRetries(attempts, f.path, () => download(url, dest, expected, options));
      if (got.verified === 'none' && requireChecksums) {
        await rm(dest, { force: true });
        throw new Error(`${f.path}: no checksum (not in MODEL_SHA256_FILE, no LFS checksum from the Hub) and MODEL_REQUIRE_CHECKSUMS is set`);
      }
      record[f.path] = got;
      log('info', 'downloaded', { file: f.path, bytes: got.bytes, sha256: got.sha256, verified: got.verified });
    } catch (err) {
      if (!f.required && err instanceof HttpError && err.status === 404) {
        record[f.path] = { missing: true };
        log('info', 'optional file not in the repo; skipped', { file: f.path });
        continue;
      }
      throw err;
    }
  }
  await writeFile(join(dir, MARKER), `${JSON.stringify({ key, repo, revision, endpoint, fetchedAt: new Date().toISOString(), files: record }, null, 2)}\n`);
  if (writeSha) await writeChecksumFile(writeSha, record);
  log('info', 'model ready', { dir, repo, revision, files: Object.keys(record).length, seconds: Math.round((Date.now() - started) / 100) / 10 });
  return 0;
}

async function writeChecksumFile(path, records) {
  const lines = Object.entries(records)
    .filter(([, r]) => r.sha256 !== undefined)
    .map(([p, r]) => `${r.sha256}  ${p}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  log('info', 'wrote checksums', { file: path, entries: lines.length });
}

// Run when executed directly (not when imported).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      log('fatal', String(err?.message ?? err), { code: err instanceof UsageError ? 'USAGE' : 'MODEL_FETCH_FAILED' });
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
