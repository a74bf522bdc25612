// A user's own AI settings: the model they prefer in each context, picked
// from the registry grouped by provider (prices, capabilities, health,
// recommended), and their own usage over a date range.
import { useState } from 'preact/hooks';
import { call, getJson, send } from '../api';
import { integer, percent, usd } from '../format';
import { Card, Empty, ErrorBox, Loaded, Section, Table, useAction, useLoad, valueOf } from '../ui';

type Model = {
  id: string; provider: string; provider_name: string; type: string; capabilities: string[]; recommended: boolean;
  available: boolean; pricing: { input: number; output?: number }; context_window: number;
};
type Preference = { context: string; provider: string; model: string; usage_count: number; last_used_at: string | null };
type Health = { id: string; status: string };

// The contexts the product names; a user may add any other.
const CONTEXTS = ['default', 'writing', 'dictionary'];
// Health as a colour: ok green, degraded amber, down red, anything else grey.
const COLOUR: Record<string, string> = { ok: 'green', degraded: 'orange', down: 'red' };

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function Picker({ context, models, health, chosen, onPick }: {
  context: string; models: Model[]; health: Map<string, string>; chosen?: Preference; onPick: () => void;
}) {
  const [run, error, busy] = useAction();
  const providers = [...new Set(models.map((m) => m.provider))];
  const pick = (m: Model) =>
    run(async () => {
      await send('PUT', '/api/v1/ai/preferences', { context, provider: m.provider, model: m.id });
      onPick();
    });
  return (
    <div class="picker" data-picker={context}>
      {error && <ErrorBox error={error} />}
      {providers.map((p) => {
        const list = models.filter((m) => m.provider === p);
        const status = health.get(p) ?? 'unknown';
        return (
          <div class="picker-group" data-group={p}>
            <h3>
              <span class={`dot ${COLOUR[status] ?? 'grey'}`} data-health={status} title={status} /> {list[0].provider_name}
            </h3>
            <Table id={`picker-${p}`} headers={['Model', '$ / 1M in · out', 'Capabilities', 'Context', '']}>
              {list.map((m) => {
                const selected = chosen?.provider === m.provider && chosen.model === m.id;
                return (
                  <tr data-model={m.id} data-selected={String(selected)} class={selected ? 'selected' : ''}>
                    <td>
                      {m.id} {m.recommended && <span class="tag recommended" data-recommended="true" title="Recommended">★ recommended</span>}
                    </td>
                    <td>${m.pricing.input} · ${m.pricing.output ?? '—'}</td>
                    <td>{m.capabilities.map((c) => <span class="tag">{c}</span>)}</td>
                    <td>{m.context_window ? integer(m.context_window) : '—'}</td>
                    <td class="actions">
                      {selected ? (
                        <strong>chosen</strong>
                      ) : (
                        <button disabled={busy || !m.available} data-action="choose" onClick={() => pick(m)}
                                title={m.available ? '' : 'The provider is not configured'}>
                          Use for {context}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </Table>
          </div>
        );
      })}
    </div>
  );
}

function Preferences() {
  const [context, setContext] = useState('default');
  const [added, setAdded] = useState('');
  const [run, error] = useAction();
  const load = useLoad(
    () =>
      Promise.all([
        getJson('/api/v1/ai/models?type=chat').then((r) => r.data as Model[]),
        getJson('/api/v1/ai/preferences').then((r) => r.data as Preference[]),
        // Health needs no key; a failure only greys the dots.
        getJson('/api/v1/ai/health').then((r) => r.providers as Health[], () => [] as Health[]),
      ]),
    [],
  );
  return (
    <Section title="Preferred models">
      <p class="muted">
        A request that sends <code>x-aigw-routing: preference</code> (or any request, where the gateway routes by
        preference) goes to your choice for its context, named by <code>x-aigw-context</code>; <code>default</code> without one.
      </p>
      <Loaded load={load}>
        {([models, prefs, health]) => {
          const contexts = [...new Set([...CONTEXTS, ...prefs.map((p) => p.context), ...(context ? [context] : [])])];
          const chosen = prefs.find((p) => p.context === context);
          return (
            <>
              <div class="tabs" data-contexts>
                {contexts.map((c) => {
                  const p = prefs.find((x) => x.context === c);
                  return (
                    <button class={c === context ? 'active' : ''} data-context={c} onClick={() => setContext(c)}>
                      {c}
                      <span class="muted" data-choice={p ? `${p.provider}/${p.model}` : ''}>{p ? ` · ${p.model}` : ' · none'}</span>
                    </button>
                  );
                })}
                <form
                  class="inline-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (added.trim()) setContext(added.trim());
                    setAdded('');
                  }}
                >
                  <input placeholder="another context" value={added} data-input="context" onInput={(e) => setAdded(valueOf(e))} />
                  <button type="submit" data-action="add-context">Add</button>
                </form>
              </div>
              <p data-current={chosen ? `${chosen.provider}/${chosen.model}` : ''}>
                {chosen ? (
                  <>
                    <strong>{context}</strong>: {chosen.provider} / {chosen.model}, used {integer(chosen.usage_count)} times{' '}
                    <button
                      class="link"
                      data-action="clear"
                      onClick={() =>
                        run(async () => {
                          await call('DELETE', `/api/v1/ai/preferences/${encodeURIComponent(context)}`);
                          load.reload();
                        })
                      }
                    >
                      clear
                    </button>
                  </>
                ) : (
                  <span class="muted">No model chosen for {context}: requests use the model they name.</span>
                )}
              </p>
              {error && <ErrorBox error={error} />}
              <Picker context={context} models={models} health={new Map(health.map((h) => [h.id, h.status]))}
                      chosen={chosen} onPick={load.reload} />
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

function Usage() {
  const [range, setRange] = useState({ from: isoDay(Date.now() - 6 * 86400000), to: isoDay(Date.now()) });
  const [applied, setApplied] = useState(range);
  const load = useLoad(
    () => getJson(`/api/analytics/gateway?from=${applied.from}&to=${applied.to}`),
    [applied.from, applied.to],
  );
  return (
    <Section
      title="My usage"
      actions={
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            // The same range again reads it again (new requests since).
            if (range.from === applied.from && range.to === applied.to) load.reload();
            else setApplied(range);
          }}
        >
          <input type="date" value={range.from} data-input="usage-from" onInput={(e) => setRange({ ...range, from: valueOf(e) })} />
          <input type="date" value={range.to} data-input="usage-to" onInput={(e) => setRange({ ...range, to: valueOf(e) })} />
          <button type="submit" data-action="usage-range">Show</button>
        </form>
      }
    >
      <Loaded load={load}>
        {(a) => (
          <>
            <div class="cards">
              <Card id="my-requests" label="Requests" value={integer(a.totals.requests ?? 0)} raw={a.totals.requests ?? 0} />
              <Card id="my-tokens" label="Tokens" value={integer(a.totals.tokens?.total ?? 0)} raw={a.totals.tokens?.total ?? 0} />
              <Card id="my-cost" label="Cost" value={usd(a.totals.cost_usd ?? 0)} raw={a.totals.cost_usd ?? 0} />
              <Card id="my-cache" label="Cache hit rate" value={percent(a.totals.cache_hit_rate)} raw={a.totals.cache_hit_rate} />
            </div>
            {a.by_provider.length === 0 ? (
              <Empty>No requests in this range.</Empty>
            ) : (
              <Table id="my-providers" headers={['Provider', 'Requests', 'Tokens', 'Cost']}>
                {a.by_provider.map((p: any) => (
                  <tr data-provider={p.provider}>
                    <td>{p.provider}</td>
                    <td>{integer(p.requests)}</td>
                    <td>{integer(p.tokens.total)}</td>
                    <td>{usd(p.cost_usd)}</td>
                  </tr>
                ))}
              </Table>
            )}
          </>
        )}
      </Loaded>
    </Section>
  );
}

export function Me() {
  return (
    <>
      <Preferences />
      <Usage />
    </>
  );
}

