// Which providers are configured and how to configure the others: a key
// entered here (sealed by the worker, shown again only as its last four
// characters) or a variable. ADMIN_API_KEY enters the gateway's keys (or,
// with a tenant named in the header, that tenant's); a tenant's admin key
// its tenant's own.
import { useState } from 'preact/hooks';
import { ApiError, getJson, send, session, withTenant } from '../api';
import { dateTime } from '../format';
import { ActionForm, Empty, Loaded, Section, Table, useAction, useLoad, valueOf, ErrorBox } from '../ui';

function howToSet(name: string) {
  return name.endsWith('_BASE_URL')
    ? `Add ${name} = "http://…" to [vars] in wrangler.toml (or .dev.vars), then redeploy.`
    : `Enter a key under Provider keys above, or: wrangler secret put ${name}`;
}

function KeyForm({ list, onSaved }: { list: any; onSaved: () => void }) {
  const tenantScope = list.scope === 'tenant';
  const [provider, setProvider] = useState(list.providers[0]?.id ?? '');
  const [key, setKey] = useState('');
  const [fallback, setFallback] = useState(false);
  return (
    <ActionForm
      onSubmit={async () => {
        await send('PUT', withTenant(`/api/v1/ai/admin/credentials/${encodeURIComponent(provider)}`), {
          key,
          ...(tenantScope ? { allowGatewayFallback: fallback } : {}),
        });
        setKey('');
        onSaved();
      }}
    >
      <label>
        Provider
        <select value={provider} onChange={(e) => setProvider(valueOf(e))} data-input="credential-provider">
          {list.providers.map((p: any) => <option value={p.id}>{p.name}</option>)}
        </select>
      </label>
      <label>
        API key
        <input type="password" autocomplete="off" value={key} data-input="credential-key" onInput={(e) => setKey(valueOf(e))} />
      </label>
      {tenantScope && (
        <label class="check">
          <input type="checkbox" checked={fallback} data-input="credential-fallback" onChange={(e) => setFallback((e.target as HTMLInputElement).checked)} />
          Fall back to the gateway's key when this one is rate limited or failing
        </label>
      )}
      <button type="submit" data-action="save-credential">Save key</button>
    </ActionForm>
  );
}

function ProviderKeys({ root }: { root: boolean }) {
  const list = useLoad(() => getJson(withTenant('/api/v1/ai/admin/credentials')), []);
  const [run, error] = useAction();
  const [rotation, setRotation] = useState<any>(null);
  const scopeName = (l: any) => (l.scope === 'tenant' ? `tenant ${l.tenant_id}` : 'the whole gateway');
  return (
    <Section title="Provider keys">
      <Loaded load={list}>
        {(l: any) =>
          !l.vault_configured ? (
            <p class="muted" data-state="vault-off">
              Keys cannot be stored until the gateway has an encryption key: set GATEWAY_ENCRYPTION_KEY (<code>scripts/dev</code> makes one).
            </p>
          ) : (
            <>
              <p class="muted" data-scope={l.scope}>
                Keys for {scopeName(l)}. A key is sealed (AES-256-GCM) before it is stored and is never shown again.
                {l.scope === 'tenant' ? " This tenant's own keys serve its requests; providers without one use the gateway's." : ''}
              </p>
              {l.data.length === 0 ? (
                <Empty>No keys entered here yet.</Empty>
              ) : (
                <Table id="credentials" headers={['Provider', 'Key', 'Master key', 'Set by', 'Set at', ...(l.scope === 'tenant' ? ['Falls back'] : []), '']}>
                  {l.data.map((k: any) => (
                    <tr data-credential={k.provider}>
                      <td>{k.provider}</td>
                      <td><code data-hint={k.hint}>{k.hint}</code></td>
                      <td>{k.key_id}</td>
                      <td>{k.set_by}</td>
                      <td>{dateTime(k.set_at)}</td>
                      {l.scope === 'tenant' && <td>{k.allow_gateway_fallback ? 'yes' : 'no'}</td>}
                      <td>
                        <button
                          data-action="delete-credential"
                          onClick={() =>
                            run(async () => {
                              await send('DELETE', withTenant(`/api/v1/ai/admin/credentials/${encodeURIComponent(k.provider)}`));
                              list.reload();
                            })
                          }
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </Table>
              )}
              {error && <ErrorBox error={error} />}
              <h3>Enter or replace a key</h3>
              <KeyForm list={l} onSaved={list.reload} />
              {l.gateway.length > 0 && (
                <p class="muted" data-gateway-keys={l.gateway.map((g: any) => g.provider).join(',')}>
                  The gateway's own keys: {l.gateway.map((g: any) => `${g.provider} (${g.source === 'vault' ? `entered${g.hint ? ' ' + g.hint : ''}` : g.secret})`).join(', ')}.
                </p>
              )}
              {root && !session.tenant() && (
                <ActionForm
                  onSubmit={async () => {
                    setRotation(await send('POST', '/api/v1/ai/admin/credentials/rotate'));
                    list.reload();
                  }}
                >
                  <span class="muted">Master key in use: {l.key_id}. After adding a new one first in GATEWAY_ENCRYPTION_KEY:</span>
                  <button type="submit" data-action="rotate-credentials">Rewrap every key</button>
                  {rotation && (
                    <span data-rotation={rotation.rewrapped}>
                      {rotation.rewrapped} keys rewrapped under {rotation.key_id}{rotation.complete ? '' : ' (more left: press again)'}.
                    </span>
                  )}
                </ActionForm>
              )}
            </>
          )
        }
      </Loaded>
    </Section>
  );
}

const POLICIES = ['ordered', 'preference', 'cost', 'latency', 'quality', 'round_robin', 'weighted'];

// The settings PUT /api/ai-gateway/config takes that an operator changes
// most: validated by the API as a whole, its error shown by the field it names.
function SettingsForm({ current, onSaved }: { current: any; onSaved: () => void }) {
  const models = useLoad(() => getJson('/api/ai-gateway/models?type=chat&enabled=true'), []);
  const [cacheOn, setCacheOn] = useState<boolean>(current.cache_enabled);
  const [ttl, setTtl] = useState(String(current.cache_ttl_seconds));
  const [policy, setPolicy] = useState<string>(current.routing_policy);
  const [chain, setChain] = useState<string[]>(current.default_fallbacks);
  const [pick, setPick] = useState('');
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [saved, setSaved] = useState(false);
  // "default_fallbacks[2]" → the list; other params name their field.
  const field = error instanceof ApiError && error.param ? error.param.replace(/\[.*$/, '') : '';
  const errorFor = (name: string) =>
    field === name && (
      <span class="field-error" role="alert" data-error-for={name}>
        {error!.message}
      </span>
    );
  const move = (i: number, by: number) => {
    const next = [...chain];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    setChain(next);
  };
  return (
    <form
      class="settings-form"
      data-form="settings"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setSaved(false);
        try {
          await send('PUT', '/api/ai-gateway/config', {
            cache_enabled: cacheOn,
            cache_ttl_seconds: ttl.trim() === '' ? null : Number(ttl),
            routing_policy: policy,
            default_fallbacks: chain,
          });
          setSaved(true);
          onSaved();
        } catch (err) {
          setError(err as Error);
        }
      }}
    >
      <label>
        <input type="checkbox" checked={cacheOn} data-input="cache-enabled" onChange={(e) => setCacheOn((e.target as HTMLInputElement).checked)} />
        Response cache
      </label>
      {errorFor('cache_enabled')}
      <label>
        Cache TTL (seconds)
        <input value={ttl} inputMode="numeric" data-input="cache-ttl" onInput={(e) => setTtl(valueOf(e))} />
        {errorFor('cache_ttl_seconds')}
      </label>
      <label>
        Routing policy
        <select value={policy} data-input="routing-policy" onChange={(e) => setPolicy(valueOf(e))}>
          {POLICIES.map((p) => <option value={p}>{p}</option>)}
        </select>
        {errorFor('routing_policy')}
      </label>
      <fieldset data-list="fallbacks">
        <legend>Default fallback chain (tried in order when a model without fallbacks of its own fails)</legend>
        {chain.length === 0 ? <Empty>No default fallbacks.</Empty> : (
          <ol>
            {chain.map((m, i) => (
              <li data-fallback={m}>
                <code>{m}</code>
                <button type="button" disabled={i === 0} data-action="fallback-up" onClick={() => move(i, -1)}>↑</button>
                <button type="button" disabled={i === chain.length - 1} data-action="fallback-down" onClick={() => move(i, 1)}>↓</button>
                <button type="button" data-action="fallback-remove" onClick={() => setChain(chain.filter((_, j) => j !== i))}>Remove</button>
              </li>
            ))}
          </ol>
        )}
        <Loaded load={models}>
          {(list: any) => (
            <span>
              <select value={pick} data-input="fallback-model" onChange={(e) => setPick(valueOf(e))}>
                <option value="">Add a model…</option>
                {list.data.filter((m: any) => !chain.includes(m.id)).map((m: any) => (
                  <option value={m.id}>{m.provider} · {m.id}</option>
                ))}
              </select>
              <button type="button" data-action="fallback-add" disabled={!pick} onClick={() => { setChain([...chain, pick]); setPick(''); }}>Add</button>
            </span>
          )}
        </Loaded>
        {errorFor('default_fallbacks')}
      </fieldset>
      <button type="submit" data-action="save-settings">Save settings</button>
      {saved && <span data-state="saved">Saved: in force for the next request.</span>}
      {error && !field && <ErrorBox error={error} />}
    </form>
  );
}

// Whether the tenant named in the header keeps its requests' bodies in R2
// (the request log's request page shows them). ADMIN_API_KEY only.
function TenantBodies({ tenant }: { tenant: string }) {
  const state = useLoad(() => getJson(`/api/v1/ai/admin/tenants/${encodeURIComponent(tenant)}`), [tenant]);
  const [run, error, busy] = useAction();
  return (
    <Section title={`Request log bodies · ${tenant}`}>
      <Loaded load={state}>
        {(t: any) => (
          <label class="switch" data-switch="store-bodies" data-value={String(t.storeBodies)}>
            <input
              type="checkbox"
              checked={t.storeBodies}
              disabled={busy}
              data-input="store-bodies"
              onChange={(e) =>
                run(async () => {
                  await send('PUT', `/api/v1/ai/admin/tenants/${encodeURIComponent(tenant)}`, {
                    storeBodies: (e.target as HTMLInputElement).checked,
                  });
                  state.reload();
                })
              }
            />{' '}
            Keep this tenant's request and response bodies (R2, for the Logs page; kept body_retention_days, secrets
            scrubbed; a request can opt out with <code>x-aigw-log-body: false</code>)
          </label>
        )}
      </Loaded>
      {error && <ErrorBox error={error} />}
    </Section>
  );
}

export function Setup({ root }: { root: boolean }) {
  const health = useLoad(() => getJson('/api/v1/ai/health'), []);
  const settings = useLoad(() => (root ? getJson('/api/ai-gateway/config') : Promise.resolve(null)), [root]);
  return (
    <>
      <ProviderKeys root={root} />
      <Section title="Providers">
        <Loaded load={health}>
          {(h) => (
            <Table id="setup" headers={['Provider', 'Configured', 'To configure it']}>
              {h.providers.map((p: any) => (
                <tr data-row={p.id} data-configured={String(p.configured)}>
                  <td>{p.name}</td>
                  <td>{p.status === 'demo' && !p.needs ? 'built-in demo' : p.configured ? 'yes' : 'no'}</td>
                  <td>{p.needs ? <code data-needs={p.needs}>{howToSet(p.needs)}</code> : <span class="muted">nothing to do</span>}</td>
                </tr>
              ))}
            </Table>
          )}
        </Loaded>
      </Section>
      {root && session.tenant() && <TenantBodies tenant={session.tenant()} />}
      {root && (
        <Section title="Settings">
          <Loaded load={settings}>{(s: any) => <SettingsForm current={s.settings} onSaved={settings.reload} />}</Loaded>
        </Section>
      )}
      {root && (
        <Section title="Gateway">
          <Loaded load={settings}>
            {(s: any) => (
              <ul class="facts">
                <li data-fact="alert-webhook">
                  Alert webhook (GATEWAY_ALERT_WEBHOOK_URL): {s.alert_webhook_configured ? 'set' : <code>wrangler secret put GATEWAY_ALERT_WEBHOOK_URL</code>}
                </li>
                <li data-fact="pricing-url">Pricing sync (PRICING_URL): {s.pricing_url || 'not set'}{s.pricing_sync && ` — last sync ${s.pricing_sync.status} at ${s.pricing_sync.time}`}</li>
              </ul>
            )}
          </Loaded>
        </Section>
      )}
    </>
  );
}
