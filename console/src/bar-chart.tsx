/**
 * A bar chart over named categories (days or functions), drawn by uPlot on a canvas: the x axis is
 * the category's index, labelled with its name.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BarSeries {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: string;
}

export function BarChart({ labels, series }: { labels: readonly string[]; series: BarSeries }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || labels.length === 0) return;
    const xs = labels.map((_, i) => i);
    const opts: uPlot.Options = {
      title: series.label,
      width: 360,
      height: 220,
      scales: {
        x: { time: false, range: () => [-0.5, labels.length - 0.5] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [{ splits: () => xs, values: (_u, splits) => splits.map((i) => labels[i] ?? '') }, { size: 70, values: (_u, splits) => splits.map(tick) }],
      series: [{}, { label: series.label, stroke: series.color, fill: `${series.color}aa`, width: 1, points: { show: false }, paths: uPlot.paths.bars!({ size: [0.6, 60] }) }],
      legend: { show: false },
    };
    const plot = new uPlot(opts, [xs, [...series.values]], el);
    el.dataset['points'] = String(series.values.length);
    return () => {
      plot.destroy();
      delete el.dataset['points'];
    };
  }, [labels, series]);
  return <div class="chart" ref={host} data-chart={series.label} />;
}

/** Costs are often millionths: show them in exponent form rather than as a row of zeros. */
function tick(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) < 0.01) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}
