import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createDeflate, crc32, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Writes a black 8-bit grayscale PNG of `width` x `height` without ever holding its pixels: rows of zeros are
 * streamed through deflate, so a 10,000 x 10,000 image (100 MB of pixels) is a file of ~100 KB, a
 * decompression bomb. `headerOnly` writes a valid header and a token IDAT (what a hand-made bomb looks like to
 * a decoder that trusts the header). Returns the file size.
 */
export async function writeBombPng(
  file: string,
  width: number,
  height: number,
  options: { headerOnly?: boolean } = {},
): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, grayscale, deflate, no filter, no interlace
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  // rows are filter byte 0 + zeros: written a block of rows at a time (a 1 x 100000 strip is 100000 rows)
  const rows = options.headerOnly ? 1 : height;
  const perBlock = Math.max(1, Math.floor(2 ** 20 / (width + 1)));
  const block = Buffer.alloc(Math.min(rows, perBlock) * (width + 1));
  for (let y = 0; y < rows; y += perBlock) {
    const n = Math.min(perBlock, rows - y);
    if (!deflate.write(block.subarray(0, n * (width + 1)))) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  const out = createWriteStream(file);
  out.end(png);
  await once(out, 'finish');
  return png.length;
}

/** Samples the process's peak RSS while `fn` runs (every 5 ms): returns fn's result and the peak growth. */
export async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

export type TarEntry = {
  name: string;
  body?: Buffer;
  type?: 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo' | 'directory';
  linkname?: string;
};

/** A .tar.gz built entry by entry (so it may hold what `tar` would not write: `..`, absolute names, devices). */
export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const end = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry(
        {
          name: e.name,
          type: e.type ?? 'file',
          linkname: e.linkname,
          size: e.body?.length ?? 0,
          mode: 0o644,
          devmajor: 1,
          devminor: 3,
        },
        e.body ?? Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  p.finalize();
  await end;
  return gzipSync(Buffer.concat(chunks));
}

/** A local HTTP server whose handler sees the path; close() also drops open (stalled) connections. */
export async function servePaths(handler: (path: string, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => handler(req.url ?? '/', res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
