import type { DatasetPlan, SplitPlan } from './dataset-plan';
import type { Split } from './sample';
import type { SyntheticSource } from './source-spec';
import {
  drawGenericBackground,
  SYNTHETIC_GENERATOR_VERSION,
  drawSynthetic,
  syntheticClassNames,
  syntheticUnits,
} from './synthetic';
import { BG_FAMILIES } from './synthetic-backgrounds';

export function syntheticPlan(spec: SyntheticSource): DatasetPlan {
  const split = (name: Split): SplitPlan => ({
    split: name,
    units: syntheticUnits(spec, name),
    make: async (start, end) => {
      const draws = Array.from({ length: end - start }, (_, i) => drawSynthetic(spec, name, start + i));
      return {
        samples: draws.map((d) => d.sample),
        extras: draws.map((d) => ({ bgFamily: BG_FAMILIES[d.bgFamily]!.name })),
        skipped: [],
      };
    },
  });
  const splits = [split('train'), split('val')];
  if (spec.genericCount > 0) {
    splits.push({
      split: 'generic',
      units: spec.genericCount,
      make: async (start, end) => ({
        samples: Array.from({ length: end - start }, (_, i) => drawGenericBackground(spec, start + i)),
        skipped: [],
      }),
    });
  }
  return {
    classes: syntheticClassNames(spec),
    // the generator's version keys the dataset: a changed drawing never reuses a stored dataset
    fingerprint: { generator: SYNTHETIC_GENERATOR_VERSION },
    splits,
    skipped: [],
    approxSize: spec.size,
  };
}
