import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { EnricherError } from '../errors.js';

/**
 * JSONL input as bytes, line by line, so that a line gets exactly the checks a Kafka message
 * value gets (invalid UTF-8 is refused by the decoder, never replaced with U+FFFD as a text
 * stream would). Lines are bounded: a line longer than `maxLineBytes` is reported with its
 * length and its bytes are dropped as they arrive, so memory stays bounded whatever the input.
 */

/** One input line: its bytes without the `\n` (and a `\r` before it), or only its size when too long. */
export type ByteLine =
  | { readonly line: number; readonly bytes: Buffer }
  | { readonly line: number; readonly bytes: null; readonly length: number };

const LF = 0x0a;
const CR = 0x0d;

/** Splits a byte stream into lines (1-based numbers); the last line needs no newline. */
export async function* byteLines(input: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<ByteLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 0;
  const take = (): ByteLine => {
    line += 1;
    let bytes: Buffer | null = length > maxLineBytes ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    const size = length;
    parts = [];
    length = 0;
    if (bytes === null) return { line, bytes: null, length: size };
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    return { line, bytes };
  };
  const keep = (chunk: Buffer): void => {
    length += chunk.length;
    if (length <= maxLineBytes + 1) parts.push(chunk); // + 1: room for the '\r' of a CRLF
    else parts = [];
  };
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    let from = 0;
    for (let nl = chunk.indexOf(LF, from); nl >= 0; nl = chunk.indexOf(LF, from)) {
      keep(chunk.subarray(from, nl));
      yield take();
      from = nl + 1;
    }
    if (from < chunk.length) keep(chunk.subarray(from));
  }
  if (length > 0) yield take();
}

/** Whether a line has nothing but ASCII whitespace (skipped, as blank lines are). */
export function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== CR && b !== LF) return false;
  return true;
}

function refused(path: string, flag: string, what: string, err: unknown): EnricherError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new EnricherError('CONFIG_INVALID', `cannot ${what} ${flag} ${path}: ${reason}`, { cause: err });
}

/**
 * Opens a file named on the command line before any expensive start-up work, so a wrong
 * path is a CONFIG_INVALID naming the flag rather than a failure after the model loaded.
 */
export async function openInput(path: string, flag: string): Promise<Readable> {
  try {
    return (await open(path, 'r')).createReadStream();
  } catch (err) {
    throw refused(path, flag, 'read', err);
  }
}

/** As {@link openInput}, for an output file (created or truncated). */
export async function openOutput(path: string, flag: string): Promise<Writable> {
  try {
    return (await open(path, 'w')).createWriteStream();
  } catch (err) {
    throw refused(path, flag, 'write', err);
  }
}
