// The request log: the usage rows newest first, filtered as the API filters
// them, a page at a time; one request opens with its route, every failed
// attempt (the fallback events), its timings and, where kept, its bodies.
import { useState } from 'preact/hooks';
import { getJson, withTenant } from '../api';
import { dateTime, integer, ms, usd } from '../format';
import { Empty, Loaded, Section, Table, useLoad, valueOf } from '../ui';

type Filters = { period: string; status: string; provider: string; model: string; user: string; cache: string; metaKey: string; metaValue: string };
const NONE: Filters = { period: '7d', status: '', provider: '', model: '', user: '', cache: '', metaKey: '', metaValue: '' };

function query(f: Filters, cursor: string | null): string {
  const q = new URLSearchParams({ period: f.period, limit: '50' });
  for (const k of ['status', 'provider', 'model', 'user', 'cache'] as const) if (f[k]) q.set(k, f[k]);
  if (f.metaKey && f.metaValue) q.set(`metadata.${f.metaKey}`, f.metaValue);
  if (cursor) q.set('cursor', cursor);
  return withTenant('/api/v1/ai/logs?' + q.toString());
}

// The request's bodies (R2), read when asked for: they can be large.
function Bodies({ url }: { url: string }) {
  const [shown, setShown] = useState(false);
  const doc = useLoad(() => (shown ? getJson(url) : Promise.resolve(null)), [url, shown]);
  if (!shown) return <button data-action="show-bodies" onClick={() => setShown(true)}>Show request and response bodies</button>;
  return (
    <Loaded load={doc}>
      {(d: any) =>
        d && (
          <div class="bodies">
            <h4>Request</h4>
            <pre data-body="request">{JSON.stringify(d.request, null, 2)}</pre>
            <h4>Response{d.response_format === 'reassembled' ? ' (the stream, reassembled)' : ''}</h4>
            <pre data-body="response">{typeof d.response === 'string' ? d.response : JSON.stringify(d.response, null, 2)}</pre>
          </div>
        )
      }
    </Loaded>
  );
}

function RequestView({ id, onClose }: { id: string; onClose: () => void }) {
  const log = useLoad(() => getJson(`/api/v1/ai/logs/${encodeURIComponent(id)}`), [id]);
  return (
    <Section title={`Request ${id}`} actions={<button data-action="close-request" onClick={onClose}>Back to the log</button>}>
      <Loaded load={log}>
        {(r: any) => (
          <div data-request={r.id}>
            <ul class="facts">
              <li>At {dateTime(r.created_at)}: {r.api_type}, status <strong data-field="status">{r.status}</strong>{r.error_class ? ` (${r.error_class}: ${r.error_message})` : ''}</li>
              <li>Model {r.model} → <span data-field="provider">{r.provider ?? '—'}</span> / {r.upstream_model ?? '—'}, key: {r.key_source ?? '—'}, cache: {r.cache_status}</li>
              <li>Route: <code data-field="route">{r.route ?? '—'}</code> ({r.attempts} attempts)</li>
              <li>
                Timings: auth {ms(r.timings.auth_ms)}, ledger {ms(r.timings.ledger_ms)}, first byte {ms(r.timings.ttft_ms)}, total{' '}
                <span data-field="total">{ms(r.timings.total_ms)}</span>
              </li>
              <li>
                Tokens: {integer(r.usage.input_tokens)} in, {integer(r.usage.output_tokens)} out ({integer(r.usage.cached_tokens)} cached)
                {r.usage.estimated ? ', estimated' : ''}; cost {usd(Number(r.cost_usd))}
              </li>
              <li>User {r.user_id ?? '—'}, key {r.key_id ?? '—'}{r.metadata ? `, metadata ${JSON.stringify(r.metadata)}` : ''}</li>
            </ul>
            <h3>Failed attempts</h3>
            {r.failed_attempts.length === 0 ? (
              <Empty>None: the first attempt answered.</Empty>
            ) : (
              <Table id="attempts" headers={['Target', 'Status', 'At', 'Message']}>
                {r.failed_attempts.map((a: any) => (
                  <tr data-attempt={a.target}>
                    <td>{a.target}</td>
                    <td data-value={a.status}>{a.status}</td>
                    <td>{a.at_ms === undefined ? '—' : ms(a.at_ms)}</td>
                    <td>{a.message}</td>
                  </tr>
                ))}
              </Table>
            )}
            <h3>Bodies</h3>
            {r.body?.stored ? (
              <Bodies url={r.body.url} />
            ) : (
              <Empty>Not stored: the tenant does not keep bodies, the request opted out, or they expired.</Empty>
            )}
          </div>
        )}
      </Loaded>
    </Section>
  );
}

export function Logs() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);  // a stack: the pages seen
  const [open, setOpen] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => getJson(query(filters, cursor)), [filters, cursor]);
  if (open) return <RequestView id={open} onClose={() => setOpen(null)} />;
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: valueOf(e) });
  return (
    <>
      <form
        class="inline-form"
        data-form="log-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
          setCursors([null]);
        }}
      >
        <label>
          Period
          <select value={draft.period} onChange={set('period')} data-filter="period">
            {['7d', '30d', '60d', '90d'].map((p) => <option>{p}</option>)}
          </select>
        </label>
        <label>
          Status
          <select value={draft.status} onChange={set('status')} data-filter="status">
            <option value="">any</option>
            {['2xx', '4xx', '5xx'].map((s) => <option>{s}</option>)}
          </select>
        </label>
        <label>Provider<input value={draft.provider} onInput={set('provider')} data-filter="provider" /></label>
        <label>Model<input value={draft.model} onInput={set('model')} data-filter="model" /></label>
        <label>User<input value={draft.user} onInput={set('user')} data-filter="user" /></label>
        <label>
          Cache
          <select value={draft.cache} onChange={set('cache')} data-filter="cache">
            <option value="">any</option>
            {['HIT', 'MISS', 'BYPASS'].map((c) => <option>{c}</option>)}
          </select>
        </label>
        <label>Metadata key<input value={draft.metaKey} onInput={set('metaKey')} data-filter="meta-key" /></label>
        <label>= value<input value={draft.metaValue} onInput={set('metaValue')} data-filter="meta-value" /></label>
        <button type="submit" data-action="apply-filters">Filter</button>
      </form>
      <Loaded load={page}>
        {(p: any) =>
          p.data.length === 0 ? (
            <Empty>No requests match.</Empty>
          ) : (
            <>
              <Table id="logs" headers={['Time', 'Status', 'Model', 'Provider', 'User', 'Cache', 'Attempts', 'Latency', 'Tokens', 'Cost', '']}>
                {p.data.map((r: any) => (
                  <tr data-log={r.id} data-status={r.status}>
                    <td>{dateTime(r.created_at)}</td>
                    <td>{r.status}</td>
                    <td>{r.model}</td>
                    <td>{r.provider ?? '—'}</td>
                    <td>{r.user_id ?? '—'}</td>
                    <td>{r.cache_status}</td>
                    <td data-value={r.attempts}>{r.attempts}</td>
                    <td>{ms(r.latency_ms)}</td>
                    <td>{integer(r.usage.input_tokens + r.usage.output_tokens)}</td>
                    <td>{usd(Number(r.cost_usd))}</td>
                    <td><button data-action="open-request" onClick={() => setOpen(r.id)}>Open</button></td>
                  </tr>
                ))}
              </Table>
              <div class="toolbar">
                <button data-action="newer" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>Newer</button>
                <button data-action="older" disabled={!p.has_more} onClick={() => setCursors([...cursors, p.next_cursor])}>Older</button>
              </div>
            </>
          )
        }
      </Loaded>
    </>
  );
}
