import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** A deterministic pseudo-random byte stream of `size` bytes (xorshift), without holding it in memory. */
export function patternStream(size: number, seed = 1, chunk = 1 << 20): Readable {
  let sent = 0;
  let state = seed >>> 0 || 1;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(chunk, size - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        buf.writeUInt32LE(state >>> 0, Math.min(i, n - 4));
      }
      sent += n;
      this.push(buf);
    },
  });
}

export async function sha256OfStream(stream: Readable): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { hash: h.digest('hex'), size };
}
