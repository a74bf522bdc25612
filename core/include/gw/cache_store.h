#pragma once
// The response cache's per-instance state: recent entries kept in memory
// (a hot entry costs no KV read) and hit accounting written in batches.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/cache.h"
#include "gw/session.h"

namespace gw::cache {

// The remembered entry, if this instance has a fresh copy.
const HotEntry* recall(GatewayState& st, std::string_view storageKey, int64_t trustMs, int64_t nowMs);
void remember(GatewayState& st, const std::string& storageKey, std::string text, int64_t expiresMs, int64_t nowMs);
// Drops one remembered entry, or (`prefix`) every one under a storage-key prefix.
void forget(GatewayState& st, std::string_view storageKey, bool prefix = false);

// Counts a hit (a request, and what it saved) for the ledger and the
// entry's statistics; written with the next flush.
void countHit(Session& s, std::string_view scope, std::string_view key, const Entry& e);
// Writes the counted hits when HIT_FLUSH_MS has passed since the last write.
void flushHits(Session& s);

}  // namespace gw::cache
