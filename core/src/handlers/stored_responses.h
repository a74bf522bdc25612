#pragma once
// Where stored responses (POST /v1/responses with `store`) live: KV, one
// entry per response under its tenant, so another tenant's id is not found.
#include <string>
#include <string_view>

namespace gw::handlers {

inline std::string tenantKey(std::string_view prefix, std::string_view tenant, std::string_view id) {
  std::string key(prefix);
  key += tenant;
  key += ':';
  key += id;
  return key;
}

inline std::string storedResponseKey(std::string_view tenant, std::string_view id) { return tenantKey("resp:", tenant, id); }

// Which stored response has an output item a provider named itself (its
// own ids do not name their response, as the gateway's do).
inline std::string storedItemKey(std::string_view tenant, std::string_view itemId) {
  return tenantKey("ritem:", tenant, itemId);
}

}  // namespace gw::handlers
