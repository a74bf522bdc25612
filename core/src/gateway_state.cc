#include "gw/gateway_state.h"

namespace gw {

Status GatewayState::rebuild(std::string_view overrideJson) {
  Result<Config> loaded = loadConfig(bundledConfig, overrideJson, env);
  if (!loaded.ok()) {
    if (!overrideJson.empty() && config) {
      // A bad override must not take serving down: keep the last good config.
      return Status::failure("config override ignored: " + loaded.status().message);
    }
    configStatus = loaded.status();
    config.reset();
    return configStatus;
  }
  overrideConfig = std::string(overrideJson);
  config = std::make_shared<const Config>(std::move(loaded.value()));
  configStatus = Status::success();
  return configStatus;
}

bool GatewayState::refreshDue(int64_t nowMs) const {
  if (refreshInFlight || !config) return false;
  if (lastRefreshMs < 0) return true;
  return nowMs - lastRefreshMs >= config->configRefreshMs;
}

void GatewayState::recordAttempt(const std::string& provider, int64_t nowMs, int status, bool success,
                                 double latencyMs, std::string_view error) {
  ProviderStats& s = providerStats[provider];
  ++s.requests;
  s.lastStatus = status;
  if (success) {
    s.consecutiveFailures = 0;
    s.lastSuccessMs = nowMs;
    s.latencyEwmaMs = s.latencyEwmaMs == 0 ? latencyMs : 0.8 * s.latencyEwmaMs + 0.2 * latencyMs;
  } else {
    ++s.failures;
    ++s.consecutiveFailures;
    s.lastFailureMs = nowMs;
    s.lastError = std::string(error.substr(0, 300));
  }
}

}  // namespace gw
