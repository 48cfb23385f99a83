import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderVegaLiteSvg } from '../../core/report/vega-svg';

// A continuous colour legend: vega draws it with a <linearGradient> whose id comes from a process-wide counter.
const heatmap = (values: number[]) => ({
  data: { values: values.map((v, i) => ({ x: String(i % 2), y: String(i >> 1), v })) },
  mark: 'rect' as const,
  encoding: {
    x: { field: 'x', type: 'nominal' as const },
    y: { field: 'y', type: 'nominal' as const },
    color: { field: 'v', type: 'quantitative' as const },
  },
});

void test('a chart renders to the same bytes every time; different charts keep distinct gradient ids', async () => {
  const a1 = await renderVegaLiteSvg(heatmap([0, 1, 2, 3]));
  const b = await renderVegaLiteSvg(heatmap([5, 1, 9, 3]));
  const a2 = await renderVegaLiteSvg(heatmap([0, 1, 2, 3]));
  assert.match(a1, /<linearGradient id="/, 'the chart has a gradient to name');
  assert.equal(a2, a1);
  const ids = (svg: string) => [...svg.matchAll(/<linearGradient id="([^"]+)"/g)].map((m) => m[1]);
  assert.notDeepEqual(ids(b), ids(a1), 'two charts in one page must not share an id for different gradients');
  for (const svg of [a1, b])
    for (const id of ids(svg)) assert.ok(svg.includes(`url(#${id})`), `${id} is referenced`);
});
