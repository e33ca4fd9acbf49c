import { Component, lazy, Suspense, useState, useSyncExternalStore, type ErrorInfo, type ReactNode } from 'react';
import { currentTokenRequest, getToken, setToken, subscribeTokenRequest } from './api/auth';
import { Loading } from './components/common';
import { TokenDialog } from './components/TokenDialog';
import { ComparePage } from './pages/ComparePage';
import { CreateRunPage } from './pages/CreateRunPage';
import { ExperimentsPage } from './pages/ExperimentsPage';
import { PipelinePage } from './pages/PipelinePage';
import { PipelinesPage } from './pages/PipelinesPage';
import { RecurringRunsPage } from './pages/RecurringRunsPage';
import { RunPage } from './pages/RunPage';
import { RunsPage } from './pages/RunsPage';
import { Link, match, Redirect, useLocation } from './router';

// The artifact views bring Markdown and HTML sanitising: loaded when needed.
const ArtifactPage = lazy(() => import('./pages/ArtifactPage').then((m) => ({ default: m.ArtifactPage })));

const nav: { to: string; label: string; prefix: string[] }[] = [
  { to: '/pipelines', label: 'Pipelines', prefix: ['/pipelines'] },
  { to: '/runs', label: 'Runs', prefix: ['/runs', '/compare', '/artifacts'] },
  { to: '/experiments', label: 'Experiments', prefix: ['/experiments'] },
  { to: '/recurring', label: 'Recurring runs', prefix: ['/recurring'] },
];

function Page({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return <Redirect to="/runs" />;
  if (path === '/pipelines') return <PipelinesPage />;
  if ((m = match('/pipelines/:id', path))) return <PipelinePage id={m.id} />;
  if (path === '/runs') return <RunsPage />;
  if (path === '/runs/new') return <CreateRunPage />;
  if ((m = match('/runs/:id', path))) return <RunPage key={m.id} id={m.id} />;
  if (path === '/compare') return <ComparePage />;
  if (path === '/experiments') return <ExperimentsPage />;
  if (path === '/recurring') return <RecurringRunsPage />;
  if ((m = match('/artifacts/:id', path)))
    return (
      <Suspense fallback={<div className="page"><Loading /></div>}>
        <ArtifactPage key={m.id} id={m.id} />
      </Suspense>
    );
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/runs">Go to the runs</Link>.
      </p>
    </div>
  );
}

class Boundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null; key: string }> {
  state = { error: null as Error | null, key: '' };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  static getDerivedStateFromProps(props: { resetKey: string }, state: { error: Error | null; key: string }) {
    if (props.resetKey !== state.key) return { error: null, key: props.resetKey };
    return null;
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }
  render() {
    if (this.state.error) {
      return (
        <div className="page">
          <div className="banner banner-error" role="alert" data-testid="error-banner">
            This page failed: {this.state.error.message}
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}

function TokenControl() {
  // Re-read after each token prompt (the prompt stores the token).
  useSyncExternalStore(subscribeTokenRequest, currentTokenRequest);
  const [, setTick] = useState(0);
  if (!getToken()) return null;
  return (
    <button
      type="button"
      className="btn btn-small btn-ghost"
      title="Forget the stored API token"
      onClick={() => {
        setToken('');
        setTick((t) => t + 1);
      }}
    >
      Sign out
    </button>
  );
}

export function App() {
  const loc = useLocation();
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="sidebar">
        <Link to="/runs" className="brand" aria-label="weir home">
          <span className="brand-mark" aria-hidden>
            ≋
          </span>
          weir
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map((n) => {
              const active = n.prefix.some((p) => loc.path === p || loc.path.startsWith(`${p}/`));
              return (
                <li key={n.to}>
                  <Link to={n.to} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined} data-testid={`nav-${n.to.slice(1)}`}>
                    {n.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <TokenControl />
          <a href="/apis/v2beta1/openapi.yaml" className="muted small">
            API
          </a>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Boundary resetKey={loc.path}>
          <Page path={loc.path} />
        </Boundary>
      </main>
      <TokenDialog />
    </div>
  );
}
