import { useEffect, useRef, useState } from 'preact/hooks';
import { enc, json, type LogLine } from '../api';
import { followLogs } from '../log-stream';
import { ErrorBox, Section } from '../ui';

/**
 * The newest lines, then every new one: streamed where the control plane follows logs, else
 * read again every two seconds. Both stop while the view is closed or paused.
 */
const POLL_MS = 2000;
const WINDOW = 200;
const MAX_ROUNDS = 100_000;

const keyOf = (l: LogLine) => `${l.invocationId}|${l.time}|${l.stream}|${l.message}`;

function merged(old: LogLine[], more: LogLine[]): LogLine[] {
  const seen = new Set(old.map(keyOf));
  const out = [...old, ...more.filter((l) => !seen.has(keyOf(l)))];
  out.sort((a, b) => a.time.localeCompare(b.time));
  return out.slice(-WINDOW);
}

export function LogsTail({ name }: { name: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [paused, setPaused] = useState(false);
  const [mode, setMode] = useState<'streaming' | 'polling' | 'connecting'>('connecting');
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (paused) return;
    const stop = new AbortController();
    const wait = (ms: number) => new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    const run = async () => {
      for (let round = 0; round < MAX_ROUNDS && !stop.signal.aborted; round++) {
        try {
          const outcome = await followLogs(
            name,
            stop.signal,
            (line) => setLines((old) => merged(old, [line])),
            () => {
              setMode('streaming');
              setError(undefined);
              // The stream carries lines stored from now on; the stored ones are read once it is open.
              json<{ lines: LogLine[] }>('GET', `/v1/functions/${enc(name)}/logs?limit=${WINDOW}`).then((r) => setLines((old) => merged(old, r.lines)), setError);
            },
          );
          if (outcome.kind === 'not-streaming') {
            setMode('polling');
            setError(undefined);
            setLines(outcome.lines);
            await wait(POLL_MS);
          }
          // An ended stream (a node shutting down, a slow reader) is opened again after a pause.
          else await wait(POLL_MS / 2);
        } catch (e) {
          if (stop.signal.aborted) return;
          setError(e);
          await wait(POLL_MS);
        }
      }
    };
    void run();
    return () => stop.abort();
  }, [name, paused]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <Section title="Logs" actions={<span><span class="muted">{paused ? 'paused' : mode} </span><button onClick={() => setPaused((p) => !p)}>{paused ? 'Resume' : 'Pause'}</button></span>}>
      <ErrorBox error={error} />
      <pre class="logs" ref={box} data-lines={lines.length} data-mode={mode}>
        {lines.length === 0 ? <span class="muted">No log lines yet.</span> : lines.map((l) => (
          <div key={keyOf(l)} class={l.stream === 'stderr' ? 'stderr' : ''}>
            <span class="muted">{l.time} </span>
            {l.message}
          </div>
        ))}
      </pre>
    </Section>
  );
}
