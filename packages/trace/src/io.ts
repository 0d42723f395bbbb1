/**
 * Streaming input: a log is read line by line (`node:readline` over a file
 * stream, through `node:zlib` when it is gzip-compressed), so memory does not
 * depend on its length.
 *
 * A strict replay reads the log twice: a first pass parses and decodes every
 * line and throws the first `FILE:LINE: what is wrong`, so that a malformed
 * log leaves nothing half-applied; the second pass replays. `lenient` skips
 * the first pass and counts malformed lines instead.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decoder } from './decode.js';
import { TraceParser } from './parser.js';
import { danglingErrors, Replayer, type ReplayOptions, type ReplayResult } from './replay.js';

/** True when the file starts with the gzip magic bytes. */
export function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const n = readSync(fd, b, 0, 2, 0);
    return n === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** The file's lines, decompressed when it is gzip (by content, not by name). */
export function openLines(path: string): AsyncIterable<string> {
  const gz = isGzip(path); // throws ENOENT & co. here, synchronously
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  let input: Readable = file;
  if (gz) {
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    input = file.pipe(gunzip);
  }
  // readline's async iterator rethrows errors of its input (a corrupt gzip stream).
  return createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
}

/** Parses and decodes every line; throws the first TraceError. Returns the line count. */
export async function validateLines(
  lines: AsyncIterable<string> | Iterable<string>,
  source: string,
): Promise<number> {
  const parser = new TraceParser(source);
  const decoder = new Decoder(source);
  let n = 0;
  for await (const text of lines) {
    n++;
    const ev = parser.parse(text, n);
    if (ev?.kind === 'call') decoder.decode(ev);
  }
  const [first] = danglingErrors(parser);
  if (first) throw first;
  return n;
}

/** Replays lines from any (async) iterable, one at a time. */
export async function replayLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const r = new Replayer(options);
  let n = 0;
  for await (const text of lines) r.line(text, ++n);
  return r.finish();
}

/** Replays an in-memory log synchronously (tests, benchmarks). Strict mode validates first. */
export function replayText(text: string | readonly string[], options: ReplayOptions): ReplayResult {
  const lines = typeof text === 'string' ? splitLines(text) : text;
  if (!options.lenient) {
    const parser = new TraceParser(options.source ?? 'trace');
    const decoder = new Decoder(options.source ?? 'trace');
    lines.forEach((l, i) => {
      const ev = parser.parse(l, i + 1);
      if (ev?.kind === 'call') decoder.decode(ev);
    });
    const [first] = danglingErrors(parser);
    if (first) throw first;
  }
  const r = new Replayer(options);
  for (let i = 0; i < lines.length; i++) r.line(lines[i] as string, i + 1);
  return r.finish();
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Replays a log file (plain or gzip), streaming; strict mode validates it in a first pass. */
export async function replayFile(
  path: string,
  options: Omit<ReplayOptions, 'source'> & { source?: string },
): Promise<ReplayResult> {
  const source = options.source ?? path;
  if (!options.lenient) await validateLines(openLines(path), source);
  return replayLines(openLines(path), { ...options, source });
}
