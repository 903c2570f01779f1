import { json, type FunctionConfig } from '../api';
import { href } from '../router';
import { ErrorBox, Section, useLoad, when } from '../ui';

export function FunctionList() {
  const list = useLoad(() => json<{ functions: FunctionConfig[] }>('GET', '/v1/functions'), []);
  return (
    <Section title="Functions" actions={<button onClick={list.reload}>Refresh</button>}>
      <ErrorBox error={list.error} />
      {list.data && list.data.functions.length === 0 && <p class="muted">No functions yet. <a href={href('deploy')}>Deploy one</a>.</p>}
      {list.data && list.data.functions.length > 0 && (
        <table class="functions">
          <thead>
            <tr><th>Name</th><th>Runtime</th><th>Handler</th><th>Memory</th><th>Timeout</th><th>Updated</th></tr>
          </thead>
          <tbody>
            {list.data.functions.map((f) => (
              <tr key={f.name}>
                <td><a href={href('functions', f.name)}>{f.name}</a></td>
                <td>{f.runtime}</td>
                <td><code>{f.handler}</code></td>
                <td>{f.memoryMb} MB</td>
                <td>{f.timeoutMs} ms</td>
                <td>{when(f.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
