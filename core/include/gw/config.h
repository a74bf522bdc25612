#pragma once
// Gateway configuration: the bundled JSON, overridden by environment variables
// (and later by a KV override document). Loading validates everything and
// names the offending field, so a bad config becomes a clear error response
// instead of a crash loop.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gw/status.h"

namespace gw {

enum class AuthStyle { Bearer, Header, None };

struct ProviderConfig {
  std::string id;
  std::string format = "openai_chat";  // wire format implementing this provider
  std::string baseUrl;
  std::string apiKeySecret;  // name of the secret the host injects, e.g. OPENAI_API_KEY
  AuthStyle authStyle = AuthStyle::Bearer;
  std::string authHeader;  // for AuthStyle::Header
  bool keyPresent = false;         // the secret exists in the host (value never seen)
  bool baseUrlOverridden = false;  // <ID>_BASE_URL set: self-hosted, may need no key
  bool builtinDemo = false;        // answered inside the core, no upstream
  int64_t timeoutMs = 0;           // 0: use the gateway default
  // Usable without falling back to the demo upstream.
  bool configured() const { return builtinDemo || keyPresent || baseUrlOverridden || authStyle == AuthStyle::None; }
};

struct ModelConfig {
  std::string id;
  std::vector<std::string> aliases;
  std::string provider;
  std::string upstream;  // the name the provider knows it by
  std::string maxTokensParam = "max_tokens";
  bool enabled = true;
  int64_t created = 0;
};

enum class DemoMode { Auto, Off };

struct Config {
  int64_t requestTimeoutMs = 30000;
  int maxRetries = 2;
  int64_t retryBaseMs = 1000;
  int64_t retryMaxMs = 8000;
  int64_t maxBodyBytes = 1 << 20;
  int64_t maxUpstreamBodyBytes = 32 << 20;
  int64_t defaultMaxTokens = 2000;
  int64_t configRefreshMs = 30000;
  std::string defaultModel = "gpt-3.5-turbo";
  std::string defaultProvider = "openai";
  bool allowUnknownModels = true;
  DemoMode demoMode = DemoMode::Auto;
  std::vector<ProviderConfig> providers;
  std::vector<ModelConfig> models;

  const ProviderConfig* provider(std::string_view id) const;
  // Exact id first, then aliases; "default" names defaultModel.
  const ModelConfig* model(std::string_view name) const;
};

// Environment as the host hands it over: plain variables with values, and
// only the *names* of the secrets that are set.
struct Environment {
  std::map<std::string, std::string, std::less<>> vars;
  std::set<std::string, std::less<>> secrets;
};

// Variable and secret names the config reads, for the host to collect.
struct EnvNames {
  std::vector<std::string> vars;
  std::vector<std::string> secrets;
};

// "azure-openai" -> "AZURE_OPENAI"
std::string envPrefix(std::string_view providerId);

Result<EnvNames> configEnvNames(std::string_view bundledJson);
Result<Config> loadConfig(std::string_view bundledJson, std::string_view overrideJson, const Environment& env);
Result<Environment> parseEnvironment(std::string_view json);

}  // namespace gw
