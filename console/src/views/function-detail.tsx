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

/** Published versions and aliases, where the control plane offers them (a 404 means it does not). */
interface VersionView { version: string | number; description?: string; codeSha256?: string; createdAt?: string; updatedAt?: string }
interface AliasView { name: string; functionVersion: string; additionalVersionWeights?: Record<string, number> | null; description?: string }

function Versions({ name }: { name: string }) {
  const loaded = useLoad(async () => {
    try {
      const [v, a] = await Promise.all([
        json<{ versions: VersionView[] }>('GET', `/v1/functions/${enc(name)}/versions`),
        json<{ aliases: AliasView[] }>('GET', `/v1/functions/${enc(name)}/aliases`),
      ]);
      return { versions: v.versions, aliases: a.aliases };
    } catch (e) {
      // A control plane without versions answers "No such endpoint"; a missing function is shown above.
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  }, [name]);
  if (loaded.data === null) return null;
  const versions = loaded.data?.versions ?? [];
  const aliases = loaded.data?.aliases ?? [];
  return (
    <Section title="Versions and aliases">
      <ErrorBox error={loaded.error} />
      <table class="versions">
        <thead><tr><th>Version</th><th>Description</th><th>Code SHA-256</th><th>Created</th></tr></thead>
        <tbody>
          {versions.map((v) => (
            <tr key={String(v.version)}>
              <td>{String(v.version)}</td>
              <td>{v.description ?? ''}</td>
              <td><code>{(v.codeSha256 ?? '').slice(0, 16)}</code></td>
              <td>{v.createdAt ? when(v.createdAt) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {aliases.length > 0 && (
        <table class="aliases">
          <thead><tr><th>Alias</th><th>Version</th><th>Extra weights</th><th>Description</th></tr></thead>
          <tbody>
            {aliases.map((a) => (
              <tr key={a.name}>
                <td>{a.name}</td>
                <td>{a.functionVersion}</td>
                <td>{a.additionalVersionWeights ? Object.entries(a.additionalVersionWeights).map(([v, w]) => `${v}: ${Math.round(w * 100)} %`).join(', ') : '—'}</td>
                <td>{a.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
