// The console's charts, drawn with uPlot (served from node_modules as /admin/assets/uplot.esm.js): a canvas each,
// sized to its box and redrawn at the box's new width when the window changes (phones turn).

import uPlot from '/admin/assets/uplot.esm.js';

const COLOURS = ['#0b57d0', '#1a7f37', '#b42318'];

/** A line chart of `series` ([{label, values}]) over `times` (seconds since 1970) in `box`; returns the uPlot. */
export function lineChart(box, times, series, { height = 220, bars = false } = {}) {
  const width = () => Math.max(box.clientWidth, 240);
  const opts = {
    width: width(),
    height,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
    },
    axes: [{}, { size: 40 }],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        fill: bars ? 'rgba(11, 87, 208, 0.15)' : undefined,
        paths: bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
        points: { show: true },
      })),
    ],
  };
  const chart = new uPlot(opts, [times, ...series.map((s) => s.values)], box);
  addEventListener('resize', () => chart.setSize({ width: width(), height }));
  return chart;
}
