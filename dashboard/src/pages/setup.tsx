// Which provider secrets are set (names only: values never leave the worker)
// and how to set the missing ones.
import { getJson } from '../api';
import { Loaded, Section, Table, useLoad } from '../ui';

function howToSet(name: string) {
  return name.endsWith('_BASE_URL')
    ? `Add ${name} = "http://…" to [vars] in wrangler.toml (or .dev.vars), then redeploy.`
    : `wrangler secret put ${name}`;
}

export function Setup({ root }: { root: boolean }) {
  const health = useLoad(() => getJson('/api/v1/ai/health'), []);
  const settings = useLoad(() => (root ? getJson('/api/ai-gateway/config') : Promise.resolve(null)), [root]);
  return (
    <>
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
      {root && (
        <Section title="Gateway">
          <Loaded load={settings}>
            {(s: any) => (
              <ul class="facts">
                <li data-fact="alert-webhook">
                  Alert webhook (GATEWAY_ALERT_WEBHOOK_URL): {s.alert_webhook_configured ? 'set' : <code>wrangler secret put GATEWAY_ALERT_WEBHOOK_URL</code>}
                </li>
                <li data-fact="pricing-url">Pricing sync (PRICING_URL): {s.pricing_url || 'not set'}{s.pricing_sync && ` — last sync ${s.pricing_sync.status} at ${s.pricing_sync.time}`}</li>
                <li>Response cache: {s.settings.cache_enabled ? `on, TTL ${s.settings.cache_ttl_seconds} s` : 'off'}</li>
                <li>Default fallback chain: {s.settings.default_fallbacks.length ? s.settings.default_fallbacks.join(' → ') : 'none'}</li>
              </ul>
            )}
          </Loaded>
        </Section>
      )}
    </>
  );
}
