-- One row per client request the gateway served or refused after
-- authenticating it: successes, failures, cache hits and streams (written
-- when the stream ends or the client goes away, with what was delivered).
-- Written after the response (waitUntil). Times are Unix milliseconds;
-- money is in 10^-12 units (exact integers).
CREATE TABLE IF NOT EXISTS gateway_usage_logs (
  request_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  user_id TEXT,
  agent_id TEXT,
  key_id TEXT,
  conversation_id TEXT,
  api_type TEXT NOT NULL,
  provider TEXT,
  model TEXT,
  upstream_model TEXT,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_usd_pico INTEGER NOT NULL DEFAULT 0,
  cost_brl_pico INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER NOT NULL,
  ttft_ms INTEGER,
  status INTEGER NOT NULL,
  stream INTEGER NOT NULL DEFAULT 0,
  error_class TEXT,
  error_message TEXT,
  cache_status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  route TEXT
);

CREATE INDEX IF NOT EXISTS usage_logs_by_time ON gateway_usage_logs (created_at);
CREATE INDEX IF NOT EXISTS usage_logs_by_tenant ON gateway_usage_logs (tenant_id, created_at);
