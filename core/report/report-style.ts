/** The report's stylesheet, inlined so report.html needs nothing but itself. */
export const REPORT_CSS = `
:root { --fg: #1d1d1f; --muted: #6b6b70; --line: #d9d9de; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 Helvetica, Arial, sans-serif; color: var(--fg); background: #fafafa; }
header { background: white; border-bottom: 1px solid var(--line); padding: 18px 28px 10px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
h4 { font-size: 13px; margin: 14px 0 4px; color: var(--muted); }
main { padding: 0 28px 28px; max-width: 1500px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 10px; font-size: 13px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
nav.sub { margin-top: 4px; font-size: 12px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: white; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f0f0f3; font-weight: 600; max-width: 120px; }
table.acc th[scope="row"] { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.paper { display: block; color: var(--muted); font-size: 11px; }
.ci { display: block; color: var(--muted); font-size: 10px; white-space: nowrap; cursor: help; }
td.num .paper { text-align: right; }
.note { color: var(--muted); font-size: 12px; max-width: 1000px; }
.claim { font-style: italic; max-width: 1000px; }
.missing { color: #a33; font-size: 12px; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; margin-top: 14px; }
figure { margin: 0; background: white; border: 1px solid var(--line); padding: 8px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figure .fig-title { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
figcaption { color: var(--muted); font-size: 11px; max-width: 640px; margin-top: 4px; }
section.experiment { margin-bottom: 16px; }
img.sample { width: 72px; height: 72px; image-rendering: pixelated; display: block; }
table.samples td { padding: 2px; }
img.saliency { max-width: 100%; height: auto; image-rendering: pixelated; display: block; }
footer { color: var(--muted); font-size: 11px; padding: 12px 28px 24px; }
code { font-size: 12px; }
`;
