import { useState } from 'preact/hooks';
import { enc, json } from '../api';
import { ErrorBox } from '../ui';

/** `PUT /v1/functions/{name}/code` with the zip's bytes as they are. */
export function ReplaceCode({ name, onReplaced }: { name: string; onReplaced: () => void }) {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const upload = async () => {
    if (file === undefined) return;
    setBusy(true);
    try {
      await json('PUT', `/v1/functions/${enc(name)}/code`, file, { 'content-type': 'application/zip' });
      setError(undefined);
      onReplaced();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="inline-form">
      <label>
        Replace code (zip)
        <input type="file" accept=".zip,application/zip" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
      </label>
      <button disabled={file === undefined || busy} onClick={upload}>Upload</button>
      <ErrorBox error={error} />
    </div>
  );
}
