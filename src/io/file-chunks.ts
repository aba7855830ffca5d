/**
 * A file on disk as a `ChunkedFile` (src/io/predictions-file.ts): its first 64 KiB to recognise the
 * format, then either 1 MiB chunks read one after the other into one reused buffer (CSV, parsed as it
 * comes) or the whole file in one read (Arrow IPC and Parquet).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { ChunkedFile } from './predictions-file';

const HEAD_BYTES = 64 * 1024;
const CHUNK_BYTES = 1024 * 1024;

/**
 * Opens `path` and reads its head now, so a missing or unreadable file fails here, before any parsing.
 *
 * @throws the fs error (ENOENT, EACCES, EISDIR...) of opening or reading it.
 */
export function openChunkedFile(path: string, chunkBytes = CHUNK_BYTES): ChunkedFile {
  const fd = openSync(path, 'r');
  let size: number;
  let head: Uint8Array;
  try {
    size = fstatSync(fd).size;
    head = new Uint8Array(Math.min(size, HEAD_BYTES));
    let got = 0;
    while (got < head.length) {
      const n = readSync(fd, head, got, head.length - got, got);
      if (n === 0) break;
      got += n;
    }
    head = head.subarray(0, got);
  } finally {
    closeSync(fd);
  }
  return {
    size,
    head,
    chunks: () => readChunks(path, chunkBytes),
    whole: () => readFileSync(path),
  };
}

/** The file's content in order; every chunk is a view of one buffer, valid until the next is asked for. */
function* readChunks(path: string, chunkBytes: number): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint8Array(chunkBytes);
    for (;;) {
      const n = readSync(fd, buffer, 0, chunkBytes, null);
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}
