// GET /api/v1/ai/models: the registry with capabilities, prices, availability
// (is the provider configured?) and a recommended flag. Filters:
// ?provider=, ?capability=, ?type=chat|embedding, ?available=true.
#include "gw/http.h"
#include "gw/json_writer.h"
#include "gw/pricing.h"
#include "handlers.h"
#include "wire/provider_fetch.h"

namespace gw::handlers {

namespace {

// USD per 1M tokens as a decimal string ("0.15").
std::string perMillion(int64_t micro) { return formatPico(micro * 1000000); }

}  // namespace

std::string providerNeeds(const ProviderConfig& p) {
  return p.requiresBaseUrl ? envPrefix(p.id) + "_BASE_URL" : p.apiKeySecret;
}

bool hasCapability(const ModelConfig& m, std::string_view name) {
  if (name.empty()) return true;
  for (auto cap : capabilityNames(m.capabilities))
    if (cap == name) return true;
  return false;
}

void writeModel(json::Writer& w, const ModelConfig& m, const ProviderConfig& p, bool admin, bool tenantKey) {
  const bool configured = tenantKey || p.configured();
  const bool isEmbedding = m.kind == ModelKind::Embedding;
  w.beginObject().field("id", m.id).field("object", "model").field("type", isEmbedding ? "embedding" : "chat");
  w.field("provider", m.provider).field("provider_name", p.name).field("upstream", m.upstream);
  w.key("aliases").strings(m.aliases).key("capabilities").beginArray();
  for (auto name : capabilityNames(m.capabilities)) w.string(name);
  w.endArray();
  // The admin view prices in the registry's own shape, so a row read can be written back.
  w.key(admin ? "price" : "pricing").beginObject();
  if (!admin) w.field("currency", "USD").field("unit", "1M tokens");
  w.key("input").raw(perMillion(m.price.input));
  if (!isEmbedding) w.key("output").raw(perMillion(m.price.output)).key("cached_input").raw(perMillion(m.price.cachedInput));
  if (m.price.cacheWrite > 0) w.key("cache_write").raw(perMillion(m.price.cacheWrite));
  w.endObject();
  w.field("context_window", m.contextWindow);
  if (isEmbedding) w.field("dimensions", m.dimensions);
  else w.field("max_output", m.maxOutput);
  w.field("quality", m.quality);
  // Available: calls reach the provider (or, for demo, the built-in upstream).
  w.field("available", configured);
  w.field("availability", configured ? "configured" : "needs " + providerNeeds(p));
  w.field("recommended", m.recommended && configured);
  w.field("created", m.created);
  if (admin) {
    w.field("enabled", m.enabled).field("provider_enabled", p.enabled).field("max_tokens_param", m.maxTokensParam);
    w.key("fallbacks").strings(m.fallbacks);
  }
  w.endObject();
}

namespace {

class ModelCatalog : public Handler {
 public:
  void start(Session& s) override {
    const Config& c = s.config();
    const std::string& q = s.request().query;
    const std::string provider = queryParam(q, "provider"), capability = queryParam(q, "capability"),
                      type = queryParam(q, "type"), available = queryParam(q, "available");
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").key("data").beginArray();
    for (const auto& m : c.models) {
      if (!m.enabled) continue;
      const ProviderConfig* p = c.provider(m.provider);
      if (p == nullptr || !p->enabled) continue;
      // The caller's tenant may have a key of its own for the provider.
      const bool tenantKey = tenantKeyFor(s, p->id) != nullptr;
      const bool configured = tenantKey || p->configured();
      const bool isEmbedding = m.kind == ModelKind::Embedding;
      if (!provider.empty() && provider != m.provider) continue;
      if (!type.empty() && type != (isEmbedding ? "embedding" : "chat")) continue;
      if (available == "true" && !configured) continue;
      if (!hasCapability(m, capability)) continue;

      writeModel(w, m, *p, false, tenantKey);
    }
    w.endArray().key("usd_brl_rate").raw(formatPico(c.usdBrlRateMicro * 1000000)).endObject();
    s.respondJson(200, body);
  }
};

}  // namespace

std::unique_ptr<Handler> modelCatalog() { return std::make_unique<ModelCatalog>(); }

}  // namespace gw::handlers
