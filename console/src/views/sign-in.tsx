import { useState } from 'preact/hooks';
import { json, token } from '../api';
import { ErrorBox } from '../ui';

/** The token is checked with one read before it is kept (in sessionStorage: gone with the tab). */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    token.set(value.trim());
    try {
      await json('GET', '/v1/functions');
      onSignedIn();
    } catch (err) {
      token.clear();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sign-in" onSubmit={submit}>
      <h1>Gantry</h1>
      <label>
        Admin token
        <input name="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} required />
      </label>
      <button type="submit" disabled={busy}>Sign in</button>
      <ErrorBox error={error} />
    </form>
  );
}
