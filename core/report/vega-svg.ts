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
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
