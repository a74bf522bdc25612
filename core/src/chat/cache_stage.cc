// The chat pipeline's cache stage: after routing names the target, look the
// answer up in KV (or wait for an identical request already in flight in
// this instance), serve a hit for free in the client's dialect (replayed as
// SSE when it streams), and store a complete answer for the next request.
#include <algorithm>

#include "gw/cache_store.h"
#include "gw/json_writer.h"
#include "pipeline.h"

namespace gw::chat {

namespace {

constexpr std::string_view STORE_ROW =
    "INSERT INTO cache_entries (scope, key, tenant_id, model, provider, upstream_model, preview, prompt_tokens, "
    "completion_tokens, cost_usd_pico, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (scope, key) DO UPDATE SET model = excluded.model, preview = excluded.preview, "
    "prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, "
    "cost_usd_pico = excluded.cost_usd_pico, created_at = excluded.created_at, expires_at = excluded.expires_at";
// The first PREVIEW_CHARS characters, never cutting a UTF-8 sequence.
std::string preview(const std::string& text) {
  if (text.size() <= cache::PREVIEW_CHARS) return text;
  size_t end = cache::PREVIEW_CHARS;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

void ChatPipeline::lookup(Session& s) {
  cacheScope_ = cache::scopeFor(s.config().cache, s.principal().tenantId);
  // The demo answers for providers without a key: its answers must never
  // be served once the provider is configured.
  const std::string_view provider = answersFromDemo() ? std::string_view("demo") : target_.provider->id;
  cacheKey_ = cache::key({cacheScope_, provider, target_.upstream, cacheEndpoint_,
                          cacheKeyRequest_ != nullptr ? cacheKeyRequest_ : &req_.tape});
  cacheStorageKey_ = cache::storageKey(cacheScope_, cacheKey_);
  if (cache_.mode == cache::Mode::Refresh) return reserve(s);  // a fresh answer, stored for the next request
  cache::Entry e;
  if (const HotEntry* hot = cache::recall(s.state(), cacheStorageKey_, s.config().cache.memoryMs, s.nowMs());
      hot != nullptr && cache::decodeEntry(hot->text, cacheKey_, e))
    return serveHit(s, e);
  auto& flights = s.state().flights;
  auto flight = flights.find(cacheStorageKey_);
  if (flight != flights.end()) {
    flight->second.waiting.push_back(s.id());  // onFlightLanded continues
    return;
  }
  flights[cacheStorageKey_].leader = s.id();
  leading_ = true;
  s.kvGet(cacheStorageKey_, [this](Session& s, const EffectResult& r) {
    cache::Entry e;
    // Unreadable, foreign or expired entries are misses; the answer replaces them.
    if (r.ok && cache::decodeEntry(r.data, cacheKey_, e) && e.expiresMs > s.nowMs()) {
      storedEntry_ = std::string(r.data);
      cache::remember(s.state(), cacheStorageKey_, storedEntry_, e.expiresMs, s.nowMs());
      return serveHit(s, e);
    }
    s.record().cacheStatus = "MISS";
    reserve(s);
  });
}

void ChatPipeline::onFlightLanded(Session& s, const std::string* entry) {
  cache::Entry e;
  if (entry != nullptr && cache::decodeEntry(*entry, cacheKey_, e)) return serveHit(s, e);
  lookup(s);  // the request it waited on stored nothing: go again (lead, or wait on a new leader)
}

void ChatPipeline::landFlight(Session& s) {
  leading_ = false;
  auto& flights = s.state().flights;
  auto flight = flights.find(cacheStorageKey_);
  if (flight == flights.end() || flight->second.leader != s.id()) return;
  std::vector<uint32_t> waiting = std::move(flight->second.waiting);
  flights.erase(flight);
  for (uint32_t id : waiting) s.state().landFlight(id, storedEntry_.empty() ? nullptr : &storedEntry_);
}

void ChatPipeline::leaveFlight(Session& s) {
  auto flight = s.state().flights.find(cacheStorageKey_);
  if (flight == s.state().flights.end() || leading_) return;
  auto& waiting = flight->second.waiting;
  waiting.erase(std::remove(waiting.begin(), waiting.end(), s.id()), waiting.end());
}

void ChatPipeline::serveHit(Session& s, const cache::Entry& e) {
  s.record().cacheStatus = "HIT";
  // Free to the caller: the original usage is reported, nothing is charged.
  s.record().usage = e.usage;
  s.record().cost = Cost{};
  s.record().cost.priced = true;
  Completion answer = e.completion;
  answer.usage = e.usage;
  CallSummary sum = summary(s);
  sum.finishReason = answer.choices.empty() ? "stop" : answer.choices[0].finishReason;
  Headers h = commonHeaders(s);
  h.emplace_back("x-aigw-cache-age", std::to_string(std::max<int64_t>(0, (s.nowMs() - e.createdMs) / 1000)));
  respondWhole(s, answer, sum, std::move(h));
  onAnswer(s, answer, sum, {});
  cache::countHit(s, cacheScope_, cacheKey_, e);
  s.finish(200, "ok");
}

void ChatPipeline::storeAnswer(Session& s, const Completion& c) {
  if (cache_.mode == cache::Mode::Bypass || cacheKey_.empty() || c.choices.empty()) return;
  for (const Choice& choice : c.choices)
    if (choice.finishReason.empty()) return;  // not a complete answer
  cache::Entry e;
  e.key = cacheKey_;
  e.scope = cacheScope_;
  e.model = req_.model;
  e.provider = demo_ ? "demo" : target_.provider->id;
  e.upstreamModel = target_.upstream;
  e.createdMs = s.nowMs();
  e.expiresMs = s.nowMs() + cache_.ttlSeconds * 1000;
  e.usage = s.record().usage;
  e.cost = s.record().cost;
  e.preview = preview(req_.lastUserText);
  e.completion = c;
  std::string text = cache::encodeEntry(e);
  if (static_cast<int64_t>(text.size()) > s.config().cache.maxEntryBytes) return;
  s.kvPut(cacheStorageKey_, text, [](Session&, const EffectResult&) {}, cache_.ttlSeconds);
  std::string params;
  json::Writer w(params);
  w.beginArray().string(cacheScope_).string(cacheKey_).string(s.principal().tenantId).string(e.model);
  w.string(e.provider).string(e.upstreamModel).string(e.preview).integer(e.usage.promptTokens);
  w.integer(e.usage.completionTokens).integer(e.cost.picoUsd).integer(e.createdMs).integer(e.expiresMs).endArray();
  s.d1Detached(STORE_ROW, params);
  cache::remember(s.state(), cacheStorageKey_, text, e.expiresMs, s.nowMs());
  storedEntry_ = std::move(text);
}

}  // namespace gw::chat
