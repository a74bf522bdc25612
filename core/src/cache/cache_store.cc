#include "gw/cache_store.h"

#include "gw/json_writer.h"
#include "gw/limits.h"

namespace gw::cache {

namespace {

constexpr std::string_view COUNT_HITS =
    "UPDATE cache_entries SET hits = hits + ?, tokens_saved = tokens_saved + ?, usd_saved_pico = usd_saved_pico + ?, "
    "last_hit_at = ? WHERE scope = ? AND key = ?";

// "a\nb\nc" -> its parts.
std::string_view part(std::string_view joined, int index) {
  for (int i = 0; i < index; ++i) joined.remove_prefix(std::min(joined.size(), joined.find('\n') + 1));
  return joined.substr(0, joined.find('\n'));
}

}  // namespace

const HotEntry* recall(GatewayState& st, std::string_view storageKey, int64_t trustMs, int64_t nowMs) {
  auto it = st.hotEntries.find(storageKey);
  if (it == st.hotEntries.end()) return nullptr;
  if (trustMs <= 0 || nowMs - it->second.fetchedMs >= trustMs || it->second.expiresMs <= nowMs) return nullptr;
  return &it->second;
}

void remember(GatewayState& st, const std::string& storageKey, std::string text, int64_t expiresMs, int64_t nowMs) {
  if (text.size() > MEMORY_BYTES / 8) return;  // a few large answers must not push out many small ones
  forget(st, storageKey);
  st.hotBytes += text.size();
  st.hotEntries[storageKey] = HotEntry{std::move(text), expiresMs, nowMs};
  // Over budget: drop the copies read longest ago (a scan, only when evicting).
  while (st.hotBytes > MEMORY_BYTES) {
    auto oldest = st.hotEntries.begin();
    for (auto it = st.hotEntries.begin(); it != st.hotEntries.end(); ++it)
      if (it->second.fetchedMs < oldest->second.fetchedMs) oldest = it;
    st.hotBytes -= oldest->second.text.size();
    st.hotEntries.erase(oldest);
  }
}

void forget(GatewayState& st, std::string_view storageKey, bool prefix) {
  auto it = st.hotEntries.lower_bound(storageKey);
  while (it != st.hotEntries.end() && (prefix ? it->first.compare(0, storageKey.size(), storageKey) == 0
                                              : it->first == storageKey)) {
    st.hotBytes -= it->second.text.size();
    it = st.hotEntries.erase(it);
    if (!prefix) break;
  }
}

void countHit(Session& s, std::string_view scope, std::string_view key, const Entry& e) {
  const Principal& p = s.principal();
  HitCount& forLedger = s.state().ledgerHits[p.ledgerScope()];
  if (forLedger.keyLimits.empty()) {
    json::Writer w(forLedger.keyLimits);
    writeQuotaLimitsWire(w, s.config().access.keyDefaults.overlay(p.limits));
  }
  std::string entry(scope);
  entry.push_back('\n');
  entry.append(key);
  for (HitCount* c : {&forLedger, &s.state().entryHits[entry]}) {
    ++c->hits;
    c->tokens += e.usage.totalTokens;
    c->usdPico += e.cost.picoUsd;
    c->lastHitMs = s.nowMs();
  }
  flushHits(s);
}

void flushHits(Session& s) {
  GatewayState& st = s.state();
  if (s.nowMs() - st.hitsFlushedMs < HIT_FLUSH_MS || (st.ledgerHits.empty() && st.entryHits.empty())) return;
  st.hitsFlushedMs = s.nowMs();
  for (const auto& [account, c] : st.ledgerHits) {
    std::string op;
    json::Writer w(op);
    w.beginObject().field("op", "hit").field("key", part(account, 1)).field("user", part(account, 2));
    w.key("key_limits").raw(c.keyLimits).key("user_defaults");
    writeQuotaLimitsWire(w, s.config().access.userDefaults);
    w.field("hits", c.hits).field("tokens_saved", c.tokens).field("usd_saved", c.usdPico).endObject();
    // Waited for (though nobody waits on it): its answer carries the
    // snapshot, so a limit the hits reached is refused here at once.
    s.ledger(part(account, 0), op, [](Session&, const EffectResult&) {});
  }
  for (const auto& [entry, c] : st.entryHits) {
    std::string params;
    json::Writer w(params);
    w.beginArray().integer(c.hits).integer(c.tokens).integer(c.usdPico).integer(c.lastHitMs);
    w.string(part(entry, 0)).string(part(entry, 1)).endArray();
    s.d1Detached(COUNT_HITS, params);
  }
  st.ledgerHits.clear();
  st.entryHits.clear();
}

}  // namespace gw::cache
