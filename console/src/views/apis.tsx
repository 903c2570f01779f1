import { useState } from 'preact/hooks';
import { enc, json, type Api, type Route } from '../api';
import { ErrorBox, Section, useLoad } from '../ui';

export function ApisView() {
  const apis = useLoad(() => json<{ apis: Api[] }>('GET', '/v1/apis'), []);
  return (
    <Section title="APIs" actions={<button onClick={apis.reload}>Refresh</button>}>
      <ErrorBox error={apis.error} />
      {apis.data && apis.data.apis.length === 0 && <p class="muted">No APIs yet.</p>}
      {apis.data?.apis.map((a) => <ApiRoutes key={a.name} api={a} />)}
    </Section>
  );
}

function ApiRoutes({ api }: { api: Api }) {
  const routes = useLoad(() => json<{ routes: Route[] }>('GET', `/v1/apis/${enc(api.name)}/routes`), [api.name]);
  const [routeKey, setRouteKey] = useState('');
  const [fn, setFn] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      await json('POST', `/v1/apis/${enc(api.name)}/routes`, { routeKey: routeKey.trim(), function: fn.trim() });
      setRouteKey('');
      setError(undefined);
      routes.reload();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (id: string) => {
    try {
      await json('DELETE', `/v1/apis/${enc(api.name)}/routes/${enc(id)}`);
      routes.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="api">
      <h3>
        {api.name} <span class="muted">({api.protocol}) {typeof api['endpoint'] === 'string' ? api['endpoint'] : ''}</span>
      </h3>
      <ErrorBox error={routes.error ?? error} />
      <table>
        <thead><tr><th>Route</th><th>Function</th><th>Payload</th><th></th></tr></thead>
        <tbody>
          {(routes.data?.routes ?? []).map((r) => (
            <tr key={r.id}>
              <td><code>{r.routeKey}</code></td>
              <td>{r.function}</td>
              <td>{String(r['payloadFormatVersion'] ?? '')}</td>
              <td><button class="link" onClick={() => remove(r.id)}>Delete</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={add}>
        <input placeholder={api.protocol === 'websocket' ? '$default' : 'GET /path/{param}'} value={routeKey} onInput={(e) => setRouteKey(e.currentTarget.value)} required />
        <input placeholder="function" value={fn} onInput={(e) => setFn(e.currentTarget.value)} required />
        <button type="submit">Add route</button>
      </form>
    </div>
  );
}
