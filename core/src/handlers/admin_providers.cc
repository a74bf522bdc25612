// Providers, for the operator (ADMIN_API_KEY only: the catalog is shared by
// every tenant):
//   GET   /api/v1/ai/admin/providers              each provider: config, health, breakers
//   PATCH /api/v1/ai/admin/providers/:id          {enabled?, name?, base_url?, timeout_ms?,
//                                                  first_byte_timeout_ms?, stream_idle_timeout_ms?}
//   POST  /api/v1/ai/admin/providers/:id/toggle   flips enabled
// Changes are written into the KV config override (config:override), after
// the whole config with the change has been validated; this instance applies
// them at once, the others at their next config refresh.
#include "admin_common.h"
#include "config_override.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr const char* ROOT_ONLY = "Providers are shared by every tenant: only ADMIN_API_KEY may manage them.";

const ProviderConfig* findProvider(Session& s, const std::string& id) {
  return s.state().config ? s.state().config->provider(id) : nullptr;
}

class ListProviders : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = rootOnly(s, ROOT_ONLY)) return s.respondError(e);
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").key("data").beginArray();
    for (const auto& p : s.config().providers) writeProviderState(w, p, s.state(), s.nowMs(), ProviderView::Admin);
    w.endArray().endObject();
    s.respondJson(200, body, {{"cache-control", "no-store"}});
  }
};

// The patch's fields, checked one by one so errors name them.
ApiError checkPatch(const json::Tape& t) {
  for (uint32_t k = t.firstChild(t.root()); k != 0; k = t.nextSibling(t.root(), k + 1)) {
    const std::string name = t.string(k);
    const uint32_t v = k + 1;
    int64_t n = 0;
    if (name == "enabled") {
      if (t.kind(v) != Kind::True && t.kind(v) != Kind::False) return invalidType(name, "a boolean", "another type");
    } else if (name == "name") {
      if (t.kind(v) != Kind::String || t.rawString(v).empty() || t.rawString(v).size() > 100)
        return invalidValue(name, "name must be a string of 1 to 100 characters.");
    } else if (name == "base_url") {
      const std::string url = t.kind(v) == Kind::String ? t.string(v) : std::string();
      if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
        return invalidValue(name, "base_url must be an http:// or https:// URL.");
    } else if (name == "timeout_ms" || name == "first_byte_timeout_ms" || name == "stream_idle_timeout_ms") {
      if (t.kind(v) != Kind::Number || !t.isInteger(v, &n) || n < 0 || n > 600000)
        return invalidValue(name, name + " must be an integer between 0 and 600000.");
    } else {
      return invalidRequest("Unknown field '" + name.substr(0, 60) +
                                "'. Known: enabled, name, base_url, timeout_ms, first_byte_timeout_ms, "
                                "stream_idle_timeout_ms.",
                            name, "unknown_parameter");
    }
  }
  return {};
}

class PatchProvider : public Handler {
 public:
  PatchProvider(std::string id, bool toggle) : id_(std::move(id)), toggle_(toggle) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = rootOnly(s, ROOT_ONLY)) return s.respondError(e);
    const ProviderConfig* p = findProvider(s, id_);
    if (p == nullptr) return s.respondError(notFoundError("No provider '" + id_.substr(0, 60) + "'.", "id", "provider_not_found"));
    patchText_ = toggle_ ? std::string(p->enabled ? R"({"enabled":false})" : R"({"enabled":true})") : s.body();
    if (ApiError e = parseObject(patchText_, patch_)) return s.respondError(e);
    if (ApiError e = checkPatch(patch_)) return s.respondError(e);
    changeOverride(
        s,
        [this](std::string_view current) { return mergeOverrideRow(current, "providers", id_, patch_); },
        [this](Session& s) {
          std::string body;
          json::Writer w(body);
          if (const ProviderConfig* p = findProvider(s, id_)) writeProviderState(w, *p, s.state(), s.nowMs(), ProviderView::Admin);
          s.respondJson(200, body);
        });
  }

 private:
  std::string id_;
  bool toggle_;
  std::string patchText_;
  json::Tape patch_;
};

}  // namespace

std::unique_ptr<Handler> listProviders() { return std::make_unique<ListProviders>(); }
std::unique_ptr<Handler> patchProvider(std::string id, bool toggle) {
  return std::make_unique<PatchProvider>(std::move(id), toggle);
}

}  // namespace gw::handlers
