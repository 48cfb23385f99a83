/**
 * The science checks (issue 17 item 6): on synthetic data, where the truth is known, training and evaluation must
 * show Xiao et al.'s effects, at the generator's DEFAULT settings (hueCue 0.4, 9 classes; only size and image
 * counts shrunk for CI) and over 3 seeds (each seed draws its own dataset, pairings and model).
 * Per seed: 32 px, 300 train / 100 val images per class, the small CNN for 6 epochs at batch 32 with Adam 1e-3
 * and the study's augmentation (the quick preset's training, fewer images).
 * Bounds come from core/stats where a claim is about a mean: chance ± 3 SE of the pooled val images (family-wise
 * over the checks at chance, as the leak check's test), the Student-t interval over the 3 seeds for BG-Gap at
 * p=0.9, per-seed Wilson intervals for each factor's rise. The fixed bounds (BG-Gap within ±2 points at p=0, a
 * mixed_rand-trained model's gap within ±3, only_fg above 0.8) are the issue's, on the mean over seeds.
 * Fails for a pipeline that ignores p, swaps pairings, leaks labels through backgrounds or the box at p=0, learns
 * no shapes, or draws a class factor that carries no class.
 * Measured numbers per seed, the file's run time (27 models) and the two claims that hold only narrowly (the p=0
 * BG-Gap, the mixed_rand-trained gap near -3): bench/RESULTS.md, "Science checks at the default generator settings".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rm } from 'node:fs/promises';
import { createTrainer } from '../../core/backend/create-trainer';
import { describeBackend } from '../../core/backend/select-backend';
import { prepareDataset } from '../../core/data/prepare';
import { openSampleSource } from '../../core/data/sample-source';
import { checkLeaks } from '../../core/leaks/leak-check';
import { evaluateSource } from '../../core/ml/evaluate';
import { bgGap } from '../../core/ml/metrics';
import { train, type TrainConfig } from '../../core/ml/train';
import type { StepTrainer } from '../../core/ml/trainer';
import { meanInterval, wilsonInterval } from '../../core/stats/intervals';
import { materializeVariant } from '../../core/variants/materialize';
import { FsArtifactStore } from '../../store/fs-store';
import { tempDir } from '../helpers/env';

const K = 9;
const CHANCE = 1 / K;
const SIZE = 32;
const VAL_PER_CLASS = 100;
const SEEDS = [1, 2, 3];
const REPAIRINGS = [1, 2, 3];
const FACTORS = ['shadow', 'distractor', 'classSize'] as const;
/** SE of an accuracy at chance, pooled over every seed's val images. */
const POOLED_SE = Math.sqrt((CHANCE * (1 - CHANCE)) / (K * VAL_PER_CLASS * SEEDS.length));

const fmt = (x: number) => x.toFixed(3);
const fmtCi = (e: { value: number; lo: number; hi: number }) =>
  `${fmt(e.value)} [${fmt(e.lo)}, ${fmt(e.hi)}]`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('science checks on synthetic data at the default generator settings, 3 seeds', () => {
  let dir: string;
  let store: FsArtifactStore;
  const trained: StepTrainer[] = [];
  const started = Date.now();

  const dataset = async (seed: number, p: number, factors?: Partial<Record<string, number>>) =>
    (
      await prepareDataset(
        store,
        {
          source: 'synthetic',
          classes: K,
          perClass: { train: 300, val: VAL_PER_CLASS },
          size: SIZE,
          bgCorrelation: p,
          ...(factors ? { factors } : {}),
          seed,
        },
        { tar: false },
      )
    ).manifestKey;
  const variant = async (key: string, name: string, seed = 0) =>
    (
      await materializeVariant(store, {
        datasetManifestKey: key,
        variant: { name } as { name: 'only_bg_t' },
        seed,
      })
    ).manifestKey;
  const trainOn = async (key: string, seed: number) => {
    // The production factory on the fastest backend here, in one thread (one thread keeps results bit-stable).
    const {
      trainer: t,
      backend,
      workers,
    } = await createTrainer({
      modelSpec: { arch: 'small_cnn', inputSize: SIZE, numClasses: K, seed },
      optimizer: { name: 'adam', learningRate: 0.001 },
      workers: 1,
    });
    if (!trained.length) console.log(`science checks on ${describeBackend(backend)}, ${workers} worker(s)`);
    trained.push(t);
    const config: TrainConfig = {
      epochs: 6,
      batchSize: 32,
      seed,
      optimizer: { name: 'adam', learningRate: 0.001 },
      augment: { shift: SIZE / 8, flip: true },
      checkpointEvery: 0,
    };
    await train(
      t,
      { train: await openSampleSource(store, key, 'train'), val: await openSampleSource(store, key, 'val') },
      config,
    );
    return t;
  };
  const acc = async (t: StepTrainer, key: string) =>
    (
      await evaluateSource((x, n) => t.predict(x, n), await openSampleSource(store, key, 'val'), {
        inputSize: SIZE,
        numClasses: K,
        batchSize: 100,
      })
    ).accuracy;

  /** Per seed: the p=0 and p=0.9 datasets and their mixed_same / mixed_rand re-pairings. */
  interface SeedData {
    p0: string;
    p9: string;
    mixed: Record<'p0' | 'p9', { same: string[]; rand: string[] }>;
  }
  const data = new Map<number, SeedData>();
  const mixedOf = async (key: string) => ({
    same: await Promise.all(REPAIRINGS.map((r) => variant(key, 'mixed_same', r))),
    rand: await Promise.all(REPAIRINGS.map((r) => variant(key, 'mixed_rand', r))),
  });
  /** Original, mixed_same and mixed_rand accuracy (each mixed averaged over re-pairings: one swings by points). */
  const table = async (t: StepTrainer, original: string, m: { same: string[]; rand: string[] }) => {
    const same = mean(await Promise.all(m.same.map((k) => acc(t, k))));
    const rand = mean(await Promise.all(m.rand.map((k) => acc(t, k))));
    return { original: await acc(t, original), same, rand, gap: bgGap(same, rand) };
  };
  /** A CNN trained on `name` of each seed's dataset, scored on the same variant's val split. */
  const bgOnly = async (name: string, key: (s: number) => Promise<string>) => {
    const out: number[] = [];
    for (const s of SEEDS) {
      const v = await variant(await key(s), name);
      out.push(await acc(await trainOn(v, s), v));
    }
    return out;
  };
  let bgOnlyBOff: number[] | undefined;
  let gapP9: number[] | undefined;

  before(async () => {
    dir = await tempDir('science-');
    store = new FsArtifactStore(dir);
    for (const s of SEEDS) {
      const [p0, p9] = [await dataset(s, 0), await dataset(s, 0.9)];
      data.set(s, { p0, p9, mixed: { p0: await mixedOf(p0), p9: await mixedOf(p9) } });
    }
  });
  after(async () => {
    for (const t of trained) await t.dispose();
    await rm(dir, { recursive: true, force: true });
    console.log(`science checks: ${((Date.now() - started) / 1000).toFixed(0)} s, ${trained.length} models`);
  });

  test('p=0: CNNs trained on backgrounds alone (only_bg_t, only_bg_b) read chance', async () => {
    for (const name of ['only_bg_t', 'only_bg_b']) {
      const a = await bgOnly(name, async (s) => data.get(s)!.p0);
      if (name === 'only_bg_b') bgOnlyBOff = a;
      const m = mean(a);
      console.log(
        `${name} at p=0: ${a.map(fmt).join(', ')}; mean ${fmt(m)} (chance ${fmt(CHANCE)} ± ${fmt(3 * POOLED_SE)})`,
      );
      assert.ok(Math.abs(m - CHANCE) <= 3 * POOLED_SE, `${name} at p=0: mean ${m}`);
    }
  });

  test('p=0: the leak check reads chance on every seed; p=0.9: clearly above', async () => {
    for (const s of SEEDS) {
      const r0 = (await checkLeaks(store, data.get(s)!.p0)).report;
      for (const row of r0.rows.filter((x) => x.features === 'all')) {
        console.log(
          `leak check seed ${s} p=0 ${row.variant} ${row.learner}: ${fmt(row.accuracy)} (chance ${fmt(r0.chance)} ± ${fmt(3 * r0.chanceSe)})`,
        );
        assert.ok(
          Math.abs(row.accuracy - r0.chance) <= 3 * r0.chanceSe,
          `seed ${s} ${row.variant} ${row.learner}: ${row.accuracy}`,
        );
      }
      const r9 = (await checkLeaks(store, data.get(s)!.p9)).report;
      const best = Math.max(...r9.rows.filter((x) => x.variant === 'only_bg_t').map((x) => x.ci[0]));
      console.log(`leak check seed ${s} p=0.9: best only_bg_t lower bound ${fmt(best)}`);
      assert.ok(best > r9.chance + 0.2, `seed ${s}: leak check at p=0.9: best lower bound ${best}`);
    }
  });

  test('p=0: trained on original, BG-Gap within ±2 points; trained on only_fg, above 0.8 on only_fg', async () => {
    const gaps: number[] = [];
    const fg: number[] = [];
    for (const s of SEEDS) {
      const d = data.get(s)!;
      const r = await table(await trainOn(d.p0, s), d.p0, d.mixed.p0);
      console.log(`seed ${s} p=0 original-trained: ${JSON.stringify(r)}`);
      gaps.push(r.gap);
      const onlyFg = await variant(d.p0, 'only_fg');
      fg.push(await acc(await trainOn(onlyFg, s), onlyFg));
    }
    const g = meanInterval(gaps);
    console.log(`p=0 BG-Gap over seeds: ${fmtCi(g)}; only_fg-trained on only_fg: ${fg.map(fmt).join(', ')}`);
    assert.ok(Math.abs(g.value) <= 0.02, `BG-Gap at p=0: mean ${g.value}`);
    assert.ok(mean(fg) > 0.8, `only_fg-trained accuracy on only_fg: ${fg.join(', ')}`);
  });

  test('p=0.9: trained on original, BG-Gap > 0 (t interval over seeds above 0)', async () => {
    const gaps: number[] = [];
    for (const s of SEEDS) {
      const d = data.get(s)!;
      const r = await table(await trainOn(d.p9, s), d.p9, d.mixed.p9);
      console.log(`seed ${s} p=0.9 original-trained: ${JSON.stringify(r)}`);
      gaps.push(r.gap);
    }
    const g = meanInterval(gaps);
    console.log(`p=0.9 BG-Gap over seeds: ${fmtCi(g)}`);
    assert.ok(g.lo > 0, `BG-Gap at p=0.9: ${fmtCi(g)}`);
    gapP9 = gaps;
  });

  test('p=0.9: trained on mixed_rand, gap within ±3 points, and shapes learned', async () => {
    const gaps: number[] = [];
    const rand: number[] = [];
    for (const s of SEEDS) {
      const d = data.get(s)!;
      const r = await table(await trainOn(d.mixed.p9.rand[0]!, s), d.p9, d.mixed.p9);
      console.log(`seed ${s} p=0.9 mixed_rand-trained: ${JSON.stringify(r)}`);
      gaps.push(r.gap);
      rand.push(r.rand);
    }
    const g = meanInterval(gaps);
    console.log(`p=0.9 mixed_rand-trained gap over seeds: ${fmtCi(g)}`);
    assert.ok(mean(rand) > CHANCE + 0.3, `mixed_rand accuracy ${rand.join(', ')}`);
    assert.ok(Math.abs(g.value) <= 0.03, `gap of a mixed_rand-trained model: mean ${g.value}`);
    if (gapP9) assert.ok(g.value < mean(gapP9), `gap ${g.value} vs original-trained ${mean(gapP9)}`);
  });

  for (const factor of FACTORS)
    test(`p=0, class factor ${factor} at 0.9 raises background-only (only_bg_b) accuracy on every seed`, async () => {
      const on = await bgOnly('only_bg_b', (s) => dataset(s, 0, { [factor]: 0.9 }));
      const off = bgOnlyBOff ?? (await bgOnly('only_bg_b', async (s) => data.get(s)!.p0));
      const rise = meanInterval(on.map((a, i) => a - off[i]!));
      console.log(
        `only_bg_b with ${factor} 0.9: ${on.map(fmt).join(', ')} (off: ${off.map(fmt).join(', ')}); rise over seeds ${fmtCi(rise)}`,
      );
      // Per seed, two accuracies on 900 val images each: the factor's Wilson 95% interval lies wholly above the
      // factor-off one (about 2.8 SE of the difference). A t interval over 3 seeds (t(2) = 4.3) would let one
      // slow-learning seed decide; this asks every seed for a rise no sampling noise explains.
      const n = K * VAL_PER_CLASS;
      for (const [i, s] of SEEDS.entries()) {
        const a = wilsonInterval(Math.round(on[i]! * n), n);
        const b = wilsonInterval(Math.round(off[i]! * n), n);
        assert.ok(
          a.lo > b.hi,
          `${factor}, seed ${s}: ${fmt(on[i]!)} [${fmt(a.lo)}, ${fmt(a.hi)}] vs off ${fmt(off[i]!)} [${fmt(b.lo)}, ${fmt(b.hi)}]`,
        );
      }
    });
});
