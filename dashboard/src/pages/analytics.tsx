// KPIs, latency over time, providers, top clients, CSV export.
import { useState } from 'preact/hooks';
import { call, getJson, withTenant } from '../api';
import { LineChart } from '../chart';
import { dateTime, integer, ms, percent, usd } from '../format';
import { Card, Empty, ErrorBox, Loaded, Section, Table, useAction, useLoad } from '../ui';

const PERIODS = ['7d', '30d', '60d', '90d'];

function LatencyChart({ live, rollups }: { live: any[]; rollups?: any }) {
  const fromRollups = rollups?.rolled_up_at && rollups.daily.length > 0;
  const days: any[] = fromRollups ? rollups.daily : live;
  return (
    <Section
      title="Latency per day"
      actions={
        <span class="muted" data-source={fromRollups ? 'rollups' : 'live'}>
          {fromRollups ? `daily rollups as of ${dateTime(rollups.rolled_up_at)}` : 'live'}
        </span>
      }
    >
      <LineChart
        id="latency"
        days={days.map((d) => d.day)}
        series={[
          { label: 'p50', values: days.map((d) => d.latency_ms.p50), color: '#2f7d32' },
          { label: 'p95', values: days.map((d) => d.latency_ms.p95), color: '#e08a00' },
          { label: 'p99', values: days.map((d) => d.latency_ms.p99), color: '#c62828' },
        ]}
      />
      <span hidden data-series="p95">{days.map((d) => `${d.day}:${d.latency_ms.p95}`).join(',')}</span>
    </Section>
  );
}

// Each provider's share of the requests and of the cost, as bars.
function ProviderShares({ providers, totals }: { providers: any[]; totals: any }) {
  const share = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);
  return (
    <div class="shares" data-chart="providers">
      {providers.map((p) => (
        <div class="share-row" data-share={p.provider} data-requests={share(p.requests, totals.requests).toFixed(1)}>
          <span class="share-label">{p.provider}</span>
          <span class="share-track" title={`${p.requests} requests`}>
            <span class="share-bar requests" style={{ width: `${share(p.requests, totals.requests)}%` }} />
          </span>
          <span class="share-value">{share(p.requests, totals.requests).toFixed(1)}% of requests</span>
          <span class="share-track" title={usd(p.cost_usd)}>
            <span class="share-bar cost" style={{ width: `${share(p.cost_usd, totals.cost_usd)}%` }} />
          </span>
          <span class="share-value">{share(p.cost_usd, totals.cost_usd).toFixed(1)}% of cost</span>
        </div>
      ))}
    </div>
  );
}

export function Analytics() {
  const [period, setPeriod] = useState('7d');
  const metrics = useLoad(() => getJson(withTenant(`/api/v1/ai/metrics?period=${period}`)), [period]);
  const clients = useLoad(() => getJson(withTenant(`/api/ai-gateway/metrics?period=${period}`)), [period]);
  // The chart reads the cron's daily rollups (a few rows per day) once there are any.
  const rollups = useLoad(() => getJson(withTenant(`/api/v1/ai/metrics/daily?period=${period}`)), [period]);
  const [run, exportError, exporting] = useAction();

  const exportCsv = () =>
    run(async () => {
      const res = await call('GET', withTenant(`/api/v1/ai/admin/costs?format=csv&period=${period}`));
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `costs-${period}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    });

  return (
    <>
      <div class="toolbar">
        <div class="segmented" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button class={p === period ? 'active' : ''} data-period={p} onClick={() => setPeriod(p)}>
              {p}
            </button>
          ))}
        </div>
        <button onClick={exportCsv} disabled={exporting} data-action="export-csv">
          Export CSV
        </button>
        {exportError && <ErrorBox error={exportError} />}
      </div>
      <Loaded load={metrics}>
        {(m) => {
          const t = m.totals;
          if (!t.requests) return <Empty>No requests in this period yet.</Empty>;
          return (
            <>
              <div class="cards">
                <Card id="requests" label="Requests" value={integer(t.requests)} raw={t.requests} />
                <Card id="cost" label="Cost (USD)" value={usd(t.cost_usd)} raw={t.cost_usd} />
                <Card id="cache-hit-rate" label="Cache hit rate" value={percent(t.cache_hit_rate)} raw={t.cache_hit_rate} />
                <Card id="p95" label="p95 latency" value={ms(t.latency_ms.p95)} raw={t.latency_ms.p95} />
                <Card id="error-rate" label="Error rate" value={percent(t.error_rate)} raw={t.error_rate} />
              </div>
              <LatencyChart live={m.daily} rollups={rollups.data} />
              <Section title="Providers">
                <ProviderShares providers={m.by_provider} totals={t} />
                <Table id="providers" headers={['Provider', 'Requests', 'Error rate', 'p95', 'Tokens', 'Cost']}>
                  {m.by_provider.map((p: any) => (
                    <tr data-row={p.provider}>
                      <td>{p.provider}</td>
                      <td data-value={p.requests}>{integer(p.requests)}</td>
                      <td>{percent(p.error_rate)}</td>
                      <td>{ms(p.latency_ms.p95)}</td>
                      <td>{integer(p.tokens.total)}</td>
                      <td data-value={p.cost_usd}>{usd(p.cost_usd)}</td>
                    </tr>
                  ))}
                </Table>
              </Section>
            </>
          );
        }}
      </Loaded>
      <Section title="Top clients">
        <Loaded load={clients}>
          {(c) =>
            c.top_clients.length === 0 ? (
              <Empty>No clients in this period.</Empty>
            ) : (
              <Table id="clients" headers={['Client', 'Tenant', 'Requests', 'Errors', 'Cost']}>
                {c.top_clients.map((x: any) => (
                  <tr data-row={x.client}>
                    <td>{x.client}</td>
                    <td>{x.tenantId}</td>
                    <td data-value={x.requests}>{integer(x.requests)}</td>
                    <td>{integer(x.errors)}</td>
                    <td>{usd(x.cost_usd)}</td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </Section>
    </>
  );
}
