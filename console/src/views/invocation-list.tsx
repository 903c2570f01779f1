import { useEffect } from 'preact/hooks';
import { enc, json, type Invocation } from '../api';
import { ErrorBox, Section, useLoad, when } from '../ui';

const REFRESH_MS = 5000;

export function InvocationList({ name }: { name: string }) {
  const list = useLoad(() => json<{ invocations: Invocation[] }>('GET', `/v1/functions/${enc(name)}/invocations?limit=20`), [name]);
  useEffect(() => {
    const t = setInterval(list.reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [list.reload]);
  const items = list.data?.invocations ?? [];
  return (
    <Section title="Recent invocations" actions={<button onClick={list.reload}>Refresh</button>}>
      <ErrorBox error={list.error} />
      {items.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <table class="invocations">
          <thead><tr><th>Started</th><th>Status</th><th>Duration</th><th>Billed</th><th>Start</th><th>Source</th><th>Id</th></tr></thead>
          <tbody>
            {items.map((i) => (
              <tr key={`${i.id}/${i.attempt}`}>
                <td>{when(i.startedAt)}</td>
                <td class={i.status === 'succeeded' ? 'good' : 'bad'}>{i.status}{i.errorType ? ` (${i.errorType})` : ''}</td>
                <td>{i.durationMs.toFixed(1)} ms</td>
                <td>{i.billedDurationMs} ms</td>
                <td>{i.coldStart ? `cold${i.coldStartKind ? `, ${i.coldStartKind}` : ''}` : 'warm'}</td>
                <td>{i.source}</td>
                <td><code>{i.id}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
