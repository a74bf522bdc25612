// The registry by provider: prices and capabilities; add, edit, enable, disable.
import { useState } from 'preact/hooks';
import { getJson, send } from '../api';
import { integer } from '../format';
import { ActionForm, ErrorBox, Loaded, Section, Table, useAction, useLoad, valueOf } from '../ui';

type Model = {
  id: string; provider: string; provider_name: string; upstream: string; type: string; capabilities: string[];
  price: { input: number; output?: number; cached_input?: number }; context_window: number; enabled: boolean; available: boolean;
};

function AddModel({ onDone }: { onDone: () => void }) {
  const [form, setForm] = useState({ id: '', provider: 'openai', upstream: '', input: '', output: '', capabilities: 'streaming' });
  const field = (name: keyof typeof form, label: string) => (
    <label>
      {label}
      <input value={form[name]} data-input={`model-${name}`} onInput={(e) => setForm({ ...form, [name]: valueOf(e) })} />
    </label>
  );
  return (
    <ActionForm
      onSubmit={async () => {
        await send('POST', '/api/ai-gateway/models', {
          id: form.id,
          provider: form.provider,
          ...(form.upstream ? { upstream: form.upstream } : {}),
          price: { input: Number(form.input), output: Number(form.output) },
          capabilities: form.capabilities.split(',').map((c) => c.trim()).filter(Boolean),
        });
        onDone();
      }}
    >
      {field('id', 'Id')}
      {field('provider', 'Provider')}
      {field('upstream', 'Upstream name')}
      {field('input', 'Input $/1M')}
      {field('output', 'Output $/1M')}
      {field('capabilities', 'Capabilities')}
      <button type="submit" data-action="add-model">Add model</button>
    </ActionForm>
  );
}

function ModelRow({ m, onChange }: { m: Model; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const [input, setInput] = useState(String(m.price.input));
  const [output, setOutput] = useState(String(m.price.output ?? ''));
  const [run, error, busy] = useAction();
  const put = (body: unknown) =>
    run(async () => {
      await send('PUT', `/api/ai-gateway/models/${encodeURIComponent(m.id)}`, body);
      setEditing(false);
      onChange();
    });
  return (
    <tr data-row={m.id} data-enabled={String(m.enabled)} class={m.enabled ? '' : 'disabled'}>
      <td>{m.id}{m.upstream !== m.id && <div class="muted">{m.upstream}</div>}</td>
      <td>{m.type}</td>
      <td>
        {editing ? (
          <span class="price-edit">
            <input value={input} onInput={(e) => setInput(valueOf(e))} data-input="price-input" />
            <input value={output} onInput={(e) => setOutput(valueOf(e))} data-input="price-output" />
          </span>
        ) : (
          <span data-value={`${m.price.input}/${m.price.output ?? ''}`}>${m.price.input} / ${m.price.output ?? '—'}</span>
        )}
      </td>
      <td>{m.capabilities.map((c) => <span class="tag">{c}</span>)}</td>
      <td>{m.context_window ? integer(m.context_window) : '—'}</td>
      <td>{m.enabled ? (m.available ? 'enabled' : 'enabled (provider not configured)') : 'disabled'}</td>
      <td class="actions">
        {editing ? (
          <button disabled={busy} data-action="save-price" onClick={() => put({ price: { input: Number(input), ...(output ? { output: Number(output) } : {}) } })}>
            Save
          </button>
        ) : (
          <button onClick={() => setEditing(true)} data-action="edit">Edit price</button>
        )}
        {m.enabled ? (
          <button
            class="danger"
            disabled={busy}
            data-action="disable"
            onClick={() =>
              run(async () => {
                await send('DELETE', `/api/ai-gateway/models/${encodeURIComponent(m.id)}`);
                onChange();
              })
            }
          >
            Disable
          </button>
        ) : (
          <button disabled={busy} data-action="enable" onClick={() => put({ enabled: true })}>Enable</button>
        )}
        {error && <ErrorBox error={error} />}
      </td>
    </tr>
  );
}

export function Models() {
  const registry = useLoad(() => getJson('/api/ai-gateway/models'), []);
  const [adding, setAdding] = useState(false);
  return (
    <>
      <div class="toolbar">
        <button onClick={() => setAdding(!adding)} data-action="show-add-model">{adding ? 'Close' : 'Add a model'}</button>
      </div>
      {adding && <AddModel onDone={() => { setAdding(false); registry.reload(); }} />}
      <Loaded load={registry}>
        {(r) => {
          const byProvider = new Map<string, Model[]>();
          for (const m of r.data as Model[]) byProvider.set(m.provider_name, [...(byProvider.get(m.provider_name) ?? []), m]);
          return [...byProvider].map(([provider, models]) => (
            <Section title={provider}>
              <Table
                id="models"
                provider={models[0].provider}
                headers={['Model', 'Type', 'Price in / out (USD per 1M)', 'Capabilities', 'Context', 'State', '']}
              >
                {models.map((m) => <ModelRow m={m} onChange={registry.reload} />)}
              </Table>
            </Section>
          ));
        }}
      </Loaded>
    </>
  );
}
