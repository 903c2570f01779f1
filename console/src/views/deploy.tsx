import { useState } from 'preact/hooks';
import { fileToBase64, json, type FunctionConfig } from '../api';
import { go } from '../router';
import { ErrorBox, Section, useLoad } from '../ui';

/** A zip from the browser: file input → base64 → `POST /v1/functions`. */
export function DeployView() {
  const runtimes = useLoad(() => json<{ runtimes: { id: string }[] }>('GET', '/v1/runtimes'), []);
  const [name, setName] = useState('');
  const [runtime, setRuntime] = useState('nodejs20');
  const [handler, setHandler] = useState('index.handler');
  const [memoryMb, setMemory] = useState('128');
  const [timeoutMs, setTimeoutMs] = useState('3000');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const names = (runtimes.data?.runtimes ?? []).map((r) => r.id);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (file === undefined) {
      setError(new Error('Choose a zip file.'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const zipBase64 = await fileToBase64(file);
      const created = await json<FunctionConfig>('POST', '/v1/functions', {
        name: name.trim(),
        runtime,
        handler: handler.trim(),
        memoryMb: Number(memoryMb),
        timeoutMs: Number(timeoutMs),
        code: { zipBase64 },
      });
      go('functions', created.name);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Deploy a function">
      <form class="deploy" onSubmit={submit}>
        <label>Name <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required /></label>
        <label>
          Runtime
          <select name="runtime" value={runtime} onChange={(e) => setRuntime(e.currentTarget.value)}>
            {(names.length > 0 ? names : [runtime]).map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label>Handler <input name="handler" value={handler} onInput={(e) => setHandler(e.currentTarget.value)} required /></label>
        <label>Memory (MB) <input name="memoryMb" type="number" min={64} max={10240} value={memoryMb} onInput={(e) => setMemory(e.currentTarget.value)} /></label>
        <label>Timeout (ms) <input name="timeoutMs" type="number" min={1} max={900000} value={timeoutMs} onInput={(e) => setTimeoutMs(e.currentTarget.value)} /></label>
        <label>Code (zip) <input name="zip" type="file" accept=".zip,application/zip" onChange={(e) => setFile(e.currentTarget.files?.[0])} /></label>
        <button type="submit" disabled={busy}>{busy ? 'Deploying…' : 'Deploy'}</button>
      </form>
      <ErrorBox error={error ?? runtimes.error} />
    </Section>
  );
}
