-- Each user's saved model choice per context (the `preference` routing
-- policy reads it). Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS user_preferences (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  context TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  usage_count INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id, context)
);
