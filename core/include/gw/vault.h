#pragma once
// Provider keys that admins enter (README: Provider keys): the host seals
// each one (AES-256-GCM under a fresh data key, the data key wrapped by
// GATEWAY_ENCRYPTION_KEY) and the core keeps the sealed text in KV, one
// document per scope: the gateway's, and each tenant's. The core stores,
// lists and picks sealed keys; it never sees one opened.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace gw::vault {

struct StoredKey {
  std::string sealed;  // the host's sealed envelope, opaque to the core
  std::string keyId;   // the master key it is wrapped under (GATEWAY_ENCRYPTION_KEY's id)
  std::string hint;    // the key's last four characters
  std::string setBy;   // the virtual key id that set it, or "admin" (ADMIN_API_KEY)
  int64_t setAtMs = 0;
  // A tenant's key only: when it is rate limited or the provider fails with
  // it, the gateway's own key may take the call. A refused key never does.
  bool allowGatewayFallback = false;
};
using Keys = std::map<std::string, StoredKey, std::less<>>;  // by provider id

constexpr std::string_view GATEWAY_DOC = "vault:gateway";
constexpr size_t MAX_KEY_CHARS = 1024;
// "vault:tenant:<id>"
std::string tenantDoc(std::string_view tenant);
// A stored document's keys; false when it is not one (an empty text is none).
bool parse(std::string_view doc, Keys& out);
// A KV read of a document (`found`, and `failure`: KV's error, empty when
// the key is simply not there) into `out`; false when KV failed or the
// value is not a vault document.
inline bool parseRead(bool found, std::string_view failure, std::string_view data, Keys& out) {
  out.clear();
  if (!found) return failure.empty();
  return parse(data, out);
}
std::string write(const Keys& keys);
// What the host binds a sealed key to (its AES-GCM additional data), so a
// sealed key copied into another tenant's or provider's place does not open.
std::string context(std::string_view tenant, std::string_view provider);
// "…" and the last four characters (fewer for a short key).
std::string hint(std::string_view key);
// A key as a provider would take it: printable ASCII, no spaces, at most MAX_KEY_CHARS.
bool wellFormed(std::string_view key);

// Which key served a call, for usage rows and log lines.
constexpr std::string_view SOURCE_TENANT = "tenant";    // the tenant's own, from the vault
constexpr std::string_view SOURCE_GATEWAY = "gateway";  // the gateway's, from the vault
constexpr std::string_view SOURCE_ENV = "env";          // the gateway's, from the environment (a secret)
constexpr std::string_view SOURCE_NONE = "none";        // none: the demo, a keyless local server

}  // namespace gw::vault
