import { useMemo, useState } from 'preact/hooks';
import { json, type Usage, type UsageRow } from '../api';
import { BarChart, type BarSeries } from '../bar-chart';
import { ErrorBox, Section, useLoad } from '../ui';

const DAY_MS = 86_400_000;

/** Requests, GB-s and cost per day and per function, over the last N days (UTC). */
export function UsageView() {
  const [days, setDays] = useState(30);
  const range = useMemo(() => {
    const to = new Date(Date.now() + 60_000);
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate()) - (days - 1) * DAY_MS);
    return `from=${from.toISOString()}&to=${to.toISOString()}`;
  }, [days]);
  const byDay = useLoad(() => json<Usage>('GET', `/v1/usage?groupBy=day&${range}`), [range]);
  const byFunction = useLoad(() => json<Usage>('GET', `/v1/usage?groupBy=function&${range}`), [range]);
  const reload = () => {
    byDay.reload();
    byFunction.reload();
  };
  return (
    <Section
      title="Usage"
      actions={
        <span>
          <select value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            <option value="7">7 days</option>
            <option value="30">30 days</option>
            <option value="90">90 days</option>
          </select>{' '}
          <button onClick={reload}>Refresh</button>
        </span>
      }
    >
      <ErrorBox error={byDay.error ?? byFunction.error} />
      {byDay.data && <UsagePanel title="Per day" usage={byDay.data} />}
      {byFunction.data && <UsagePanel title="Per function" usage={byFunction.data} />}
    </Section>
  );
}

function UsagePanel({ title, usage }: { title: string; usage: Usage }) {
  const rows = useMemo(() => [...usage.rows].sort((a, b) => (usage.groupBy === 'day' ? a.key.localeCompare(b.key) : b.requests - a.requests)), [usage]);
  const labels = useMemo(() => rows.map((r) => r.key.slice(0, 64)), [rows]);
  const series = useMemo<BarSeries[]>(
    () => [
      { label: 'requests', values: rows.map((r) => r.requests), color: '#2563eb' },
      { label: 'GB-s', values: rows.map((r) => Number(r.gbSeconds)), color: '#16a34a' },
      { label: `cost (${usage.currency})`, values: rows.map((r) => Number(r.cost)), color: '#d97706' },
    ],
    [rows, usage.currency],
  );
  return (
    <div class={`usage-panel usage-${usage.groupBy}`}>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p class="muted">No invocations in this range.</p>
      ) : (
        <div class="charts">{series.map((s) => <BarChart key={s.label} labels={labels} series={s} />)}</div>
      )}
      <UsageTable rows={rows} currency={usage.currency} />
    </div>
  );
}

function UsageTable({ rows, currency }: { rows: UsageRow[]; currency: string }) {
  if (rows.length === 0) return null;
  return (
    <table class="usage">
      <thead><tr><th>Key</th><th>Requests</th><th>Billed ms</th><th>GB-s</th><th>Cost ({currency})</th><th>Throttled</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <td>{r.key}</td>
            <td>{r.requests}</td>
            <td>{r.billedMs}</td>
            <td>{r.gbSeconds}</td>
            <td>{r.cost}</td>
            <td>{r.rejected.throttled}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
