"""The dashboard's inline stylesheet: screen and print (A4 landscape), no external font."""

CSS = """
:root { --ink: #1f2933; --line: #c8d0d8; --head: #e8eef5; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", "Noto Serif", "DejaVu Serif", serif; color: var(--ink);
  margin: 0 auto; max-width: 1200px; padding: 12px 18px; font-size: 15px; line-height: 1.35; }
h1 { font-size: 22px; margin: 4px 0 6px; }
h2 { font-size: 18px; margin: 22px 0 8px; border-bottom: 2px solid var(--line); padding-bottom: 3px; }
.meta, .small { color: #52606d; }
.small { font-size: 12px; }
.warn { color: #9a3412; font-weight: bold; }
nav a { margin-right: 4px; }
a { color: #0b57d0; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid var(--line); border-left: 6px solid #52606d; padding: 6px 12px; min-width: 130px; }
.card .num { display: block; font-size: 24px; font-weight: bold; }
.card .cap { font-size: 13px; }
.card-on_time { border-left-color: #2E7D32; } .card-late { border-left-color: #8FAADC; }
.card-invalid { border-left-color: #ED7D31; } .card-rejected { border-left-color: #C00000; }
.card-missing { border-left-color: #A6A6A6; }
figure.chart-box { margin: 8px 0; }
figcaption { font-weight: bold; margin-bottom: 4px; }
svg.chart { max-width: 930px; display: block; }
svg .lbl { font-size: 12px; fill: #1f2933; }
svg .in { font-size: 11px; fill: #fff; }
svg .frame { fill: #f5f7fa; stroke: #c8d0d8; }
table.data { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
table.data caption { text-align: left; font-style: italic; padding: 2px 0; }
table.data th, table.data td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; }
table.data tr:first-child th { background: var(--head); }
table.data th[scope=row] { text-align: left; font-weight: normal; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.code { font-family: monospace; font-size: 12px; }
.st-on_time { color: #1b5e20; } .st-late { color: #1d4ed8; } .st-invalid { color: #c2410c; font-weight: bold; }
.st-rejected { color: #b91c1c; font-weight: bold; } .st-missing { color: #52606d; font-weight: bold; }
.err a { color: #b91c1c; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  section, figure, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  table.data { font-size: 9pt; }
  svg.chart { max-width: 100%; }
}
"""
