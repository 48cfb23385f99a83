import { createHash } from 'node:crypto';
import type { TopLevelSpec } from 'vega-lite/build/index';

// vega and vega-lite ship as ES modules whose canvas probe uses top-level await, which `require` cannot load;
// a dynamic import (kept as import() by tsx) loads them in this CommonJS project.
type VegaModule = typeof import('vega');
type VegaLiteModule = { compile: (spec: TopLevelSpec) => { spec: import('vega').Spec } };
// vega-lite's types resolve only under node16/bundler resolution, so its module is typed by hand here
const VEGA_LITE: string = 'vega-lite';
let loaded: Promise<[VegaModule, VegaLiteModule]> | undefined;

function load(): Promise<[VegaModule, VegaLiteModule]> {
  loaded ??= Promise.all([
    import('vega') as Promise<VegaModule>,
    import(VEGA_LITE) as Promise<VegaLiteModule>,
  ]);
  return loaded;
}

/** Compiles a Vega-Lite spec and renders it to a standalone SVG string with vega's headless View (no canvas). */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await load();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

const DEF_REF = /(id="|url\(#|href="#)((?:gradient_|clip)\d+)/g;

/**
 * vega numbers gradient and clip ids with process-wide counters, so the same chart rendered twice by one worker
 * differed (and an unchanged rerun rewrote report.html). Ids named by the chart's own content stay unique in a
 * page of several charts (identical charts share identical definitions) and repeat exactly on a rerun.
 */
function stableIds(svg: string): string {
  const ids = [...new Set([...svg.matchAll(DEF_REF)].map((m) => m[2]!))];
  if (ids.length === 0) return svg;
  const neutral = svg.replace(DEF_REF, (_m, ctx: string) => ctx);
  const prefix = createHash('sha256').update(neutral).digest('hex').slice(0, 10);
  const names = new Map(ids.map((id, i) => [id, `v${prefix}-${i}`]));
  return svg.replace(DEF_REF, (_m, ctx: string, id: string) => `${ctx}${names.get(id)!}`);
}
