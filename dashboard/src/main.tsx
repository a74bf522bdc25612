// The dashboard: sign in with a key, then one page per hash route. An
// ADMIN_API_KEY sees every tenant (and names one for tenant pages); any
// other key sees only its own tenant, as the API decides.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import '../styles.css';
import { ApiError, getJson, session } from './api';
import { Analytics } from './pages/analytics';
import { Cache } from './pages/cache';
import { Keys } from './pages/keys';
import { Logs } from './pages/logs';
import { Me } from './pages/me';
import { Models } from './pages/models';
import { Providers } from './pages/providers';
import { Setup } from './pages/setup';
import { ErrorBox, Loading, valueOf } from './ui';

type Who = { root: boolean; tenant: string | null };

const PAGES: { id: string; title: string }[] = [
  { id: 'analytics', title: 'Analytics' },
  { id: 'logs', title: 'Logs' },
  { id: 'cache', title: 'Cache' },
  { id: 'models', title: 'Models' },
  { id: 'keys', title: 'Keys & budgets' },
  { id: 'providers', title: 'Providers' },
  { id: 'setup', title: 'Setup' },
  // A client's own page: the operator's key is no client.
  { id: 'me', title: 'My AI' },
];

// Who the key is: the metrics endpoint names its tenant; only the root key reads the gateway settings.
async function identify(): Promise<Who> {
  const metrics = await getJson('/api/v1/ai/metrics?period=7d');
  try {
    await getJson('/api/ai-gateway/config');
    return { root: true, tenant: null };
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return { root: false, tenant: metrics.tenantId };
    throw e;
  }
}

function SignIn({ onSignedIn, error }: { onSignedIn: () => void; error: Error | null }) {
  const [key, setKey] = useState('');
  return (
    <form
      class="signin"
      onSubmit={(e) => {
        e.preventDefault();
        session.setKey(key.trim());
        onSignedIn();
      }}
    >
      <h1>AI gateway</h1>
      <p class="muted">Sign in with ADMIN_API_KEY, or with a key of your tenant (you will see only that tenant).</p>
      <input type="password" placeholder="API key" value={key} autoFocus data-input="key" onInput={(e) => setKey(valueOf(e))} />
      <button type="submit" data-action="sign-in">Sign in</button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

function usePage(): string {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'analytics');
  const [page, setPage] = useState(read());
  useEffect(() => {
    const on = () => setPage(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return page;
}

function App() {
  const [who, setWho] = useState<Who | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [checking, setChecking] = useState(!!session.key());
  const [tenant, setTenant] = useState(session.tenant());
  const page = usePage();

  const check = () => {
    setChecking(true);
    identify().then(
      (w) => {
        setWho(w);
        setError(null);
        setChecking(false);
      },
      (e) => {
        session.signOut();
        setWho(null);
        setError(e);
        setChecking(false);
      },
    );
  };
  useEffect(() => {
    if (session.key()) check();
  }, []);

  if (checking) return <Loading />;
  if (!who) return <SignIn onSignedIn={check} error={error} />;

  const current = PAGES.find((p) => p.id === page) ?? PAGES[0];
  const needsTenant = who.root && !tenant && ['cache', 'keys'].includes(current.id);
  const body = needsTenant ? (
    <p class="muted" data-state="needs-tenant">Name a tenant above: this page shows one tenant's data.</p>
  ) : (
    {
      analytics: <Analytics />,
      logs: <Logs />,
      cache: <Cache />,
      models: <Models />,
      keys: <Keys />,
      providers: <Providers root={who.root} />,
      setup: <Setup root={who.root} />,
      me: <Me />,
    }[current.id]
  );
  return (
    <>
      <header>
        <strong>AI gateway</strong>
        <nav>
          {PAGES.filter((p) => !(who.root && p.id === 'me')).map((p) => (
            <a href={`#/${p.id}`} class={p.id === current.id ? 'active' : ''} data-nav={p.id}>
              {p.title}
            </a>
          ))}
        </nav>
        <span class="who" data-who={who.root ? 'root' : who.tenant}>
          {who.root ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                const value = ((e.target as HTMLFormElement).elements.namedItem('tenant') as HTMLInputElement).value.trim();
                session.setTenant(value);
                setTenant(value);
              }}
            >
              Operator · tenant <input name="tenant" placeholder="all" value={tenant} data-input="tenant" />
              <button type="submit" data-action="set-tenant">Show</button>
            </form>
          ) : (
            <>Tenant {who.tenant}</>
          )}
          <button
            class="link"
            onClick={() => {
              session.signOut();
              setWho(null);
              setTenant('');
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>
        <h1>{current.title}</h1>
        {/* Pages reload when the tenant changes. */}
        <div key={tenant}>{body}</div>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
