import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { BadInputError } from '../data/decode';
import { outsideRoot } from '../data/listing';

/** Largest VOC XML annotation read (an ImageNet one is about 1 KB): bigger ones are refused by name. */
export const DEFAULT_MAX_XML_BYTES = 4 * 2 ** 20;
/** Largest CSV/JSON box table read (all of ImageNet's train boxes fit in about 40 MB). */
export const DEFAULT_MAX_TABLE_BYTES = 64 * 2 ** 20;

/**
 * Reads an annotation file (VOC XML, or a CSV/JSON box table) as text, with the protections images get: a
 * symbolic link is followed only while it stays inside `root` (a link out of a downloaded dataset could read any
 * file the worker can, and its lines would end up in reports); only regular files are read (a FIFO would block);
 * a file over `maxBytes` is refused before it is read. Every refusal is a BadInputError naming the file.
 */
export async function readAnnotationFile(file: string, root: string, maxBytes: number): Promise<string> {
  const outside = await outsideRoot(file, root);
  if (outside) throw new BadInputError(file, outside);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is then refused as not a regular file
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: Error) => {
    throw new BadInputError(file, `cannot read annotation file: ${err.message}`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BadInputError(file, 'annotation is not a regular file');
    if (st.size > maxBytes)
      throw new BadInputError(
        file,
        `annotation file is ${st.size} bytes, over the limit of ${maxBytes} (masks.boxes.maxBytes); not read`,
      );
    // one byte more than the size: a file that grows while it is read is refused, not read past the limit
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) throw new BadInputError(file, 'annotation file grew while it was read; not read');
    }
    return buf.toString('utf8', 0, n);
  } finally {
    await fh.close();
  }
}
