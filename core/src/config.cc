#include "gw/config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "gw/json_tape.h"
#include "gw/pricing.h"

namespace gw {

namespace {

using json::Kind;
using json::Tape;

// A config value seen through its layers: the bundled document, then the KV
// override merged over it the way RFC 7386 merge patch would (objects member
// by member, anything else replaced, null deleted), without building a
// merged document.
class View {
 public:
  View() = default;
  View(const Tape* t, uint32_t node) { add(t, node); }

  void add(const Tape* t, uint32_t node) {
    const Kind k = t->kind(node);
    if (k == Kind::Null) {
      layers_.clear();
      return;
    }
    if (k != Kind::Object || (!layers_.empty() && kind() != Kind::Object)) layers_.clear();
    layers_.push_back({t, node});
  }
  bool present() const { return !layers_.empty(); }
  // Scalars and arrays: the last layer alone.
  const Tape& tape() const { return *layers_.back().t; }
  uint32_t node() const { return layers_.back().node; }
  Kind kind() const { return tape().kind(node()); }
  bool isString() const { return present() && kind() == Kind::String; }
  std::string string() const { return tape().string(node()); }

  View member(std::string_view key) const {
    View out;
    for (const Layer& l : layers_)
      if (uint32_t v = l.t->find(l.node, key); v != 0) out.add(l.t, v);
    return out;
  }
  // An object's members in first-appearance order (deleted ones left out).
  std::vector<std::pair<std::string, View>> members() const {
    std::vector<std::pair<std::string, View>> out;
    for (const Layer& l : layers_)
      for (uint32_t k = l.t->firstChild(l.node); k != 0; k = l.t->nextSibling(l.node, k + 1)) {
        std::string key = l.t->string(k);
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& m) { return m.first == key; });
        if (it == out.end()) out.emplace_back(std::move(key), View(l.t, k + 1));
        else it->second.add(l.t, k + 1);
      }
    out.erase(std::remove_if(out.begin(), out.end(), [](const auto& m) { return !m.second.present(); }), out.end());
    return out;
  }
  // An array's elements.
  std::vector<View> elements() const {
    std::vector<View> out;
    for (uint32_t e = tape().firstChild(node()); e != 0; e = tape().nextSibling(node(), e)) out.emplace_back(&tape(), e);
    return out;
  }

 private:
  struct Layer {
    const Tape* t;
    uint32_t node;
  };
  std::vector<Layer> layers_;
};

// Collects the first validation failure with the path of the field at fault.
struct Validator {
  Status status;
  bool ok() const { return status.ok; }
  void fail(const std::string& path, const std::string& what) {
    if (status.ok) status = Status::failure(path + ": " + what);
  }

  void integer(const View& obj, const char* key, const std::string& path, int64_t& out, int64_t min, int64_t max) {
    View f = obj.member(key);
    if (!f.present()) return;
    int64_t v = 0;
    if (!f.tape().isInteger(f.node(), &v)) return fail(path + "." + key, "expected an integer");
    if (v < min || v > max)
      return fail(path + "." + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = v;
  }
  void string(const View& obj, const char* key, const std::string& path, std::string& out, bool required) {
    View f = obj.member(key);
    if (!f.present()) {
      if (required) fail(path + "." + key, "is required");
      return;
    }
    if (f.kind() != Kind::String || f.tape().rawString(f.node()).empty())
      return fail(path + "." + key, "expected a non-empty string");
    out = f.string();
  }
  // A non-negative decimal with at most 6 fractional digits, as millionths.
  void micros(const View& obj, const char* key, const std::string& path, int64_t& out, double max) {
    View f = obj.member(key);
    if (!f.present()) return;
    if (f.kind() != Kind::Number) return fail(path + "." + key, "expected a number");
    double v = f.tape().number(f.node());
    if (!(v >= 0) || v > max) return fail(path + "." + key, "must be between 0 and " + std::to_string(static_cast<int64_t>(max)));
    out = std::llround(v * 1e6);
  }
  // An array of strings (non-empty ones when `nonEmpty`), at most `max` long.
  void strings(const View& obj, const char* key, const std::string& path, std::vector<std::string>& out,
               const char* expected = "expected an array of strings", size_t max = SIZE_MAX, bool nonEmpty = false) {
    View f = obj.member(key);
    if (!f.present()) return;
    if (f.kind() != Kind::Array || f.tape().node(f.node()).count > max) return fail(path + "." + key, expected);
    for (const View& e : f.elements()) {
      if (!e.isString() || (nonEmpty && e.tape().rawString(e.node()).empty())) return fail(path + "." + key, expected);
      out.push_back(e.string());
    }
  }
  void boolean(const View& obj, const char* key, const std::string& path, bool& out) {
    View f = obj.member(key);
    if (!f.present()) return;
    if (f.kind() != Kind::True && f.kind() != Kind::False) return fail(path + "." + key, "expected true or false");
    out = f.kind() == Kind::True;
  }
};

bool parseEnvInteger(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > max) return false;
  out = v;
  return true;
}

bool validBaseUrl(const std::string& url) {
  return (url.rfind("https://", 0) == 0 && url.size() > 8) || (url.rfind("http://", 0) == 0 && url.size() > 7);
}

enum class Rows { Absent, NotArray, Read };

// The rows of the top-level array `key`: the bundled document's, with each
// override row merged into the bundled row of the same "id" or appended, so
// an override can add or change one model without restating the catalog.
// An override value that is not an array replaces the bundled one.
Rows readRows(const Tape& bundled, const Tape* patch, std::string_view key, std::vector<View>& rows) {
  const uint32_t b = bundled.find(bundled.root(), key);
  const uint32_t p = patch != nullptr ? patch->find(patch->root(), key) : 0;
  auto append = [&rows](const Tape& t, uint32_t array) {
    for (uint32_t e = t.firstChild(array); e != 0; e = t.nextSibling(array, e)) rows.emplace_back(&t, e);
  };
  if (p != 0 && (patch->kind(p) != Kind::Array || b == 0 || bundled.kind(b) != Kind::Array)) {
    if (patch->kind(p) == Kind::Null) return Rows::Absent;
    if (patch->kind(p) != Kind::Array) return Rows::NotArray;
    append(*patch, p);
    return Rows::Read;
  }
  if (b == 0) return Rows::Absent;
  if (bundled.kind(b) != Kind::Array) return Rows::NotArray;
  append(bundled, b);
  if (p == 0) return Rows::Read;
  for (uint32_t e = patch->firstChild(p); e != 0; e = patch->nextSibling(p, e)) {
    const uint32_t id = patch->kind(e) == Kind::Object ? patch->find(e, "id") : 0;
    auto same = std::find_if(rows.begin(), rows.end(), [&](const View& row) {
      if (id == 0 || row.kind() != Kind::Object) return false;
      View other = row.member("id");
      return other.present() && other.tape().raw(other.node()) == patch->raw(id);
    });
    if (same != rows.end()) same->add(patch, e);
    else rows.emplace_back(patch, e);
  }
  return Rows::Read;
}

void readGateway(const View& g, Config& c, Validator& v) {
  const std::string p = "gateway";
  if (g.kind() != Kind::Object) return v.fail(p, "expected an object");
  v.integer(g, "request_timeout_ms", p, c.requestTimeoutMs, 1, 600000);
  v.integer(g, "first_byte_timeout_ms", p, c.firstByteTimeoutMs, 0, 600000);
  v.integer(g, "stream_idle_timeout_ms", p, c.streamIdleTimeoutMs, 0, 600000);
  int64_t retries = c.maxRetries;
  v.integer(g, "max_retries", p, retries, 0, 10);
  c.maxRetries = static_cast<int>(retries);
  v.integer(g, "retry_base_ms", p, c.retryBaseMs, 0, 600000);
  v.integer(g, "retry_max_ms", p, c.retryMaxMs, 0, 600000);
  v.integer(g, "max_body_bytes", p, c.maxBodyBytes, 1024, 100 << 20);
  v.integer(g, "max_upstream_body_bytes", p, c.maxUpstreamBodyBytes, 1024, 100 << 20);
  v.integer(g, "default_max_tokens", p, c.defaultMaxTokens, 1, 10000000);
  v.integer(g, "config_refresh_ms", p, c.configRefreshMs, 0, 86400000);
  v.string(g, "default_model", p, c.defaultModel, false);
  v.string(g, "default_provider", p, c.defaultProvider, false);
  v.boolean(g, "allow_unknown_models", p, c.allowUnknownModels);
  v.micros(g, "usd_brl_rate", p, c.usdBrlRateMicro, 1000);
  AccessConfig& a = c.access;
  v.integer(g, "quota_daily_limit", p, a.userDefaults.dailyRequests, 0, 10000000000);
  v.integer(g, "quota_monthly_limit", p, a.userDefaults.monthlyRequests, 0, 10000000000);
  int64_t spendMicros = -1;
  v.micros(g, "quota_monthly_spend_limit", p, spendMicros, 1000000);
  if (spendMicros >= 0) a.userDefaults.monthlySpendPico = spendMicros * 1000000;
  v.integer(g, "rate_limit_rpm", p, a.keyDefaults.rpm, 0, 10000000);
  v.integer(g, "rate_limit_tpm", p, a.keyDefaults.tpm, 0, 1000000000000);
  v.integer(g, "key_cache_ms", p, a.keyCacheMs, 0, 3600000);
  int64_t failures = c.breaker.consecutiveFailures;
  v.integer(g, "breaker_failures", p, failures, 1, 1000);
  c.breaker.consecutiveFailures = static_cast<int>(failures);
  int64_t ratioPercent = static_cast<int64_t>(c.breaker.failureRatio * 100);
  v.integer(g, "breaker_failure_ratio_percent", p, ratioPercent, 1, 100);
  c.breaker.failureRatio = static_cast<double>(ratioPercent) / 100;
  v.integer(g, "breaker_window_ms", p, c.breaker.windowMs, 1000, 3600000);
  v.integer(g, "breaker_open_ms", p, c.breaker.openMs, 1000, 3600000);
  std::string policy;
  v.string(g, "routing_policy", p, policy, false);
  if (!policy.empty() && !parseRoutePolicy(policy, c.routePolicy))
    v.fail(p + ".routing_policy",
           "expected one of ordered, preference, cost, latency, quality, round_robin, weighted");
  v.integer(g, "snapshot_cache_ms", p, a.snapshotCacheMs, 0, 60000);
  v.boolean(g, "cache_enabled", p, c.cache.enabled);
  v.integer(g, "cache_ttl_seconds", p, c.cache.ttlSeconds, 60, 2592000);
  v.boolean(g, "cache_nonzero_temperature", p, c.cache.nonzeroTemperature);
  v.boolean(g, "cache_multiple_choices", p, c.cache.multipleChoices);
  v.integer(g, "cache_max_entry_bytes", p, c.cache.maxEntryBytes, 1024, 25 << 20);
  v.integer(g, "cache_memory_ms", p, c.cache.memoryMs, 0, 3600000);
  if (g.member("cache_shared_tenants").present()) c.cache.sharedTenants.clear();
  v.strings(g, "cache_shared_tenants", p, c.cache.sharedTenants, "expected an array of tenant ids", 1000, true);
  if (g.member("default_fallbacks").present()) c.defaultFallbacks.clear();
  v.strings(g, "default_fallbacks", p, c.defaultFallbacks, "expected an array of at most 8 model names", 8, true);
  v.integer(g, "alert_error_rate_percent", p, c.alerts.errorRatePercent, 1, 100);
  v.integer(g, "alert_latency_p95_ms", p, c.alerts.latencyP95Ms, 0, 600000);
  v.integer(g, "alert_window_minutes", p, c.alerts.windowMinutes, 5, 1440);
  v.integer(g, "alert_min_requests", p, c.alerts.minRequests, 1, 1000000);
  v.integer(g, "alert_repeat_minutes", p, c.alerts.repeatMinutes, 5, 10080);
  v.integer(g, "pricing_sync_hours", p, c.pricingSyncHours, 1, 720);
  std::string demo;
  v.string(g, "demo", p, demo, false);
  if (!demo.empty()) {
    if (demo == "auto") c.demoMode = DemoMode::Auto;
    else if (demo == "off") c.demoMode = DemoMode::Off;
    else v.fail(p + ".demo", "expected \"auto\" or \"off\"");
  }
}

bool parseFormat(const std::string& name, WireFormat& out) {
  for (WireFormat f : {WireFormat::OpenAiChat, WireFormat::AnthropicMessages, WireFormat::GeminiGenerate, WireFormat::Demo})
    if (name == wireFormatName(f)) {
      out = f;
      return true;
    }
  return false;
}

void readQuirks(const View& row, const std::string& p, ProviderConfig& pc, Validator& v) {
  View quirks = row.member("quirks");
  if (!quirks.present()) return;
  const std::string q = p + ".quirks";
  if (quirks.kind() != Kind::Object) return v.fail(q, "expected an object");
  v.strings(quirks, "drop", q, pc.quirks.drop);
  v.boolean(quirks, "stream_usage", q, pc.quirks.streamUsage);
  View rename = quirks.member("rename");
  if (!rename.present()) return;
  if (rename.kind() != Kind::Object) return v.fail(q + ".rename", "expected an object of field: new name");
  for (const auto& [field, to] : rename.members()) {
    if (!to.isString() || to.tape().rawString(to.node()).empty())
      return v.fail(q + ".rename." + field, "expected a non-empty string");
    if (field == "model" || field == "messages" || field == "stream")
      return v.fail(q + ".rename." + field, "this field cannot be renamed");
    pc.quirks.rename.emplace_back(field, to.string());
  }
}

void readProvider(const View& row, size_t index, Config& c, Validator& v) {
  const std::string p = "providers[" + std::to_string(index) + "]";
  if (row.kind() != Kind::Object) return v.fail(p, "expected an object");
  ProviderConfig pc;
  std::string format = "openai_chat";
  v.string(row, "id", p, pc.id, true);
  v.string(row, "format", p, format, false);
  v.boolean(row, "builtin", p, pc.builtinDemo);
  if (!v.ok()) return;
  pc.name = pc.id;
  v.string(row, "name", p, pc.name, false);
  if (!parseFormat(format, pc.format))
    return v.fail(p + ".format",
                  "unknown wire format '" + format + "'; expected openai_chat, anthropic_messages, gemini_generate or demo");
  if (pc.format == WireFormat::Demo) pc.builtinDemo = true;
  for (const auto& other : c.providers)
    if (other.id == pc.id) return v.fail(p + ".id", "duplicate provider id '" + pc.id + "'");
  v.boolean(row, "requires_base_url", p, pc.requiresBaseUrl);
  v.boolean(row, "self_hosted", p, pc.selfHosted);
  v.boolean(row, "enabled", p, pc.enabled);
  if (!pc.builtinDemo) {
    v.string(row, "base_url", p, pc.baseUrl, !pc.requiresBaseUrl);
    if (v.ok() && !pc.baseUrl.empty() && !validBaseUrl(pc.baseUrl))
      return v.fail(p + ".base_url", "expected an http(s) URL");
  }
  std::string auth = "bearer";
  v.string(row, "auth", p, auth, false);
  if (auth == "bearer") pc.authStyle = AuthStyle::Bearer;
  else if (auth == "none") pc.authStyle = AuthStyle::None;
  else if (auth == "header") pc.authStyle = AuthStyle::Header;
  else if (auth == "optional_bearer") pc.authStyle = AuthStyle::OptionalBearer;
  else return v.fail(p + ".auth", "expected \"bearer\", \"header\", \"optional_bearer\" or \"none\"");
  if (pc.authStyle == AuthStyle::Header) v.string(row, "auth_header", p, pc.authHeader, true);
  pc.apiKeySecret = envPrefix(pc.id) + "_API_KEY";
  v.string(row, "api_key_env", p, pc.apiKeySecret, false);
  v.integer(row, "timeout_ms", p, pc.timeoutMs, 0, 600000);
  v.integer(row, "first_byte_timeout_ms", p, pc.firstByteTimeoutMs, 0, 600000);
  v.integer(row, "stream_idle_timeout_ms", p, pc.streamIdleTimeoutMs, 0, 600000);
  View headers = row.member("headers");
  if (headers.present()) {
    if (headers.kind() != Kind::Object) return v.fail(p + ".headers", "expected an object of header: value");
    for (const auto& [name, value] : headers.members()) {
      if (!value.isString()) return v.fail(p + ".headers." + name, "expected a string");
      pc.headers.emplace_back(name, value.string());
    }
  }
  std::string urlStyle = "plain";
  v.string(row, "url_style", p, urlStyle, false);
  if (urlStyle == "azure_deployment") pc.urlStyle = UrlStyle::AzureDeployment;
  else if (urlStyle != "plain") return v.fail(p + ".url_style", "expected \"plain\" or \"azure_deployment\"");
  v.string(row, "api_version", p, pc.apiVersion, false);
  readQuirks(row, p, pc, v);
  if (pc.builtinDemo) pc.authStyle = AuthStyle::None;
  c.providers.push_back(std::move(pc));
}

void readModel(const View& row, size_t index, Config& c, Validator& v) {
  const std::string p = "models[" + std::to_string(index) + "]";
  if (row.kind() != Kind::Object) return v.fail(p, "expected an object");
  ModelConfig m;
  v.string(row, "id", p, m.id, true);
  v.string(row, "provider", p, m.provider, true);
  if (!v.ok()) return;
  m.upstream = m.id;
  v.string(row, "upstream", p, m.upstream, false);
  v.string(row, "max_tokens_param", p, m.maxTokensParam, false);
  v.boolean(row, "enabled", p, m.enabled);
  v.boolean(row, "recommended", p, m.recommended);
  v.integer(row, "created", p, m.created, 0, 4102444800);
  v.integer(row, "context_window", p, m.contextWindow, 0, 100000000);
  v.integer(row, "max_output", p, m.maxOutput, 0, 100000000);
  v.integer(row, "dimensions", p, m.dimensions, 0, 100000);
  v.integer(row, "quality", p, m.quality, 0, 100);
  std::string kind = "chat";
  v.string(row, "type", p, kind, false);
  if (kind == "embedding") m.kind = ModelKind::Embedding;
  else if (kind != "chat") return v.fail(p + ".type", "expected \"chat\" or \"embedding\"");
  View price = row.member("price");
  if (price.present()) {
    if (price.kind() != Kind::Object) return v.fail(p + ".price", "expected an object of USD per 1M tokens");
    v.micros(price, "input", p + ".price", m.price.input, 1000);
    v.micros(price, "output", p + ".price", m.price.output, 1000);
    m.price.cachedInput = m.price.input;
    v.micros(price, "cached_input", p + ".price", m.price.cachedInput, 1000);
    v.micros(price, "cache_write", p + ".price", m.price.cacheWrite, 1000);
    m.price.known = price.member("input").present();
    if (!m.price.known) return v.fail(p + ".price.input", "is required");
  }
  View caps = row.member("capabilities");
  if (caps.present()) {
    if (caps.kind() != Kind::Array) return v.fail(p + ".capabilities", "expected an array of strings");
    m.capabilities = 0;
    for (const View& cap : caps.elements()) {
      uint32_t bit = 0;
      for (uint32_t b = 1; b <= CAP_EMBEDDINGS; b <<= 1)
        if (cap.isString() && cap.tape().stringEquals(cap.node(), capabilityNames(b)[0])) bit = b;
      if (bit == 0)
        return v.fail(p + ".capabilities",
                      "expected values among \"vision\", \"tools\", \"json\", \"streaming\", \"embeddings\"");
      m.capabilities |= bit;
    }
  }
  if (!v.ok()) return;
  if (m.maxTokensParam != "max_tokens" && m.maxTokensParam != "max_completion_tokens")
    return v.fail(p + ".max_tokens_param", "expected \"max_tokens\" or \"max_completion_tokens\"");
  if (c.provider(m.provider) == nullptr) return v.fail(p + ".provider", "unknown provider '" + m.provider + "'");
  v.strings(row, "aliases", p, m.aliases);
  v.strings(row, "fallbacks", p, m.fallbacks, "expected an array of at most 8 model names", 8, true);
  if (!v.ok()) return;
  for (const auto& other : c.models)
    if (other.id == m.id) return v.fail(p + ".id", "duplicate model id '" + m.id + "'");
  c.models.push_back(std::move(m));
}

void applyEnvironment(const Environment& env, Config& c, Validator& v) {
  auto integer = [&](const char* name, int64_t min, int64_t max, int64_t& out) {
    auto it = env.vars.find(name);
    if (it == env.vars.end() || it->second.empty()) return;
    if (!parseEnvInteger(it->second, min, max, out))
      v.fail(name, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) + ", got '" +
                       it->second + "'");
  };
  integer("AI_GATEWAY_REQUEST_TIMEOUT", 1, 600000, c.requestTimeoutMs);
  integer("AI_GATEWAY_FIRST_BYTE_TIMEOUT", 0, 600000, c.firstByteTimeoutMs);
  integer("AI_GATEWAY_STREAM_IDLE_TIMEOUT", 0, 600000, c.streamIdleTimeoutMs);
  int64_t retries = c.maxRetries;
  integer("AI_GATEWAY_MAX_RETRIES", 0, 10, retries);
  c.maxRetries = static_cast<int>(retries);
  integer("AI_GATEWAY_RETRY_BASE_MS", 0, 600000, c.retryBaseMs);
  integer("AI_GATEWAY_RETRY_MAX_MS", 0, 600000, c.retryMaxMs);
  integer("AI_GATEWAY_MAX_BODY_BYTES", 1024, 100 << 20, c.maxBodyBytes);
  integer("AI_GATEWAY_CONFIG_REFRESH_MS", 0, 86400000, c.configRefreshMs);
  integer("OPENAI_MAX_TOKENS", 1, 10000000, c.defaultMaxTokens);
  auto rate = env.vars.find("USD_BRL_RATE");
  if (rate != env.vars.end() && !rate->second.empty() && !parseDecimalMicros(rate->second, c.usdBrlRateMicro))
    v.fail("USD_BRL_RATE", "expected a decimal number such as 5.40, got '" + rate->second + "'");
  integer("AI_QUOTA_DAILY_LIMIT", 0, 10000000000, c.access.userDefaults.dailyRequests);
  integer("AI_QUOTA_MONTHLY_LIMIT", 0, 10000000000, c.access.userDefaults.monthlyRequests);
  integer("AI_RATE_LIMIT_RPM", 0, 10000000, c.access.keyDefaults.rpm);
  integer("AI_RATE_LIMIT_TPM", 0, 1000000000000, c.access.keyDefaults.tpm);
  integer("AI_KEY_CACHE_MS", 0, 3600000, c.access.keyCacheMs);
  integer("AI_SNAPSHOT_CACHE_MS", 0, 60000, c.access.snapshotCacheMs);
  integer("AI_CACHE_TTL_SECONDS", 60, 2592000, c.cache.ttlSeconds);
  integer("AI_CACHE_MEMORY_MS", 0, 3600000, c.cache.memoryMs);
  integer("AI_ALERT_ERROR_RATE_PERCENT", 1, 100, c.alerts.errorRatePercent);
  integer("AI_ALERT_LATENCY_P95_MS", 0, 600000, c.alerts.latencyP95Ms);
  c.alerts.webhookSet = env.secrets.count("GATEWAY_ALERT_WEBHOOK_URL") > 0;
  if (auto url = env.vars.find("PRICING_URL"); url != env.vars.end() && !url->second.empty()) {
    if (!validBaseUrl(url->second)) return v.fail("PRICING_URL", "expected an http(s) URL");
    c.pricingUrl = url->second;
  }
  int64_t failures = c.breaker.consecutiveFailures;
  integer("AI_GATEWAY_BREAKER_FAILURES", 1, 1000, failures);
  c.breaker.consecutiveFailures = static_cast<int>(failures);
  integer("AI_GATEWAY_BREAKER_OPEN_MS", 1000, 3600000, c.breaker.openMs);
  auto spend = env.vars.find("AI_QUOTA_MONTHLY_SPEND_LIMIT");
  if (spend != env.vars.end() && !spend->second.empty()) {
    int64_t micros = 0;
    if (!parseDecimalMicros(spend->second, micros))
      v.fail("AI_QUOTA_MONTHLY_SPEND_LIMIT", "expected a USD amount such as 10.00, got '" + spend->second + "'");
    else c.access.userDefaults.monthlySpendPico = micros * 1000000;
  }
  auto level = env.vars.find("LOG_LEVEL");
  if (level != env.vars.end() && !level->second.empty()) {
    c.logLevel = logLevelOf(level->second);
    if (c.logLevel < 0) v.fail("LOG_LEVEL", "expected debug, info, warn or error, got '" + level->second + "'");
  }
  auto prompts = env.vars.find("LOG_PROMPTS");
  if (prompts != env.vars.end() && !prompts->second.empty()) {
    if (prompts->second == "true" || prompts->second == "1") c.logPrompts = true;
    else if (prompts->second == "false" || prompts->second == "0") c.logPrompts = false;
    else v.fail("LOG_PROMPTS", "expected true or false, got '" + prompts->second + "'");
  }
  auto cache = env.vars.find("AI_CACHE_ENABLED");
  if (cache != env.vars.end() && !cache->second.empty()) {
    if (cache->second == "false" || cache->second == "0") c.cache.enabled = false;
    else if (cache->second == "true" || cache->second == "1") c.cache.enabled = true;
    else v.fail("AI_CACHE_ENABLED", "expected true or false, got '" + cache->second + "'");
  }
  auto enabled = env.vars.find("ENABLE_AI_GATEWAY");
  if (enabled != env.vars.end() && !enabled->second.empty()) {
    if (enabled->second == "false" || enabled->second == "0") c.access.servingEnabled = false;
    else if (enabled->second == "true" || enabled->second == "1") c.access.servingEnabled = true;
    else v.fail("ENABLE_AI_GATEWAY", "expected true or false, got '" + enabled->second + "'");
  }
  auto admin = env.digests.find("ADMIN_API_KEY");
  if (admin != env.digests.end()) c.access.adminKeyDigest = admin->second;
  auto metrics = env.digests.find("METRICS_TOKEN");
  if (metrics != env.digests.end()) c.access.metricsTokenDigest = metrics->second;
  auto model = env.vars.find("OPENAI_MODEL");
  if (model != env.vars.end() && !model->second.empty()) c.defaultModel = model->second;
  auto demo = env.vars.find("AI_GATEWAY_DEMO");
  if (demo != env.vars.end() && !demo->second.empty()) {
    if (demo->second == "auto") c.demoMode = DemoMode::Auto;
    else if (demo->second == "off") c.demoMode = DemoMode::Off;
    else v.fail("AI_GATEWAY_DEMO", "expected \"auto\" or \"off\", got '" + demo->second + "'");
  }
  for (auto& p : c.providers) {
    if (p.builtinDemo) continue;
    auto base = env.vars.find(envPrefix(p.id) + "_BASE_URL");
    if (base != env.vars.end() && !base->second.empty()) {
      if (!validBaseUrl(base->second)) {
        v.fail(base->first, "expected an http(s) URL, got '" + base->second + "'");
        continue;
      }
      p.baseUrl = base->second;
      p.baseUrlOverridden = true;
    }
    auto version = env.vars.find(envPrefix(p.id) + "_API_VERSION");
    if (version != env.vars.end() && !version->second.empty() && !p.apiVersion.empty()) p.apiVersion = version->second;
    while (!p.baseUrl.empty() && p.baseUrl.back() == '/') p.baseUrl.pop_back();
    p.keyPresent = env.secrets.count(p.apiKeySecret) > 0;
  }
}

}  // namespace

int logLevelOf(std::string_view name) {
  static constexpr std::string_view LEVELS[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; ++i)
    if (name == LEVELS[i]) return i;
  return -1;
}

std::string envPrefix(std::string_view providerId) {
  std::string out;
  out.reserve(providerId.size());
  for (char ch : providerId) {
    if (ch >= 'a' && ch <= 'z') out.push_back(static_cast<char>(ch - 'a' + 'A'));
    else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) out.push_back(ch);
    else out.push_back('_');
  }
  return out;
}

const char* wireFormatName(WireFormat f) {
  switch (f) {
    case WireFormat::OpenAiChat: return "openai_chat";
    case WireFormat::AnthropicMessages: return "anthropic_messages";
    case WireFormat::GeminiGenerate: return "gemini_generate";
    case WireFormat::Demo: return "demo";
  }
  return "openai_chat";
}

std::vector<std::string_view> capabilityNames(uint32_t caps) {
  static constexpr std::pair<uint32_t, std::string_view> NAMES[] = {
      {CAP_VISION, "vision"}, {CAP_TOOLS, "tools"}, {CAP_JSON, "json"}, {CAP_STREAMING, "streaming"},
      {CAP_EMBEDDINGS, "embeddings"}};
  std::vector<std::string_view> out;
  for (const auto& [bit, name] : NAMES)
    if (caps & bit) out.push_back(name);
  return out;
}

const ProviderConfig* Config::provider(std::string_view id) const {
  for (const auto& p : providers)
    if (p.id == id) return &p;
  return nullptr;
}

const ModelConfig* Config::model(std::string_view name) const {
  if (name == "default") name = defaultModel;
  for (const auto& m : models)
    if (m.id == name) return &m;
  for (const auto& m : models)
    for (const auto& a : m.aliases)
      if (a == name) return &m;
  return nullptr;
}

Result<EnvNames> configEnvNames(std::string_view bundledJson) {
  Tape doc;
  if (!doc.parse(bundledJson) || doc.kind(doc.root()) != Kind::Object) return Status::failure("config: not a JSON object");
  EnvNames names;
  names.vars = {"AI_GATEWAY_REQUEST_TIMEOUT", "AI_GATEWAY_MAX_RETRIES",   "AI_GATEWAY_RETRY_BASE_MS",
                "AI_GATEWAY_RETRY_MAX_MS",    "AI_GATEWAY_MAX_BODY_BYTES", "AI_GATEWAY_CONFIG_REFRESH_MS",
                "AI_GATEWAY_DEMO",            "OPENAI_MODEL",              "OPENAI_MAX_TOKENS",
                "USD_BRL_RATE",               "ENABLE_AI_GATEWAY",         "AI_QUOTA_DAILY_LIMIT",
                "AI_QUOTA_MONTHLY_LIMIT",     "AI_QUOTA_MONTHLY_SPEND_LIMIT", "AI_RATE_LIMIT_RPM",
                "AI_RATE_LIMIT_TPM",          "AI_KEY_CACHE_MS",           "AI_SNAPSHOT_CACHE_MS",
                "AI_GATEWAY_BREAKER_FAILURES", "AI_GATEWAY_BREAKER_OPEN_MS", "AI_GATEWAY_FIRST_BYTE_TIMEOUT",
                "AI_GATEWAY_STREAM_IDLE_TIMEOUT", "AI_CACHE_TTL_SECONDS", "AI_CACHE_ENABLED", "AI_CACHE_MEMORY_MS",
                "LOG_LEVEL", "LOG_PROMPTS", "AI_ALERT_ERROR_RATE_PERCENT", "AI_ALERT_LATENCY_P95_MS", "PRICING_URL"};
  names.digests = {"ADMIN_API_KEY", "METRICS_TOKEN"};
  names.secrets = {"GATEWAY_ALERT_WEBHOOK_URL"};
  const uint32_t providers = doc.find(doc.root(), "providers");
  if (providers == 0 || doc.kind(providers) != Kind::Array) return names;
  for (uint32_t row = doc.firstChild(providers); row != 0; row = doc.nextSibling(providers, row)) {
    const uint32_t id = doc.kind(row) == Kind::Object ? doc.find(row, "id") : 0;
    if (id == 0 || doc.kind(id) != Kind::String) continue;
    std::string prefix = envPrefix(doc.string(id));
    names.vars.push_back(prefix + "_BASE_URL");
    if (doc.find(row, "api_version") != 0) names.vars.push_back(prefix + "_API_VERSION");
    const uint32_t keyEnv = doc.find(row, "api_key_env");
    names.secrets.push_back(keyEnv != 0 && doc.kind(keyEnv) == Kind::String ? doc.string(keyEnv) : prefix + "_API_KEY");
  }
  return names;
}

Result<Config> loadConfig(std::string_view bundledJson, std::string_view overrideJson, const Environment& env) {
  Tape bundled, patch;
  if (!bundled.parse(bundledJson) || bundled.kind(bundled.root()) != Kind::Object) return Status::failure("config: not a JSON object");
  const bool patched = !overrideJson.empty();
  if (patched && (!patch.parse(overrideJson) || patch.kind(patch.root()) != Kind::Object))
    return Status::failure("override: expected a JSON object");
  View doc(&bundled, bundled.root());
  if (patched) doc.add(&patch, patch.root());

  Config c;
  Validator v;
  View gateway = doc.member("gateway");
  if (gateway.present()) readGateway(gateway, c, v);
  std::vector<View> rows;
  Rows read = readRows(bundled, patched ? &patch : nullptr, "providers", rows);
  if (read != Rows::Read || rows.empty())
    v.fail("providers", "expected a non-empty array");
  else
    for (size_t i = 0; i < rows.size() && v.ok(); ++i) readProvider(rows[i], i, c, v);
  rows.clear();
  read = readRows(bundled, patched ? &patch : nullptr, "models", rows);
  if (read == Rows::NotArray) v.fail("models", "expected an array");
  for (size_t i = 0; i < rows.size() && v.ok(); ++i) readModel(rows[i], i, c, v);
  // Fallbacks name registered models of the same kind (checked once all are read).
  for (size_t i = 0; i < c.models.size() && v.ok(); ++i)
    for (size_t j = 0; j < c.models[i].fallbacks.size() && v.ok(); ++j) {
      const ModelConfig* f = c.model(c.models[i].fallbacks[j]);
      if (f == nullptr || f->kind != c.models[i].kind || f == &c.models[i])
        v.fail("models[" + std::to_string(i) + "].fallbacks[" + std::to_string(j) + "]",
               "'" + c.models[i].fallbacks[j] + "' is not another registered model of the same kind");
    }
  if (v.ok()) applyEnvironment(env, c, v);
  // What the admin API stored wins over the environment: it is the later word.
  if (v.ok() && patched) {
    const uint32_t g = patch.find(patch.root(), "gateway");
    if (g != 0 && patch.kind(g) == Kind::Object) readGateway(View(&patch, g), c, v);
    // A provider's base_url set through the admin API, over <ID>_BASE_URL
    // (validated with its row above).
    const uint32_t rows = patch.find(patch.root(), "providers");
    if (rows != 0 && patch.kind(rows) == Kind::Array)
      for (uint32_t e = patch.firstChild(rows); e != 0; e = patch.nextSibling(rows, e)) {
        const uint32_t url = patch.kind(e) == Kind::Object ? patch.find(e, "base_url") : 0;
        if (url == 0 || patch.kind(url) != Kind::String) continue;
        for (auto& pc : c.providers)
          if (pc.id == patch.stringAt(e, "id") && !pc.builtinDemo) {
            pc.baseUrl = patch.string(url);
            while (!pc.baseUrl.empty() && pc.baseUrl.back() == '/') pc.baseUrl.pop_back();
          }
      }
  }
  for (size_t j = 0; j < c.defaultFallbacks.size() && v.ok(); ++j) {
    const ModelConfig* f = c.model(c.defaultFallbacks[j]);
    if (f == nullptr || f->kind != ModelKind::Chat)
      v.fail("gateway.default_fallbacks[" + std::to_string(j) + "]",
             "'" + c.defaultFallbacks[j] + "' is not a registered chat model");
  }
  if (v.ok() && c.provider(c.defaultProvider) == nullptr)
    v.fail("gateway.default_provider", "unknown provider '" + c.defaultProvider + "'");
  if (v.ok() && c.retryMaxMs < c.retryBaseMs) v.fail("gateway.retry_max_ms", "must be >= retry_base_ms");
  if (!v.ok()) return v.status;
  return c;
}

Result<Environment> parseEnvironment(std::string_view text) {
  Environment env;
  if (text.empty()) return env;
  Tape doc;
  if (!doc.parse(text) || doc.kind(doc.root()) != Kind::Object) return Status::failure("environment: not a JSON object");
  auto strings = [&doc](const char* key, auto&& take) {
    const uint32_t obj = doc.find(doc.root(), key);
    if (obj == 0 || doc.kind(obj) != Kind::Object) return;
    for (uint32_t k = doc.firstChild(obj); k != 0; k = doc.nextSibling(obj, k + 1))
      if (doc.kind(k + 1) == Kind::String) take(doc.string(k), doc.string(k + 1));
  };
  strings("vars", [&env](std::string k, std::string v) { env.vars.emplace(std::move(k), std::move(v)); });
  strings("digests", [&env](std::string k, std::string v) { env.digests.emplace(std::move(k), std::move(v)); });
  const uint32_t secrets = doc.find(doc.root(), "secrets");
  if (secrets != 0 && doc.kind(secrets) == Kind::Array)
    for (uint32_t e = doc.firstChild(secrets); e != 0; e = doc.nextSibling(secrets, e))
      if (doc.kind(e) == Kind::String) env.secrets.insert(doc.string(e));
  return env;
}

}  // namespace gw
