import type { PerImage } from '../ml/evaluate';
import type { SaliencyItem } from '../ml/saliency';
import type { ArtifactStore } from '../../store/artifact-store';
import { getJson } from '../../store/json';
import type { RunSummary } from '../../workflows/run-workflow';

/**
 * What the intervals are computed from, read back from the evaluation documents (evals/…) the runs wrote:
 * per-image correctness of every evaluation, and per-map shares of every saliency grid. Keyed by resultKey.
 */
export interface EvalDetails {
  images: Record<string, { ids: string[]; correct: Uint8Array }>;
  saliency: Record<string, { share: number; maskArea: number }[]>;
  /** Documents that could not be read or predate per-image results (their numbers get no interval). */
  missing: string[];
}

export const NO_DETAILS: EvalDetails = { images: {}, saliency: {}, missing: [] };

/** Reads every evaluation and saliency document of `runs` from the store. */
export async function loadEvalDetails(store: ArtifactStore, runs: RunSummary[]): Promise<EvalDetails> {
  const out: EvalDetails = { images: {}, saliency: {}, missing: [] };
  for (const run of runs) {
    for (const t of run.tests)
      for (const e of t.evaluations) {
        const doc = await getJson<{ perImage?: PerImage }>(store, e.resultKey).catch(() => null);
        const p = doc?.perImage;
        if (!p) {
          out.missing.push(e.resultKey);
          continue;
        }
        out.images[e.resultKey] = {
          ids: p.ids,
          correct: Uint8Array.from(p.predicted, (y, i) => (y === p.labels[i] ? 1 : 0)),
        };
      }
    for (const s of run.saliency) {
      const doc = await getJson<{ items?: SaliencyItem[] }>(store, s.resultKey).catch(() => null);
      if (!doc?.items) {
        out.missing.push(s.resultKey);
        continue;
      }
      out.saliency[s.resultKey] = doc.items
        .filter((i) => i.share !== null && i.maskArea !== null)
        .map((i) => ({ share: i.share!, maskArea: i.maskArea! }));
    }
  }
  return out;
}
