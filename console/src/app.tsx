/** The shell: sign-in gate, navigation, and the view the hash names. */
import { useState } from 'preact/hooks';
import { token } from './api';
import { href, useHashPath } from './router';
import { ApisView } from './views/apis';
import { DeployView } from './views/deploy';
import { FunctionDetail } from './views/function-detail';
import { FunctionList } from './views/function-list';
import { SignIn } from './views/sign-in';
import { UsageView } from './views/usage';

export function App() {
  const [signedIn, setSignedIn] = useState(token.get() !== null);
  const path = useHashPath();
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const [area = 'functions', name] = path;
  return (
    <div class="shell">
      <nav>
        <span class="brand">Gantry</span>
        <a href={href('functions')} class={area === 'functions' ? 'active' : ''}>Functions</a>
        <a href={href('deploy')} class={area === 'deploy' ? 'active' : ''}>Deploy</a>
        <a href={href('apis')} class={area === 'apis' ? 'active' : ''}>APIs</a>
        <a href={href('usage')} class={area === 'usage' ? 'active' : ''}>Usage</a>
        <button
          class="link"
          onClick={() => {
            token.clear();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </nav>
      <main>
        {area === 'functions' && name === undefined && <FunctionList />}
        {area === 'functions' && name !== undefined && <FunctionDetail name={name} />}
        {area === 'deploy' && <DeployView />}
        {area === 'apis' && <ApisView />}
        {area === 'usage' && <UsageView />}
      </main>
    </div>
  );
}
