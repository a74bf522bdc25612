// Keys (created keys are shown once) and budgets with their progress.
import { useState } from 'preact/hooks';
import { getJson, send, tenantMember, withTenant } from '../api';
import { dateTime, integer, usd } from '../format';
import { ActionForm, Empty, ErrorBox, Loaded, Progress, Section, Table, useAction, useLoad, valueOf } from '../ui';

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const [userId, setUserId] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('user');
  const [created, setCreated] = useState<string | null>(null);
  return (
    <>
      <ActionForm
        onSubmit={async () => {
          const body = await send('POST', '/api/v1/ai/admin/keys', {
            ...tenantMember(),
            ...(userId ? { userId } : {}),
            ...(name ? { name } : {}),
            role,
          });
          setCreated(body.key);
          onCreated();
        }}
      >
        <label>User<input value={userId} data-input="key-user" onInput={(e) => setUserId(valueOf(e))} /></label>
        <label>Name<input value={name} data-input="key-name" onInput={(e) => setName(valueOf(e))} /></label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(valueOf(e))} data-input="key-role">
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" data-action="create-key">Create key</button>
      </ActionForm>
      {created && (
        <div class="secret" data-created-key={created}>
          <strong>New key — copy it now, it is not shown again:</strong>
          <code>{created}</code>
          <button onClick={() => setCreated(null)}>Done</button>
        </div>
      )}
    </>
  );
}

function BudgetForm({ onSaved }: { onSaved: () => void }) {
  const [form, setForm] = useState({ type: 'USD', limit: '', period: 'monthly', thresholds: '80,90,100', pause: true, userId: '' });
  const set = (field: 'type' | 'limit' | 'period' | 'thresholds' | 'userId') => (e: Event) => setForm({ ...form, [field]: valueOf(e) });
  return (
    <ActionForm
      onSubmit={async () => {
        await send('POST', '/api/budget/config', {
          ...tenantMember(),
          ...(form.userId ? { userId: form.userId } : {}),
          type: form.type,
          limit: Number(form.limit),
          period: form.period,
          alertThresholds: form.thresholds.split(',').map((t) => Number(t.trim())).filter((t) => t > 0),
          pauseAtLimit: form.pause,
        });
        onSaved();
      }}
    >
      <label>
        Type
        <select value={form.type} onChange={set('type')} data-input="budget-type">
          <option>USD</option><option>BRL</option><option>tokens</option>
        </select>
      </label>
      <label>Limit<input value={form.limit} data-input="budget-limit" onInput={set('limit')} /></label>
      <label>
        Period
        <select value={form.period} onChange={set('period')} data-input="budget-period">
          <option>daily</option><option>weekly</option><option>monthly</option>
        </select>
      </label>
      <label>Alerts at %<input value={form.thresholds} onInput={set('thresholds')} /></label>
      <label>User (optional)<input value={form.userId} onInput={set('userId')} /></label>
      <label class="check">
        <input type="checkbox" checked={form.pause} onChange={(e) => setForm({ ...form, pause: (e.target as HTMLInputElement).checked })} />
        Pause at limit
      </label>
      <button type="submit" data-action="save-budget">Save budget</button>
    </ActionForm>
  );
}

export function Keys() {
  const keys = useLoad(() => getJson(withTenant('/api/v1/ai/admin/keys')), []);
  const usage = useLoad(() => getJson(withTenant('/api/budget/current-usage')), []);
  const [run, error, busy] = useAction();
  return (
    <>
      <Section title="API keys">
        <CreateKey onCreated={keys.reload} />
        {error && <ErrorBox error={error} />}
        <Loaded load={keys}>
          {(k) =>
            k.data.length === 0 ? (
              <Empty>No keys yet.</Empty>
            ) : (
              <Table id="keys" headers={['Key', 'Name', 'User', 'Role', 'Created', 'State', '']}>
                {k.data.map((key: any) => (
                  <tr data-row={key.id} data-revoked={String(key.revoked)}>
                    <td><code>{key.prefix}…</code></td>
                    <td>{key.name ?? ''}</td>
                    <td>{key.userId ?? '—'}</td>
                    <td>{key.role}</td>
                    <td>{dateTime(key.createdAt)}</td>
                    <td>{key.revoked ? 'revoked' : 'active'}</td>
                    <td>
                      {!key.revoked && (
                        <button
                          class="danger"
                          disabled={busy}
                          data-action="revoke"
                          onClick={() =>
                            run(async () => {
                              if (!confirm(`Revoke ${key.prefix}…? Requests with it are refused at once.`)) return;
                              await send('DELETE', `/api/v1/ai/admin/keys/${encodeURIComponent(key.id)}`);
                              keys.reload();
                            })
                          }
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </Section>
      <Section title="Budgets">
        <BudgetForm onSaved={usage.reload} />
        <Loaded load={usage}>
          {(u) =>
            u.budgets.length === 0 ? (
              <Empty>No budgets: spending is limited only by quotas.</Empty>
            ) : (
              <Table id="budgets" headers={['Budget', 'Used', 'Limit', 'Progress', 'Projected', 'Days left']}>
                {u.budgets.map((b: any) => {
                  const money = b.type !== 'tokens';
                  const fmt = (n: number) => (money ? (b.type === 'USD' ? usd(n) : `R$${n}`) : integer(n));
                  return (
                    <tr data-row={b.id}>
                      <td>{b.id}</td>
                      <td data-value={b.used}>{fmt(b.used)}</td>
                      <td>{fmt(b.limit)}</td>
                      <td><Progress id={b.id} percentage={b.percentage} /></td>
                      <td>{b.projectedPercentage.toFixed(1)}%</td>
                      <td>{b.daysLeft}</td>
                    </tr>
                  );
                })}
              </Table>
            )
          }
        </Loaded>
      </Section>
    </>
  );
}
