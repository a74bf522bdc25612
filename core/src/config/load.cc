// Loading the config: the bundled document with the KV override merged
// over it, the environment over both, and the override's word last.
#include "layers.h"

namespace gw {

using namespace config;

int logLevelOf(std::string_view name) {
  static constexpr std::string_view LEVELS[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; ++i)
    if (name == LEVELS[i]) return i;
  return -1;
}

Result<EnvNames> configEnvNames(std::string_view bundledJson) {
  Tape doc;
  if (!doc.parse(bundledJson) || doc.kind(doc.root()) != Kind::Object) return Status::failure("config: not a JSON object");
  EnvNames names;
  config::settingEnvNames(names);
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
  if (gateway.present()) readSettings(gateway, c, v);
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
  if (v.ok()) {
    applySettingEnvironment(env, c, v);
    applySettingSecrets(env, c);
    if (v.ok()) applyProviderEnvironment(env, c, v);
  }
  // What the admin API stored wins over the environment: it is the later word.
  if (v.ok() && patched) {
    const uint32_t g = patch.find(patch.root(), "gateway");
    if (g != 0 && patch.kind(g) == Kind::Object) readSettings(View(&patch, g), c, v);
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
  for (auto [key, into] : {std::pair{"secrets", &env.secrets}, std::pair{"bindings", &env.bindings}}) {
    const uint32_t list = doc.find(doc.root(), key);
    if (list != 0 && doc.kind(list) == Kind::Array)
      for (uint32_t e = doc.firstChild(list); e != 0; e = doc.nextSibling(list, e))
        if (doc.kind(e) == Kind::String) into->insert(doc.string(e));
  }
  if (const uint32_t ids = doc.find(doc.root(), "vault_key_ids"); ids != 0 && doc.kind(ids) == Kind::Array)
    for (uint32_t e = doc.firstChild(ids); e != 0; e = doc.nextSibling(ids, e))
      if (doc.kind(e) == Kind::String) env.vaultKeyIds.push_back(doc.string(e));
  return env;
}

}  // namespace gw
