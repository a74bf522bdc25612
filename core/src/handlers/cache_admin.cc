// The response cache's admin API (admin keys; ADMIN_API_KEY names tenantId):
//   GET    /api/ai-gateway/cache?q=&limit=      top entries by hits (50 at most) and lifetime totals
//   DELETE /api/ai-gateway/cache/:key           one entry
//   DELETE /api/ai-gateway/cache?model=|prefix= all of the tenant's entries, or those of a model or key prefix
// Entries live in KV (cache:<scope>:<key>); their statistics in D1 (cache_entries).
#include "admin_common.h"
#include "gw/cache.h"
#include "gw/cache_store.h"
#include "gw/json_writer.h"
#include "gw/pricing.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr int64_t MAX_LISTED = 50;
constexpr int64_t MAX_DELETED = 1000;  // one KV listing page per call

ApiError storeUnavailable() {
  return serverError(503, "The cache statistics store (D1) is unavailable; try again.", "service_unavailable",
                     "database_unavailable");
}

// SQL LIKE pattern that matches `text` literally anywhere.
std::string containing(std::string_view text) {
  std::string out = "%";
  for (char ch : text) {
    if (ch == '%' || ch == '_' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('%');
  return out;
}

bool hexPrefix(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char ch : s)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  return true;
}

class CacheAdmin : public Handler {
 public:
  CacheAdmin(std::string method, std::string key) : method_(std::move(method)), key_(std::move(key)) {}
  Access access() const override { return Access::Admin; }

  void start(Session& s) override {
    const std::string& q = s.request().query;
    std::string tenant;
    if (ApiError e = tenantFor(s, queryParam(q, "tenantId"), tenant)) return s.respondError(e);
    scope_ = cache::scopeFor(s.config().cache, tenant);
    tenant_ = tenant;
    if (method_ == "GET") return list(s, queryParam(q, "q"), queryParam(q, "limit"));
    if (!key_.empty()) {
      if (!hexPrefix(key_, 64) || key_.size() != 64)
        return s.respondError(invalidValue("key", "A cache key is 64 lower-case hex characters."));
      return removeOne(s);
    }
    removeMany(s, queryParam(q, "model"), queryParam(q, "prefix"));
  }

 private:
  void list(Session& s, const std::string& search, const std::string& limitText) {
    int64_t limit = MAX_LISTED;
    if (!limitText.empty()) {
      limit = 0;
      for (char ch : limitText) limit = ch >= '0' && ch <= '9' && limit < 1000 ? limit * 10 + (ch - '0') : -1;
      if (limit < 1 || limit > MAX_LISTED)
        return s.respondError(invalidValue("limit", "limit must be between 1 and 50."));
    }
    std::string sql =
        "SELECT key, model, provider, upstream_model, preview, hits, tokens_saved, usd_saved_pico, cost_usd_pico, "
        "prompt_tokens, completion_tokens, created_at, expires_at, last_hit_at FROM cache_entries "
        "WHERE scope = ? AND expires_at > ?";
    std::string params;
    json::Writer w(params);
    w.beginArray().string(scope_).integer(s.nowMs());
    if (!search.empty()) {
      sql += " AND (preview LIKE ? ESCAPE '\\' OR model LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\')";
      const std::string pattern = containing(search.substr(0, 200));
      w.string(pattern).string(pattern).string(pattern);
    }
    w.integer(limit).endArray();
    sql += " ORDER BY hits DESC, created_at DESC LIMIT ?";
    std::string totalsParams;
    json::Writer(totalsParams).beginArray().integer(s.nowMs()).string(scope_).endArray();
    auto done = join(2, [this](Session& s, bool failed) {
      if (failed) return s.respondError(storeUnavailable());
      respondList(s);
    });
    s.d1(sql, params, [this, done](Session& s, const EffectResult& r) {
      entries_ = std::string(r.data);
      arrive(done)(s, r);
    });
    s.d1("SELECT COUNT(*) AS entries, SUM(CASE WHEN expires_at > ? THEN 1 ELSE 0 END) AS live, SUM(hits) AS hits, "
         "SUM(tokens_saved) AS tokens_saved, SUM(usd_saved_pico) AS usd_saved_pico FROM cache_entries WHERE scope = ?",
         totalsParams, [this, done](Session& s, const EffectResult& r) {
           totals_ = std::string(r.data);
           arrive(done)(s, r);
         });
  }

  void respondList(Session& s) {
    json::Tape rows, totals;
    uint32_t list = 0, sums = 0;
    if (!rows.parse(entries_) || (list = rows.find(rows.root(), "rows")) == 0 || rows.kind(list) != Kind::Array ||
        !totals.parse(totals_) || (sums = totals.find(totals.root(), "rows")) == 0 || totals.firstChild(sums) == 0)
      return s.respondError(storeUnavailable());
    const uint32_t sum = totals.firstChild(sums);
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").field("tenantId", tenant_).field("scope", scope_);
    w.key("totals").beginObject().field("entries", totals.integerAt(sum, "entries", 0));
    w.field("live_entries", totals.integerAt(sum, "live", 0)).field("hits", totals.integerAt(sum, "hits", 0));
    w.field("tokens_saved", totals.integerAt(sum, "tokens_saved", 0));
    w.key("usd_saved").raw(formatPico(totals.integerAt(sum, "usd_saved_pico", 0))).endObject();
    w.key("data").beginArray();
    for (uint32_t row = rows.firstChild(list); row != 0; row = rows.nextSibling(list, row)) {
      w.beginObject().field("key", rows.stringAt(row, "key")).field("model", rows.stringAt(row, "model"));
      w.field("provider", rows.stringAt(row, "provider")).field("upstream_model", rows.stringAt(row, "upstream_model"));
      w.field("prompt_preview", rows.stringAt(row, "preview")).field("hits", rows.integerAt(row, "hits", 0));
      w.field("tokens_saved", rows.integerAt(row, "tokens_saved", 0));
      w.key("usd_saved").raw(formatPico(rows.integerAt(row, "usd_saved_pico", 0)));
      w.key("original_cost_usd").raw(formatPico(rows.integerAt(row, "cost_usd_pico", 0)));
      w.field("prompt_tokens", rows.integerAt(row, "prompt_tokens", 0));
      w.field("completion_tokens", rows.integerAt(row, "completion_tokens", 0));
      w.field("ttl_seconds", std::max<int64_t>(0, (rows.integerAt(row, "expires_at", 0) - s.nowMs()) / 1000));
      w.field("created_at", rows.integerAt(row, "created_at", 0));
      const int64_t lastHit = rows.integerAt(row, "last_hit_at", -1);
      if (lastHit < 0) w.key("last_hit_at").null();
      else w.field("last_hit_at", lastHit);
      w.endObject();
    }
    w.endArray().endObject();
    s.respondJson(200, body);
  }

  void removeOne(Session& s) {
    std::string params;
    json::Writer(params).beginArray().string(scope_).string(key_).endArray();
    auto done = join(2, [this](Session& s, bool failed) {
      if (failed) return s.respondError(storeUnavailable());
      if (deleted_ == 0)
        return s.respondError(notFoundError("No cache entry '" + key_ + "' in this tenant's cache.", "key",
                                            "cache_entry_not_found"));
      std::string body;
      json::Writer(body).beginObject().field("object", "cache_entry.deleted").field("key", key_).field("deleted", true).endObject();
      s.respondJson(200, body);
    });
    cache::forget(s.state(), cache::storageKey(scope_, key_));
    s.kvDelete(cache::storageKey(scope_, key_), arrive(done));
    s.d1("DELETE FROM cache_entries WHERE scope = ? AND key = ?", params, [this, done](Session& s, const EffectResult& r) {
      json::Tape t;
      if (r.ok && t.parse(r.data)) deleted_ = t.integerAt(t.root(), "changes", 0);
      arrive(done)(s, r);
    });
  }

  // Finds the keys (a KV listing by key prefix, or the statistics rows for
  // a model), deletes their entries, then their rows.
  void removeMany(Session& s, const std::string& model, const std::string& prefix) {
    if (!prefix.empty() && !hexPrefix(prefix, 64))
      return s.respondError(invalidValue("prefix", "prefix is the start of a cache key: lower-case hex characters."));
    if (!model.empty() && !prefix.empty())
      return s.respondError(invalidValue("prefix", "Give either model or prefix, not both."));
    model_ = model;
    prefix_ = prefix;
    if (model.empty()) {
      return s.kvList(cache::storageKey(scope_, prefix), MAX_DELETED, [this](Session& s, const EffectResult& r) {
        std::vector<std::string> names;
        if (!listedNames(r, names)) return s.respondError(serverError(503, "KV could not list the cache.",
                                                                      "service_unavailable", "kv_unavailable"));
        complete_ = names.size() < static_cast<size_t>(MAX_DELETED);
        std::vector<std::string> keys;
        for (const auto& n : names) keys.push_back(n.substr(n.rfind(':') + 1));
        deleteKeys(s, keys);
      });
    }
    std::string params;
    json::Writer(params).beginArray().string(scope_).string(model).integer(MAX_DELETED).endArray();
    s.d1("SELECT key FROM cache_entries WHERE scope = ? AND model = ? LIMIT ?", params,
         [this](Session& s, const EffectResult& r) {
           json::Tape t;
           uint32_t rows = 0;
           if (!r.ok || !t.parse(r.data) || (rows = t.find(t.root(), "rows")) == 0) return s.respondError(storeUnavailable());
           std::vector<std::string> keys;
           for (uint32_t row = t.firstChild(rows); row != 0; row = t.nextSibling(rows, row)) keys.push_back(t.stringAt(row, "key"));
           complete_ = keys.size() < static_cast<size_t>(MAX_DELETED);
           deleteKeys(s, keys);
         });
  }

  void deleteKeys(Session& s, const std::vector<std::string>& keys) {
    deleted_ = static_cast<int64_t>(keys.size());
    std::string sql = "DELETE FROM cache_entries WHERE scope = ?", params;
    json::Writer w(params);
    w.beginArray().string(scope_);
    if (!model_.empty()) {
      sql += " AND model = ? AND key IN (SELECT key FROM cache_entries WHERE scope = ? AND model = ? LIMIT ?)";
      w.string(model_).string(scope_).string(model_).integer(MAX_DELETED);
    } else if (!prefix_.empty()) {
      sql += " AND key LIKE ?";
      w.string(prefix_ + "%");
    }
    w.endArray();
    auto done = join(static_cast<int>(keys.size()) + 1, [this](Session& s, bool failed) {
      if (failed) return s.respondError(serverError(503, "Some cache entries could not be deleted; try again.",
                                                    "service_unavailable", "cache_delete_failed"));
      std::string body;
      json::Writer w(body);
      w.beginObject().field("object", "cache.deleted").field("scope", scope_).field("deleted", deleted_);
      w.field("complete", complete_).endObject();
      s.respondJson(200, body);
    });
    for (const auto& k : keys) {
      cache::forget(s.state(), cache::storageKey(scope_, k));
      s.kvDelete(cache::storageKey(scope_, k), arrive(done));
    }
    s.d1(sql, params, arrive(done));
  }

  std::string method_, key_, tenant_, scope_, model_, prefix_, entries_, totals_;
  int64_t deleted_ = 0;
  bool complete_ = true;
};

}  // namespace

std::unique_ptr<Handler> cacheAdmin(std::string method, std::string key) {
  return std::make_unique<CacheAdmin>(std::move(method), std::move(key));
}

}  // namespace gw::handlers
