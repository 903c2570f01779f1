import { useState } from 'preact/hooks';
import { enc, json, type DeadLetter } from '../api';
import { ErrorBox, Section, useLoad, when } from '../ui';

export function DeadLetters({ name }: { name: string }) {
  const list = useLoad(() => json<{ items: DeadLetter[] }>('GET', `/v1/functions/${enc(name)}/dead-letters?limit=50`), [name]);
  const [replayed, setReplayed] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const replay = async (id: string) => {
    try {
      const r = await json<{ invocationId: string }>('POST', `/v1/functions/${enc(name)}/dead-letters/${enc(id)}/replay`);
      setReplayed(r.invocationId);
      setError(undefined);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const items = list.data?.items ?? [];
  return (
    <Section title="Dead letters" actions={<button onClick={list.reload}>Refresh</button>}>
      <ErrorBox error={list.error ?? error} />
      {replayed && <p class="good">Replayed as invocation <code>{replayed}</code>.</p>}
      {items.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table>
          <thead><tr><th>Failed</th><th>Attempts</th><th>Error</th><th>Event</th><th></th></tr></thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td>{when(d.failedAt)}</td>
                <td>{d.attempts}</td>
                <td><code>{JSON.stringify(d.error)}</code></td>
                <td><code>{JSON.stringify(d.event).slice(0, 200)}</code></td>
                <td><button onClick={() => replay(d.id)}>Replay</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
