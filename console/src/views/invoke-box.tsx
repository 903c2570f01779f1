import { useState } from 'preact/hooks';
import { decodeBase64Text, enc, raw, type RawResponse } from '../api';
import { ErrorBox, Section } from '../ui';

/** A synchronous invoke with the log tail (`X-Gantry-Log-Type: Tail`). */
export function InvokeBox({ name }: { name: string }) {
  const [input, setInput] = useState('{}');
  const [result, setResult] = useState<RawResponse | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const invoke = async () => {
    setError(undefined);
    try {
      JSON.parse(input);
    } catch (e) {
      setError(new Error(`The input is not JSON: ${(e as Error).message}`));
      return;
    }
    setBusy(true);
    try {
      setResult(await raw('POST', `/v1/functions/${enc(name)}/invoke`, input, { 'content-type': 'application/json', 'x-gantry-log-type': 'Tail' }));
    } catch (e) {
      setResult(undefined);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const functionError = result?.headers.get('x-gantry-function-error');
  const logResult = result?.headers.get('x-gantry-log-result');
  return (
    <Section title="Invoke">
      <textarea class="json" name="invoke-input" rows={6} value={input} onInput={(e) => setInput(e.currentTarget.value)} spellcheck={false} />
      <div>
        <button onClick={invoke} disabled={busy}>{busy ? 'Invoking…' : 'Invoke'}</button>
      </div>
      <ErrorBox error={error} />
      {result && (
        <div class="invoke-result" data-status={result.status} data-function-error={functionError ?? ''}>
          <p>
            Status {result.status}
            {functionError ? <span class="bad"> · function error: {functionError}</span> : <span class="good"> · succeeded</span>}
            {' · billed '}{result.headers.get('x-gantry-billed-duration-ms') ?? '?'} ms
            {result.headers.get('x-gantry-cold-start') === 'true' ? ' · cold start' : ''}
          </p>
          <pre class="output">{pretty(result.text)}</pre>
          {logResult && (
            <>
              <h3>Log tail</h3>
              <pre class="log-tail">{decodeBase64Text(logResult)}</pre>
            </>
          )}
        </div>
      )}
    </Section>
  );
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
