-- The request's x-aigw-metadata (README: Metadata): a JSON object of string
-- values, keys in order; NULL when it sent none. Filters and group-bys read
-- it with json_extract.
ALTER TABLE gateway_usage_logs ADD COLUMN metadata TEXT;
-- What the request log's page shows beyond the row's columns (README:
-- Request log): every failed attempt {target, status, message, at_ms} and
-- what admission waited for (auth_ms, ledger_ms); NULL when none of it.
ALTER TABLE gateway_usage_logs ADD COLUMN detail TEXT;
-- The log reads one tenant's rows newest first.
CREATE INDEX IF NOT EXISTS usage_logs_by_tenant_newest ON gateway_usage_logs (tenant_id, created_at DESC, request_id DESC);
