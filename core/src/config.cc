#include "gw/config.h"

#include <cmath>
#include <cstdlib>

#include "gw/nlohmann.h"
#include "gw/pricing.h"

namespace gw {

namespace {

using Json = nlohmann::json;

// Collects the first validation failure with the path of the field at fault.
struct Validator {
  Status status;
  bool ok() const { return status.ok; }
  void fail(const std::string& path, const std::string& what) {
    if (status.ok) status = Status::failure(path + ": " + what);
  }

  void integer(const Json& obj, const char* key, const std::string& path, int64_t& out, int64_t min, int64_t max) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_number_integer()) return fail(path + "." + key, "expected an integer");
    int64_t v = it->get<int64_t>();
    if (v < min || v > max)
      return fail(path + "." + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = v;
  }
  void string(const Json& obj, const char* key, const std::string& path, std::string& out, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(path + "." + key, "is required");
      return;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty())
      return fail(path + "." + key, "expected a non-empty string");
    out = it->get<std::string>();
  }
  // A non-negative decimal with at most 6 fractional digits, as millionths.
  void micros(const Json& obj, const char* key, const std::string& path, int64_t& out, double max) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_number()) return fail(path + "." + key, "expected a number");
    double v = it->get<double>();
    if (!(v >= 0) || v > max) return fail(path + "." + key, "must be between 0 and " + std::to_string(static_cast<int64_t>(max)));
    out = std::llround(v * 1e6);
  }
  void strings(const Json& obj, const char* key, const std::string& path, std::vector<std::string>& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_array()) return fail(path + "." + key, "expected an array of strings");
    for (const auto& e : *it) {
      if (!e.is_string()) return fail(path + "." + key, "expected an array of strings");
      out.push_back(e.get<std::string>());
    }
  }
  void boolean(const Json& obj, const char* key, const std::string& path, bool& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_boolean()) return fail(path + "." + key, "expected true or false");
    out = it->get<bool>();
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

// Overrides merge into the bundled document: objects key by key, and the
// providers/models arrays row by row (matched on "id"), so an override can add
// or change one model without restating the catalog.
void mergeRows(Json& base, const Json& patch) {
  for (const auto& row : patch) {
    if (!row.is_object() || !row.contains("id")) {
      base.push_back(row);  // validation names it later
      continue;
    }
    bool merged = false;
    for (auto& existing : base) {
      if (existing.is_object() && existing.contains("id") && existing["id"] == row["id"]) {
        existing.merge_patch(row);
        merged = true;
        break;
      }
    }
    if (!merged) base.push_back(row);
  }
}

Status applyOverride(Json& doc, std::string_view overrideJson) {
  if (overrideJson.empty()) return Status::success();
  Json patch = Json::parse(overrideJson.begin(), overrideJson.end(), nullptr, false);
  if (patch.is_discarded() || !patch.is_object()) return Status::failure("override: expected a JSON object");
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if ((it.key() == "providers" || it.key() == "models") && it.value().is_array() && doc[it.key()].is_array()) {
      mergeRows(doc[it.key()], it.value());
    } else if (it.key() == "gateway" && it.value().is_object() && doc["gateway"].is_object()) {
      doc["gateway"].merge_patch(it.value());
    } else {
      doc[it.key()] = it.value();
    }
  }
  return Status::success();
}

void readGateway(const Json& g, Config& c, Validator& v) {
  const std::string p = "gateway";
  if (!g.is_object()) return v.fail(p, "expected an object");
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

void readQuirks(const Json& row, const std::string& p, ProviderConfig& pc, Validator& v) {
  auto it = row.find("quirks");
  if (it == row.end()) return;
  const std::string q = p + ".quirks";
  if (!it->is_object()) return v.fail(q, "expected an object");
  v.strings(*it, "drop", q, pc.quirks.drop);
  v.boolean(*it, "stream_usage", q, pc.quirks.streamUsage);
  auto rename = it->find("rename");
  if (rename == it->end()) return;
  if (!rename->is_object()) return v.fail(q + ".rename", "expected an object of field: new name");
  for (auto r = rename->begin(); r != rename->end(); ++r) {
    if (!r.value().is_string() || r.value().get_ref<const std::string&>().empty())
      return v.fail(q + ".rename." + r.key(), "expected a non-empty string");
    if (r.key() == "model" || r.key() == "messages" || r.key() == "stream")
      return v.fail(q + ".rename." + r.key(), "this field cannot be renamed");
    pc.quirks.rename.emplace_back(r.key(), r.value().get<std::string>());
  }
}

void readProvider(const Json& row, size_t index, Config& c, Validator& v) {
  const std::string p = "providers[" + std::to_string(index) + "]";
  if (!row.is_object()) return v.fail(p, "expected an object");
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
  auto headers = row.find("headers");
  if (headers != row.end()) {
    if (!headers->is_object()) return v.fail(p + ".headers", "expected an object of header: value");
    for (auto h = headers->begin(); h != headers->end(); ++h) {
      if (!h.value().is_string()) return v.fail(p + ".headers." + h.key(), "expected a string");
      pc.headers.emplace_back(h.key(), h.value().get<std::string>());
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

void readModel(const Json& row, size_t index, Config& c, Validator& v) {
  const std::string p = "models[" + std::to_string(index) + "]";
  if (!row.is_object()) return v.fail(p, "expected an object");
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
  auto price = row.find("price");
  if (price != row.end()) {
    if (!price->is_object()) return v.fail(p + ".price", "expected an object of USD per 1M tokens");
    v.micros(*price, "input", p + ".price", m.price.input, 1000);
    v.micros(*price, "output", p + ".price", m.price.output, 1000);
    m.price.cachedInput = m.price.input;
    v.micros(*price, "cached_input", p + ".price", m.price.cachedInput, 1000);
    v.micros(*price, "cache_write", p + ".price", m.price.cacheWrite, 1000);
    m.price.known = price->contains("input");
    if (!m.price.known) return v.fail(p + ".price.input", "is required");
  }
  auto caps = row.find("capabilities");
  if (caps != row.end()) {
    if (!caps->is_array()) return v.fail(p + ".capabilities", "expected an array of strings");
    m.capabilities = 0;
    for (const auto& cap : *caps) {
      uint32_t bit = 0;
      for (uint32_t b = 1; b <= CAP_EMBEDDINGS; b <<= 1)
        if (cap.is_string() && capabilityNames(b)[0] == cap.get_ref<const std::string&>()) bit = b;
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
  auto aliases = row.find("aliases");
  if (aliases != row.end()) {
    if (!aliases->is_array()) return v.fail(p + ".aliases", "expected an array of strings");
    for (const auto& a : *aliases) {
      if (!a.is_string()) return v.fail(p + ".aliases", "expected an array of strings");
      m.aliases.push_back(a.get<std::string>());
    }
  }
  auto fallbacks = row.find("fallbacks");
  if (fallbacks != row.end()) {
    if (!fallbacks->is_array() || fallbacks->size() > 8)
      return v.fail(p + ".fallbacks", "expected an array of at most 8 model names");
    for (const auto& f : *fallbacks) {
      if (!f.is_string() || f.get_ref<const std::string&>().empty())
        return v.fail(p + ".fallbacks", "expected an array of model names");
      m.fallbacks.push_back(f.get<std::string>());
    }
  }
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
  auto enabled = env.vars.find("ENABLE_AI_GATEWAY");
  if (enabled != env.vars.end() && !enabled->second.empty()) {
    if (enabled->second == "false" || enabled->second == "0") c.access.servingEnabled = false;
    else if (enabled->second == "true" || enabled->second == "1") c.access.servingEnabled = true;
    else v.fail("ENABLE_AI_GATEWAY", "expected true or false, got '" + enabled->second + "'");
  }
  auto admin = env.digests.find("ADMIN_API_KEY");
  if (admin != env.digests.end()) c.access.adminKeyDigest = admin->second;
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
  Json doc = Json::parse(bundledJson.begin(), bundledJson.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::failure("config: not a JSON object");
  EnvNames names;
  names.vars = {"AI_GATEWAY_REQUEST_TIMEOUT", "AI_GATEWAY_MAX_RETRIES",   "AI_GATEWAY_RETRY_BASE_MS",
                "AI_GATEWAY_RETRY_MAX_MS",    "AI_GATEWAY_MAX_BODY_BYTES", "AI_GATEWAY_CONFIG_REFRESH_MS",
                "AI_GATEWAY_DEMO",            "OPENAI_MODEL",              "OPENAI_MAX_TOKENS",
                "USD_BRL_RATE",               "ENABLE_AI_GATEWAY",         "AI_QUOTA_DAILY_LIMIT",
                "AI_QUOTA_MONTHLY_LIMIT",     "AI_QUOTA_MONTHLY_SPEND_LIMIT", "AI_RATE_LIMIT_RPM",
                "AI_RATE_LIMIT_TPM",          "AI_KEY_CACHE_MS",           "AI_SNAPSHOT_CACHE_MS",
                "AI_GATEWAY_BREAKER_FAILURES", "AI_GATEWAY_BREAKER_OPEN_MS", "AI_GATEWAY_FIRST_BYTE_TIMEOUT",
                "AI_GATEWAY_STREAM_IDLE_TIMEOUT"};
  names.digests = {"ADMIN_API_KEY"};
  auto providers = doc.find("providers");
  if (providers != doc.end() && providers->is_array()) {
    for (const auto& row : *providers) {
      if (!row.is_object()) continue;
      auto id = row.find("id");
      if (id == row.end() || !id->is_string()) continue;
      std::string prefix = envPrefix(id->get_ref<const std::string&>());
      names.vars.push_back(prefix + "_BASE_URL");
      if (row.contains("api_version")) names.vars.push_back(prefix + "_API_VERSION");
      auto keyEnv = row.find("api_key_env");
      names.secrets.push_back(keyEnv != row.end() && keyEnv->is_string() ? keyEnv->get<std::string>()
                                                                         : prefix + "_API_KEY");
    }
  }
  return names;
}

Result<Config> loadConfig(std::string_view bundledJson, std::string_view overrideJson, const Environment& env) {
  Json doc = Json::parse(bundledJson.begin(), bundledJson.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::failure("config: not a JSON object");
  if (Status st = applyOverride(doc, overrideJson); !st) return st;

  Config c;
  Validator v;
  auto gateway = doc.find("gateway");
  if (gateway != doc.end()) readGateway(*gateway, c, v);
  auto providers = doc.find("providers");
  if (providers == doc.end() || !providers->is_array() || providers->empty())
    v.fail("providers", "expected a non-empty array");
  else
    for (size_t i = 0; i < providers->size() && v.ok(); ++i) readProvider((*providers)[i], i, c, v);
  auto models = doc.find("models");
  if (models != doc.end()) {
    if (!models->is_array()) v.fail("models", "expected an array");
    else
      for (size_t i = 0; i < models->size() && v.ok(); ++i) readModel((*models)[i], i, c, v);
  }
  // Fallbacks name registered models of the same kind (checked once all are read).
  for (size_t i = 0; i < c.models.size() && v.ok(); ++i)
    for (size_t j = 0; j < c.models[i].fallbacks.size() && v.ok(); ++j) {
      const ModelConfig* f = c.model(c.models[i].fallbacks[j]);
      if (f == nullptr || f->kind != c.models[i].kind || f == &c.models[i])
        v.fail("models[" + std::to_string(i) + "].fallbacks[" + std::to_string(j) + "]",
               "'" + c.models[i].fallbacks[j] + "' is not another registered model of the same kind");
    }
  if (v.ok()) applyEnvironment(env, c, v);
  if (v.ok() && c.provider(c.defaultProvider) == nullptr)
    v.fail("gateway.default_provider", "unknown provider '" + c.defaultProvider + "'");
  if (v.ok() && c.retryMaxMs < c.retryBaseMs) v.fail("gateway.retry_max_ms", "must be >= retry_base_ms");
  if (!v.ok()) return v.status;
  return c;
}

Result<Environment> parseEnvironment(std::string_view text) {
  Environment env;
  if (text.empty()) return env;
  Json doc = Json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Status::failure("environment: not a JSON object");
  auto vars = doc.find("vars");
  if (vars != doc.end() && vars->is_object())
    for (auto it = vars->begin(); it != vars->end(); ++it)
      if (it.value().is_string()) env.vars.emplace(it.key(), it.value().get<std::string>());
  auto secrets = doc.find("secrets");
  if (secrets != doc.end() && secrets->is_array())
    for (const auto& s : *secrets)
      if (s.is_string()) env.secrets.insert(s.get<std::string>());
  auto digests = doc.find("digests");
  if (digests != doc.end() && digests->is_object())
    for (auto it = digests->begin(); it != digests->end(); ++it)
      if (it.value().is_string()) env.digests.emplace(it.key(), it.value().get<std::string>());
  return env;
}

}  // namespace gw
