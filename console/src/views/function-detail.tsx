import { useState } from 'preact/hooks';
import { ApiError, enc, json, type FunctionConfig } from '../api';
import { go } from '../router';
import { ErrorBox, Section, useLoad, when } from '../ui';
import { DeadLetters } from './dead-letters';
import { InvocationList } from './invocation-list';
import { InvokeBox } from './invoke-box';
import { LogsTail } from './logs-tail';
import { ReplaceCode } from './replace-code';

export function FunctionDetail({ name }: { name: string }) {
  const fn = useLoad(() => json<FunctionConfig>('GET', `/v1/functions/${enc(name)}`), [name]);
  const [deleteError, setDeleteError] = useState<unknown>(undefined);
  const remove = async () => {
    if (!confirm(`Delete function ${name}?`)) return;
    try {
      await json('DELETE', `/v1/functions/${enc(name)}`);
      go('functions');
    } catch (e) {
      setDeleteError(e);
    }
  };
  return (
    <div class="detail">
      <h1>{name}</h1>
      <ErrorBox error={fn.error ?? deleteError} />
      {fn.data && <Configuration fn={fn.data} onDelete={remove} />}
      {fn.data && <ReplaceCode name={name} onReplaced={fn.reload} />}
      <Versions name={name} />
      <InvokeBox name={name} />
      <InvocationList name={name} />
      <LogsTail name={name} />
      <DeadLetters name={name} />
    </div>
  );
}

function Configuration({ fn, onDelete }: { fn: FunctionConfig; onDelete: () => void }) {
  const rows: [string, string][] = [
    ['Runtime', fn.runtime],
    ['Handler', fn.handler],
    ['Memory', `${fn.memoryMb} MB`],
    ['Timeout', `${fn.timeoutMs} ms`],
    ['Network', fn.network],
    ['Reserved concurrency', fn.reservedConcurrency === null ? '—' : String(fn.reservedConcurrency)],
    ['Provisioned concurrency', fn.provisionedConcurrency === null ? '—' : String(fn.provisionedConcurrency)],
    ['Code SHA-256', fn.codeSha256],
    ['Code size', `${fn.codeSize} bytes`],
    ['Created', when(fn.createdAt)],
    ['Updated', when(fn.updatedAt)],
  ];
  const env = Object.entries(fn.environment);
  return (
    <Section title="Configuration" actions={<button class="danger" onClick={onDelete}>Delete</button>}>
      <dl class="config">
        {rows.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
        <dt>Environment</dt>
        <dd>{env.length === 0 ? '—' : env.map(([k, v]) => <div key={k}><code>{k}={v}</code></div>)}</dd>
      </dl>
    </Section>
  );
}

/** Published versions, where the control plane offers them (a 404 means it does not). */
function Versions({ name }: { name: string }) {
  const versions = useLoad(async () => {
    try {
      return await json<{ versions?: Record<string, unknown>[] }>('GET', `/v1/functions/${enc(name)}/versions`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }, [name]);
  if (versions.data === null) return null;
  const items = versions.data?.versions ?? [];
  const keys = [...new Set(items.flatMap((v) => Object.keys(v)))].filter((k) => typeof items[0]?.[k] !== 'object').slice(0, 6);
  return (
    <Section title="Versions">
      <ErrorBox error={versions.error} />
      {items.length === 0 ? (
        <p class="muted">Only $LATEST.</p>
      ) : (
        <table>
          <thead><tr>{keys.map((k) => <th key={k}>{k}</th>)}</tr></thead>
          <tbody>{items.map((v, i) => <tr key={i}>{keys.map((k) => <td key={k}>{String(v[k] ?? '')}</td>)}</tr>)}</tbody>
        </table>
      )}
    </Section>
  );
}
