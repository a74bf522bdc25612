#include "gw/gateway_state.h"

#include "gw/json_tape.h"

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
  install(std::string(overrideJson), std::move(loaded.value()));
  return configStatus;
}

void GatewayState::install(std::string overrideJson, Config loaded) {
  overrideConfig = std::move(overrideJson);
  config = std::make_shared<const Config>(std::move(loaded));
  configStatus = Status::success();
}

void GatewayState::setGatewayKeys(std::string doc) {
  vault::Keys keys;
  if (!vault::parse(doc, keys)) keys.clear();
  env.gatewayKeys = std::move(keys);
  gatewayVaultDoc = std::move(doc);
}

std::shared_ptr<const vault::Keys> GatewayState::cacheTenantKeys(std::string_view tenant, vault::Keys keys,
                                                                   int64_t nowMs) {
  constexpr size_t MAX_CACHED_VAULTS = 1024;
  if (tenantVaults.size() >= MAX_CACHED_VAULTS && tenantVaults.find(tenant) == tenantVaults.end()) tenantVaults.clear();
  CachedVault& entry = tenantVaults[std::string(tenant)];
  entry.keys = std::make_shared<const vault::Keys>(std::move(keys));
  entry.fetchedMs = nowMs;
  return entry.keys;
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
    addSample(s.latencyEwmaMs, latencyMs);
  } else {
    ++s.failures;
    ++s.consecutiveFailures;
    s.lastFailureMs = nowMs;
    s.lastError = std::string(error.substr(0, 300));
  }
}

}  // namespace gw

namespace gw {

void GatewayState::noteLedgerResult(std::string_view tenant, std::string_view result, int64_t nowMs) {
  // Most answers carry no snapshot: skip the parse unless the member is there.
  if (result.find("\"snapshot\":") == std::string_view::npos) return;
  json::Tape t;
  if (!t.parse(result) || t.kind(t.root()) != json::Kind::Object) return;
  const uint32_t snapshot = t.find(t.root(), "snapshot");
  if (snapshot == 0 || t.kind(snapshot) != json::Kind::Object) return;
  cacheSnapshot(tenant, t.raw(snapshot), nowMs);
}

const std::string& GatewayState::cacheSnapshot(std::string_view tenant, std::string_view text, int64_t nowMs) {
  constexpr size_t MAX_CACHED_SNAPSHOTS = 1024;
  auto it = snapshotCache.find(tenant);
  if (it == snapshotCache.end()) {
    if (snapshotCache.size() >= MAX_CACHED_SNAPSHOTS) snapshotCache.clear();
    it = snapshotCache.emplace(std::string(tenant), CachedSnapshot{}).first;
  }
  it->second = CachedSnapshot{std::string(text), nowMs};
  return it->second.text;
}

}  // namespace gw
