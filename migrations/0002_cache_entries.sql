-- One row per response-cache entry (the answer itself lives in KV under
-- cache:<scope>:<key>): what it is, when it expires, and what it saved.
-- Rows outlive their KV entries, so totals stay lifetime totals.
CREATE TABLE IF NOT EXISTS cache_entries (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  upstream_model TEXT NOT NULL,
  preview TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost_usd_pico INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  hits INTEGER NOT NULL DEFAULT 0,
  tokens_saved INTEGER NOT NULL DEFAULT 0,
  usd_saved_pico INTEGER NOT NULL DEFAULT 0,
  last_hit_at INTEGER,
  PRIMARY KEY (scope, key)
);

CREATE INDEX IF NOT EXISTS cache_entries_by_hits ON cache_entries (scope, hits DESC);
