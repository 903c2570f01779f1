import { useEffect, useRef, useState } from 'preact/hooks';
import { enc, json, type LogLine } from '../api';
import { ErrorBox, Section } from '../ui';

/** The newest lines, read again every two seconds while the view is open and not paused. */
const POLL_MS = 2000;
const WINDOW = 200;

export function LogsTail({ name }: { name: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [paused, setPaused] = useState(false);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (paused) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await json<{ lines: LogLine[] }>('GET', `/v1/functions/${enc(name)}/logs?limit=${WINDOW}`);
        if (!live) return;
        setLines(r.lines);
        setError(undefined);
      } catch (e) {
        if (live) setError(e);
      }
      // The next read is scheduled after this one ends, so a slow server never sees them pile up.
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [name, paused]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <Section title="Logs" actions={<button onClick={() => setPaused((p) => !p)}>{paused ? 'Resume' : 'Pause'}</button>}>
      <ErrorBox error={error} />
      <pre class="logs" ref={box} data-lines={lines.length}>
        {lines.length === 0 ? <span class="muted">No log lines yet.</span> : lines.map((l, i) => (
          <div key={i} class={l.stream === 'stderr' ? 'stderr' : ''}>
            <span class="muted">{l.time} </span>
            {l.message}
          </div>
        ))}
      </pre>
    </Section>
  );
}
