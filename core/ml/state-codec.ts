import type { TrainerState } from './trainer';

type NamedArray = TrainerState['weights'][number];

/** Where each array sits in the binary body: float32 little-endian, back to back. */
export interface ArrayEntry {
  name: string;
  shape: number[];
  /** Offset and length in float32 elements. */
  offset: number;
  length: number;
}

export interface StateHeader {
  format: 'f32le-v1';
  weights: ArrayEntry[];
  optimizer: ArrayEntry[];
}

/** Packs weights and optimizer state into one binary body plus a small JSON header. */
export function encodeState(state: TrainerState): { header: StateHeader; body: Buffer } {
  let offset = 0;
  const entries = (arrays: NamedArray[]) =>
    arrays.map((a) => {
      const e = { name: a.name, shape: [...a.shape], offset, length: a.data.length };
      offset += a.data.length;
      return e;
    });
  const header: StateHeader = {
    format: 'f32le-v1',
    weights: entries(state.weights),
    optimizer: entries(state.optimizer),
  };
  const body = Buffer.alloc(offset * 4);
  let at = 0;
  for (const a of [...state.weights, ...state.optimizer]) {
    for (let i = 0; i < a.data.length; i++) body.writeFloatLE(a.data[i]!, (at + i) * 4);
    at += a.data.length;
  }
  return { header, body };
}

export function decodeState(header: StateHeader, body: Buffer, what = 'state'): TrainerState {
  if (header.format !== 'f32le-v1') throw new Error(`${what}: unknown state format ${String(header.format)}`);
  const arrays = (entries: ArrayEntry[]) =>
    entries.map((e) => {
      if ((e.offset + e.length) * 4 > body.length)
        throw new Error(`${what}: array ${e.name} runs past the end of the body (${body.length} bytes)`);
      const data = new Float32Array(e.length);
      for (let i = 0; i < e.length; i++) data[i] = body.readFloatLE((e.offset + i) * 4);
      return { name: e.name, shape: e.shape, data };
    });
  return { weights: arrays(header.weights), optimizer: arrays(header.optimizer) };
}
