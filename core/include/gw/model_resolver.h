#pragma once
// Turns the model a client names into a target: a registry row (by id or
// alias), or `<provider>/<name>` on a self-hosted provider, which takes any
// model at no cost. Unknown names get a 404 naming the closest matches.
#include <string>
#include <string_view>
#include <vector>

#include "gw/api_error.h"
#include "gw/config.h"

namespace gw {

struct Target {
  const ModelConfig* model = nullptr;  // null for unregistered self-hosted or allowed unknown models
  const ProviderConfig* provider = nullptr;
  std::string upstream;
  Price price;  // known for registry rows and self-hosted providers
  // The tenant's own key for the provider (the vault), when the call uses it;
  // points into the session's Principal::tenantKeys.
  const vault::StoredKey* tenantKey = nullptr;
};

ApiError resolveModel(const Config& c, std::string_view name, ModelKind kind, Target& out);

// Up to three enabled model ids (of `kind`) that look like `name`.
std::vector<std::string> closeMatches(const Config& c, std::string_view name, ModelKind kind);

}  // namespace gw
