-- Whose key served each request (README: Provider keys): tenant (its own,
-- from the vault), gateway (the gateway's, from the vault), env (the
-- gateway's secret), none (the demo, a keyless local server); NULL when no
-- provider was called (a cache hit, a refusal) or for rows written before.
ALTER TABLE gateway_usage_logs ADD COLUMN key_source TEXT;
