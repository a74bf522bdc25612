-- Daily rollups of gateway_usage_logs, kept by the cron trigger (the last
-- rolled day and every day after it are recomputed on each run), so a
-- dashboard's series over months reads a few rows per day instead of every
-- request. Days are UTC, as Unix milliseconds of their midnight. '*' in
-- tenant_id, provider or model is the total over that column. Percentiles
-- are nearest rank over the day's requests, like /api/v1/ai/metrics.
CREATE TABLE IF NOT EXISTS gateway_usage_daily (
  day INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  requests INTEGER NOT NULL,
  successes INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  cache_hits INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  cost_usd_pico INTEGER NOT NULL,
  cost_brl_pico INTEGER NOT NULL,
  latency_ms_sum INTEGER NOT NULL,
  p50 INTEGER,
  p95 INTEGER,
  p99 INTEGER,
  rolled_up_at INTEGER NOT NULL,
  PRIMARY KEY (day, tenant_id, provider, model)
);

CREATE INDEX IF NOT EXISTS usage_daily_by_tenant ON gateway_usage_daily (tenant_id, provider, day);
