/**
 * A real tiny study for report tests: synthetic 16 px data, Xiao's variants plus a blur, three small CNNs
 * trained for 2 epochs and evaluated (accuracy per variant, backgrounds challenge, saliency) by the real
 * StudyWorkflow and its workers. Its numbers are near chance (too little training to learn shapes): the report
 * test checks what is shown, not the science.
 */
export const TINY_STUDY_SPEC = {
  version: 1,
  name: 'tiny-report-study',
  description: 'Tiny real study for the report test: synthetic 16 px, small CNNs, 2 epochs',
  dataset: {
    source: 'synthetic',
    classes: 4,
    perClass: { train: 32, val: 8 },
    size: 16,
    bgCorrelation: 0.9,
    seed: 3,
    genericCount: 8,
  },
  variants: ['original', 'only_bg_t', 'only_fg', 'mixed_same', 'mixed_rand', { name: 'bg_blur', sigma: [2] }],
  train: [{ model: 'small_cnn', on: ['original', 'mixed_rand', 'only_fg'], epochs: 2, batch: 8, seed: 1 }],
  evaluate: {
    on: 'all',
    pairingRepeats: 1,
    challenge: { backgrounds: 8, foregrounds: 0 },
    saliency: { samples: 8 },
  },
};
