// A line chart over days (uPlot, bundled: nothing is fetched from outside).
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

export type Series = { label: string; values: (number | null)[]; color: string };

export function LineChart({ days, series, id }: { days: string[]; series: Series[]; id: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const xs = days.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
    const plot = new uPlot(
      {
        width: Math.max(320, box.current.clientWidth),
        height: 240,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true }))],
        axes: [{}, { label: 'ms' }],
        scales: { x: { time: true } },
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      box.current,
    );
    return () => plot.destroy();
  }, [days.join(), series.map((s) => s.values.join()).join('|')]);
  return <div class="chart" data-chart={id} ref={box} />;
}
