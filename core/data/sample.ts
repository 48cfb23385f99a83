/**
 * One image of a dataset or variant as every consumer sees it (training, evaluation, the challenge, reports):
 * decoded, 8-bit RGB, row-major HWC, with its foreground mask when the source has one.
 */
export interface Sample {
  /** Stable id within the dataset (e.g. `val/03_reptile/n01234_567`), also used in reports. */
  id: string;
  /** Class index into the manifest's `classes`. */
  label: number;
  width: number;
  height: number;
  /** width * height * 3 bytes. */
  rgb: Uint8Array;
  /** width * height bytes, 255 = foreground, 0 = background; absent when the source has no mask. */
  mask?: Uint8Array;
}

export type Split = 'train' | 'val';

/** A split of a dataset or of one variant, streamed from the artifact store without holding it in memory. */
export interface SampleSource {
  readonly classes: string[];
  /** Number of samples in the split. */
  count(): number;
  /**
   * Every sample once. With `shuffleSeed`, in a seeded order (the same seed gives the same order);
   * `skip` starts that order at a given position (resuming mid-epoch).
   */
  iterate(options?: { shuffleSeed?: number; skip?: number }): AsyncIterable<Sample>;
}
