// The provider catalog and the model registry: their rows as the config
// document has them, checked field by field, and the environment's
// per-provider variables (<ID>_BASE_URL, <ID>_API_VERSION, the key's presence).
#include "layers.h"

namespace gw {

namespace config {

namespace {

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
  v.string(quirks, "usage_under", q, pc.quirks.usageUnder, false);
  v.string(quirks, "cached_tokens_field", q, pc.quirks.cachedTokensField, false);
  v.string(quirks, "error_message_field", q, pc.quirks.errorMessageField, false);
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

}  // namespace

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
  v.boolean(row, "responses_api", p, pc.responsesApi);
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
      for (uint32_t b = 1; b <= CAP_STRUCTURED_OUTPUTS; b <<= 1)
        if (cap.isString() && cap.tape().stringEquals(cap.node(), capabilityNames(b)[0])) bit = b;
      if (bit == 0)
        return v.fail(p + ".capabilities",
                      "expected values among \"vision\", \"tools\", \"json\", \"streaming\", \"embeddings\", "
                      "\"reasoning\", \"structured_outputs\"");
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

void applyProviderEnvironment(const Environment& env, Config& c, Validator& v) {
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
    if (auto stored = env.gatewayKeys.find(p.id); stored != env.gatewayKeys.end() && p.authStyle != AuthStyle::None)
      p.vaultSealed = stored->second.sealed;
  }
}


}  // namespace config

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
      {CAP_EMBEDDINGS, "embeddings"}, {CAP_REASONING, "reasoning"},
      {CAP_STRUCTURED_OUTPUTS, "structured_outputs"}};
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

}  // namespace gw
