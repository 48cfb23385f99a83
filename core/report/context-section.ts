import { escapeHtml as esc } from './html-escape';
import { pctWithInterval, pointsWithInterval, type StudyResults } from './results';

/** The HTML form of results.ts contextMarkdown: each run with a context head beside its twin, from results.json. */
export function contextHtml(r: StudyResults): string {
  const pairs = r.contextPairs ?? [];
  const head = [
    'model',
    'trained on',
    'context head',
    'seed',
    'BG-Gap with',
    'BG-Gap without',
    'BG-Gap difference (points)',
    'mixed_rand with',
    'mixed_rand without',
    'mixed_rand difference (points)',
  ];
  const rows = pairs.map((p) => [
    p.arch,
    p.trainVariant,
    `${p.context.label} ×${p.context.weight}`,
    String(p.seed),
    pctWithInterval(p.bgGap.with, p.bgGap.withInterval),
    pctWithInterval(p.bgGap.without, p.bgGap.withoutInterval),
    pointsWithInterval(p.bgGap.difference, p.bgGap.differenceInterval),
    pctWithInterval(p.mixedRand.with, p.mixedRand.withInterval),
    pctWithInterval(p.mixedRand.without, p.mixedRand.withoutInterval),
    pointsWithInterval(p.mixedRand.difference, p.mixedRand.differenceInterval),
  ]);
  const groups = (r.contextPairGroups ?? []).filter((g) => g.seeds.length > 1);
  const mixed = pairs.filter((p) => p.backends && p.backends.with !== p.backends.without);
  const engines = mixed.length
    ? `<p class="note">${esc(`Engines differ in ${mixed.length} of ${pairs.length} pair(s) (with a head: ${mixed[0]!.backends.with}; without: ${mixed[0]!.backends.without}): a context head trains on tfjs, so part of such a difference may be the engine's numerics. Set BGSTUDY_BACKEND=tfjs-node on the workers for pairs on one engine.`)}</p>`
    : '';
  return `<p class="note">The slides' "highly correlated class" (an extra label "sea" on whale images): each model trained with a second head that also predicts a context label (loss = CE(class) + weight × CE(context)), beside its twin trained without it (same data, architecture, seed and schedule); both evaluated with the class head only. Accuracy in %, differences (with − without) in points with 95% paired bootstrap intervals over the same test images. A lower BG-Gap and a higher mixed_rand accuracy mean less reliance on the background.</p>
<table id="context-pairs"><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((cells) => `<tr>${cells.map((c, i) => (i < 4 ? `<td>${esc(c)}</td>` : `<td class="num">${esc(c)}</td>`)).join('')}</tr>`).join('\n')}</tbody></table>${
    groups.length
      ? `<ul>${groups
          .map(
            (g) =>
              `<li>${esc(`${g.arch} on ${g.trainVariant}, context ${g.context.label} ×${g.context.weight}, seeds ${g.seeds.join(' ')}: mean difference BG-Gap ${pointsWithInterval(g.bgGapDifference?.value ?? null, g.bgGapDifference)}, mixed_rand ${pointsWithInterval(g.mixedRandDifference?.value ?? null, g.mixedRandDifference)} (95% t interval over seeds)`)}</li>`,
          )
          .join('')}</ul>`
      : ''
  }${engines}`;
}
