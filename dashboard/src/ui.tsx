// Small pieces every page uses: loading, errors, empty states, cards, tables.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export type Load<T> = { data?: T; error?: Error; loading: boolean; reload: () => void };

// Runs `fetcher` when `deps` change; keeps the last data while reloading.
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[]): Load<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fetcher().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading() {
  return <p class="muted" data-state="loading">Loading…</p>;
}

export function ErrorBox({ error }: { error: Error }) {
  const status = error instanceof ApiError ? error.status : 0;
  const hint =
    status === 401 ? 'The key was not accepted. Sign in again.' :
    status === 403 ? 'This key may not see this page.' :
    status === 503 ? 'A backing store is unavailable; try again shortly.' : '';
  return (
    <div class="error" role="alert" data-state="error">
      <strong>{status ? `Error ${status}` : 'Error'}:</strong> {error.message} {hint && <span class="muted">{hint}</span>}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted empty" data-state="empty">{children}</p>;
}

// Renders a load's data, or its loading or error state.
export function Loaded<T>({ load, children }: { load: Load<T>; children: (data: T) => ComponentChildren }) {
  if (load.error) return <ErrorBox error={load.error} />;
  if (load.data === undefined) return <Loading />;
  return <>{children(load.data)}</>;
}

export function Card({ label, value, raw, id }: { label: string; value: string; raw: number | string | null; id: string }) {
  return (
    <div class="card" data-kpi={id} data-value={raw === null ? '' : String(raw)}>
      <div class="card-label">{label}</div>
      <div class="card-value">{value}</div>
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section>
      <div class="section-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

// Runs an action, reporting its error next to the button that started it.
export function useAction(): [(fn: () => Promise<void>) => Promise<void>, Error | null, boolean] {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return [run, error, busy];
}

// A table with a header row; `id` names it for the tests (data-table).
export function Table({ id, headers, provider, children }: { id: string; headers: string[]; provider?: string; children: ComponentChildren }) {
  return (
    <table data-table={id} data-provider={provider}>
      <thead>
        <tr>{headers.map((h) => <th>{h}</th>)}</tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

// A form whose submit makes an API call; its error shows under it.
export function ActionForm({ onSubmit, children }: { onSubmit: () => Promise<void>; children: ComponentChildren }) {
  const [run, error, busy] = useAction();
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) run(onSubmit);
      }}
    >
      {children}
      {error && <ErrorBox error={error} />}
    </form>
  );
}

// Budget and quota bars: green below 80 %, yellow from 80, orange from 90, red at 100.
export function Progress({ percentage, id }: { percentage: number; id?: string }) {
  const level = percentage >= 100 ? 'red' : percentage >= 90 ? 'orange' : percentage >= 80 ? 'yellow' : 'green';
  return (
    <div class="progress" data-level={level} data-progress={id} data-value={String(percentage)}>
      <div class={`bar ${level}`} style={{ width: `${Math.min(100, percentage)}%` }} />
      <span>{percentage.toFixed(1)}%</span>
    </div>
  );
}

// What an input or select now holds, for its onInput / onChange.
export const valueOf = (e: Event): string => (e.target as HTMLInputElement | HTMLSelectElement).value;
