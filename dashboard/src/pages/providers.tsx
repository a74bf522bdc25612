// Providers: circuit breakers, latency, error rate; the operator may switch one off.
import { getJson, send } from '../api';
import { integer, ms, percent } from '../format';
import { ErrorBox, Loaded, Table, useAction, useLoad } from '../ui';

export function Providers({ root }: { root: boolean }) {
  // The operator's view carries the admin fields; others read the public health view.
  const providers = useLoad(
    () => getJson(root ? '/api/v1/ai/admin/providers' : '/api/v1/ai/health').then((r) => r.data ?? r.providers),
    [root],
  );
  const [run, error, busy] = useAction();
  return (
    <>
      {!root && <p class="muted">Switching providers on and off takes ADMIN_API_KEY.</p>}
      {error && <ErrorBox error={error} />}
      <Loaded load={providers}>
        {(list: any[]) => (
          <Table id="providers" headers={['Provider', 'Status', 'Breakers', 'Latency (EWMA)', 'Requests', 'Error rate', 'Last error', '']}>
            {list.map((p) => (
              <tr data-row={p.id} data-enabled={String(p.enabled)}>
                <td>{p.name}</td>
                <td><span class={`status ${p.status}`}>{p.enabled ? p.status : 'disabled'}</span></td>
                <td>
                  {p.breakers.length === 0
                    ? '—'
                    : p.breakers.map((b: any) => <div class={`breaker ${b.state}`} data-breaker={b.target}>{b.target}: {b.state}</div>)}
                </td>
                <td>{ms(p.latency_ewma_ms)}</td>
                <td data-value={p.requests}>{integer(p.requests)}</td>
                <td data-value={p.error_rate}>{percent(p.error_rate)}</td>
                <td class="preview">{p.last_error ?? ''}</td>
                <td>
                  {root && (
                    <button
                      class={p.enabled ? 'danger' : ''}
                      disabled={busy}
                      data-action="toggle-provider"
                      onClick={() =>
                        run(async () => {
                          await send('POST', `/api/v1/ai/admin/providers/${encodeURIComponent(p.id)}/toggle`);
                          providers.reload();
                        })
                      }
                    >
                      {p.enabled ? 'Disable' : 'Enable'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </>
  );
}
