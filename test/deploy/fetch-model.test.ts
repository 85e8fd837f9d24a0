/**
 * deploy/model-fetch/fetch-model.mjs (the compose `model-fetch` service and the Kubernetes init
 * container) against a local HTTP server that answers like the Hugging Face Hub: small files
 * directly, LFS files through a redirect to another origin (the CDN) with the file's sha256 in
 * `X-Linked-Etag`. The script runs as a child process, exactly as the containers run it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ONNX_VARIANTS } from '../../src/gliner/model-dir.js';

const SCRIPT = fileURLToPath(new URL('../../deploy/model-fetch/fetch-model.mjs', import.meta.url));
const REPO = 'acme/gliner-test';
const REV = 'abc123';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The fake repo: path → content; `lfs` files go through the CDN redirect. */
const FILES: Record<string, { body: Buffer; lfs: boolean }> = {
  'gliner_config.json': { body: Buffer.from('{"max_len":384}\n'), lfs: false },
  'tokenizer.json': { body: Buffer.from('{"model":{}}\n'), lfs: false },
  'tokenizer_config.json': { body: Buffer.from('{}\n'), lfs: false },
  'special_tokens_map.json': { body: Buffer.from('{}\n'), lfs: false },
  'spm.model': { body: Buffer.alloc(3000, 7), lfs: true },
  // added_tokens.json is absent: optional, a 404 is fine
  'onnx/model.onnx': { body: Buffer.alloc(256 * 1024 + 17, 1), lfs: true },
  'onnx/model_int8.onnx': { body: Buffer.alloc(64 * 1024, 2), lfs: true },
};

interface Seen {
  host: 'hub' | 'cdn';
  path: string;
  auth: string | undefined;
}

let hub: Server;
let cdn: Server;
let hubUrl = '';
let cdnUrl = '';
const seen: Seen[] = [];
/** Per-test behaviour switches. */
const faults = { failFirst: new Set<string>(), corrupt: new Set<string>(), lieEtag: new Set<string>() };
const failed = new Set<string>();

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<[Server, string]> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve([server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`]));
  });
}

beforeAll(async () => {
  [cdn, cdnUrl] = await listen((req, res) => {
    const path = decodeURIComponent((req.url ?? '').replace(/^\/blobs\//, ''));
    seen.push({ host: 'cdn', path, auth: req.headers.authorization });
    const f = FILES[path];
    if (f === undefined) return void res.writeHead(404).end();
    const body = faults.corrupt.has(path) ? Buffer.concat([f.body.subarray(0, -1), Buffer.from([0xff])]) : f.body;
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  [hub, hubUrl] = await listen((req, res) => {
    const prefix = `/${REPO}/resolve/${REV}/`;
    const path = decodeURIComponent((req.url ?? '').startsWith(prefix) ? (req.url ?? '').slice(prefix.length) : '');
    seen.push({ host: 'hub', path, auth: req.headers.authorization });
    if (faults.failFirst.has(path) && !failed.has(path)) {
      failed.add(path);
      return void res.writeHead(503).end('busy');
    }
    const f = FILES[path];
    if (f === undefined) return void res.writeHead(404).end('Entry not found');
    if (!f.lfs) return void res.writeHead(200, { 'content-length': f.body.length, etag: '"0123456789abcdef0123456789abcdef01234567"' }).end(f.body);
    const etag = faults.lieEtag.has(path) ? sha('something else') : sha(f.body);
    res.writeHead(302, { location: `${cdnUrl}/blobs/${encodeURIComponent(path)}`, 'x-linked-etag': `"${etag}"` }).end();
  });
});

afterAll(async () => {
  await Promise.all([hub, cdn].map((s) => new Promise((r) => s.close(r))));
});

const dirs: string[] = [];
afterEach(() => {
  seen.length = 0;
  faults.failFirst.clear();
  faults.corrupt.clear();
  faults.lieEtag.clear();
  failed.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fetch-model-'));
  dirs.push(d);
  return d;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>, args: string[] = []): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { env: { PATH: process.env['PATH'] ?? '', HF_ENDPOINT: hubUrl, MODEL_REPO: REPO, MODEL_REVISION: REV, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('fetch-model.mjs', () => {
  it('plans the same ONNX file names as the engine for every variant', async () => {
    for (const [variant, file] of Object.entries(ONNX_VARIANTS)) {
      const r = await run({ MODEL_VARIANT: variant }, ['--plan']);
      expect(r.code).toBe(0);
      const p = JSON.parse(r.stdout) as { files: Array<{ path: string; required: boolean }> };
      expect(p.files.filter((f) => f.path.endsWith('.onnx'))).toEqual([{ path: `onnx/${file}`, required: true, url: expect.any(String) }]);
    }
  });

  it('downloads the model, verifies LFS files against the Hub checksum, skips a missing optional file, then does nothing on a rerun', async () => {
    const dir = join(tempDir(), 'model');
    const r = await run({ MODEL_DIR: dir, HF_TOKEN: 'hf_secret' });
    expect(r.code, r.stderr).toBe(0);
    for (const p of ['gliner_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'spm.model', 'onnx/model.onnx']) {
      expect(readFileSync(join(dir, p)).equals(FILES[p]!.body), p).toBe(true);
    }
    expect(existsSync(join(dir, 'added_tokens.json'))).toBe(false);
    expect(existsSync(join(dir, 'onnx/model_int8.onnx'))).toBe(false);
    const logs = logLines(r.stderr);
    expect(logs.find((l) => l['file'] === 'onnx/model.onnx')?.['verified']).toBe('hub-lfs');
    expect(logs.find((l) => l['file'] === 'tokenizer.json')?.['verified']).toBe('none');
    // The token goes to the Hub, never to the redirect target on another origin.
    expect(seen.filter((s) => s.host === 'hub').every((s) => s.auth === 'Bearer hf_secret')).toBe(true);
    expect(seen.filter((s) => s.host === 'cdn').map((s) => s.auth)).toEqual([undefined, undefined]);
    expect(readdirSync(join(dir, 'onnx')).filter((f) => f.endsWith('.part'))).toEqual([]);

    seen.length = 0;
    const again = await run({ MODEL_DIR: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(seen).toEqual([]);
    expect(again.stderr).toContain('already present');

    // Another variant is another plan: fetched again, its ONNX file included.
    const int8 = await run({ MODEL_DIR: dir, MODEL_VARIANT: 'int8' });
    expect(int8.code, int8.stderr).toBe(0);
    expect(readFileSync(join(dir, 'onnx/model_int8.onnx')).equals(FILES['onnx/model_int8.onnx']!.body)).toBe(true);
  });

  it('pins checksums with --write-sha256 and accepts them back through MODEL_SHA256_FILE without downloading', async () => {
    const base = tempDir();
    const dir = join(base, 'model');
    const sums = join(base, 'model.sha256');
    expect((await run({ MODEL_DIR: dir }, ['--write-sha256', sums])).code).toBe(0);
    const text = readFileSync(sums, 'utf8');
    expect(text).toContain(`${sha(FILES['onnx/model.onnx']!.body)}  onnx/model.onnx`);
    expect(text).toContain(`${sha(FILES['tokenizer.json']!.body)}  tokenizer.json`);

    rmSync(join(dir, '.fetch-complete.json'));
    seen.length = 0;
    const r = await run({ MODEL_DIR: dir, MODEL_SHA256_FILE: sums, MODEL_REQUIRE_CHECKSUMS: 'true' });
    expect(r.code, r.stderr).toBe(0);
    // Every pinned file was present and matched; only the optional file absent from the repo is asked for.
    expect(seen.map((s) => s.path)).toEqual(['added_tokens.json']);
  });

  it('fails, leaving no file behind, when a download does not match the checksum file', async () => {
    const base = tempDir();
    const dir = join(base, 'model');
    const sums = join(base, 'sums');
    writeFileSync(sums, `# pinned\n${sha('not the tokenizer')}  tokenizer.json\n`);
    const r = await run({ MODEL_DIR: dir, MODEL_SHA256_FILE: sums });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tokenizer\.json: sha256 [0-9a-f]{64} does not match/);
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);
    expect(existsSync(join(dir, '.fetch-complete.json'))).toBe(false);
  });

  it('fails when an LFS file arrives corrupted (Hub checksum) or when the Hub and the checksum file disagree', async () => {
    faults.corrupt.add('onnx/model.onnx');
    const dir = join(tempDir(), 'model');
    const r = await run({ MODEL_DIR: dir, MODEL_FETCH_RETRIES: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/onnx\/model\.onnx: sha256 [0-9a-f]{64} does not match/);
    expect(existsSync(join(dir, 'onnx/model.onnx'))).toBe(false);

    faults.corrupt.clear();
    faults.lieEtag.add('onnx/model.onnx');
    const sums = join(dir, '..', 'sums');
    writeFileSync(sums, `${sha(FILES['onnx/model.onnx']!.body)}  onnx/model.onnx\n`);
    const r2 = await run({ MODEL_DIR: dir, MODEL_SHA256_FILE: sums });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('the Hub reports sha256');
  });

  it('refuses unverified files when MODEL_REQUIRE_CHECKSUMS is set, and retries a 503', async () => {
    const dir = join(tempDir(), 'model');
    const strict = await run({ MODEL_DIR: dir, MODEL_REQUIRE_CHECKSUMS: 'true' });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('gliner_config.json: no checksum');
    expect(existsSync(join(dir, 'gliner_config.json'))).toBe(false);

    faults.failFirst.add('tokenizer.json');
    const r = await run({ MODEL_DIR: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(logLines(r.stderr).some((l) => l['msg'] === 'download failed; retrying' && l['file'] === 'tokenizer.json')).toBe(true);
    expect(readFileSync(join(dir, 'tokenizer.json')).equals(FILES['tokenizer.json']!.body)).toBe(true);
  });

  it('fails on a missing required file and rejects paths that leave MODEL_DIR', async () => {
    const dir = join(tempDir(), 'model');
    const r = await run({ MODEL_DIR: dir, MODEL_VARIANT: 'fp16', MODEL_FETCH_RETRIES: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 404');
    const bad = await run({ MODEL_DIR: dir, MODEL_EXTRA_FILES: '../../etc/passwd' });
    expect(bad.code).toBe(2);
  });
});
