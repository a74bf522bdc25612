// The tenant's cache: what it saved, its live entries, search, invalidation.
import { useState } from 'preact/hooks';
import { getJson, send, withTenant } from '../api';
import { integer, seconds, usd } from '../format';
import { Card, Empty, ErrorBox, Loaded, Section, Table, useAction, useLoad, valueOf } from '../ui';

export function Cache() {
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const cache = useLoad(() => getJson(withTenant(`/api/ai-gateway/cache?q=${encodeURIComponent(search)}`)), [search]);
  const [run, error, busy] = useAction();

  const invalidate = (key?: string) =>
    run(async () => {
      if (!key && !confirm('Invalidate every cached answer of this tenant?')) return;
      await send('DELETE', withTenant(key ? `/api/ai-gateway/cache/${encodeURIComponent(key)}` : '/api/ai-gateway/cache'));
      cache.reload();
    });

  return (
    <>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(query);
        }}
      >
        <input
          type="search"
          placeholder="Search prompts, models, keys"
          value={query}
          onInput={(e) => setQuery(valueOf(e))}
          data-input="cache-search"
        />
        <button type="submit">Search</button>
        <button type="button" class="danger" disabled={busy} onClick={() => invalidate()} data-action="invalidate-all">
          Invalidate all
        </button>
      </form>
      {error && <ErrorBox error={error} />}
      <Loaded load={cache}>
        {(c) => (
          <>
            <div class="cards">
              <Card id="entries" label="Live entries" value={integer(c.totals.live_entries)} raw={c.totals.live_entries} />
              <Card id="hits" label="Hits" value={integer(c.totals.hits)} raw={c.totals.hits} />
              <Card id="tokens-saved" label="Tokens saved" value={integer(c.totals.tokens_saved)} raw={c.totals.tokens_saved} />
              <Card id="usd-saved" label="Saved (USD)" value={usd(c.totals.usd_saved)} raw={c.totals.usd_saved} />
            </div>
            <Section title={search ? `Entries matching “${search}”` : 'Top entries'}>
              {c.data.length === 0 ? (
                <Empty>{search ? 'No live entry matches.' : 'Nothing cached yet: repeated requests are served from here.'}</Empty>
              ) : (
                <Table id="cache" headers={['Prompt', 'Model', 'Hits', 'Tokens saved', 'Saved', 'TTL left', '']}>
                  {c.data.map((e: any) => (
                    <tr data-row={e.key}>
                      <td class="preview" title={e.key}>{e.prompt_preview}</td>
                      <td>{e.model}</td>
                      <td data-value={e.hits}>{integer(e.hits)}</td>
                      <td>{integer(e.tokens_saved)}</td>
                      <td>{usd(e.usd_saved)}</td>
                      <td>{seconds(e.ttl_seconds)}</td>
                      <td>
                        <button disabled={busy} onClick={() => invalidate(e.key)} data-action="invalidate">
                          Invalidate
                        </button>
                      </td>
                    </tr>
                  ))}
                </Table>
              )}
            </Section>
          </>
        )}
      </Loaded>
    </>
  );
}
