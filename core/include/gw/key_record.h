#pragma once
// A virtual API key as stored in KV under key:<sha256 of the key>. The key
// itself is never stored; `prefix` (its first characters) lets people tell
// their keys apart in listings.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/json_writer.h"
#include "gw/limits.h"

namespace gw::access {

constexpr std::string_view KEY_PREFIX = "aigw_sk_";

struct KeyRecord {
  std::string id;
  std::string digest;  // SHA-256 hex of the key
  std::string prefix;
  std::string name;
  std::string tenantId;
  std::string userId;   // empty: a tenant service key (x-aigw-user picks the user)
  std::string agentId;  // empty: any agent
  bool admin = false;
  std::vector<std::string> models;
  QuotaLimits limits;
  int64_t expiresAtMs = -1;
  int64_t createdAtMs = 0;
  int64_t revokedAtMs = -1;
};

bool parseKeyRecord(std::string_view text, KeyRecord& out);
std::string writeKeyRecord(const KeyRecord& k);
// The client-facing view (never the key or its digest).
void writeKeyApi(json::Writer& w, const KeyRecord& k);

// KV names.
std::string keyByDigest(std::string_view digest);                       // key:<digest>
std::string keyById(std::string_view tenant, std::string_view id);      // keys:<tenant>:<id>
std::string keysOfTenant(std::string_view tenant);                      // keys:<tenant>:
std::string keyTenantIndex(std::string_view id);                        // keyid:<id> -> tenant
std::string tenantRecord(std::string_view tenant);                      // tenant:<id>
std::string ledgerSnapshot(std::string_view tenant);                    // ledger:<id>

// Tenant, user and agent ids: 1-64 of [A-Za-z0-9._@-] (":" separates KV names).
bool validId(std::string_view id);
// The 400 for an id that is not valid, naming `param`.
ApiError invalidId(std::string param);

}  // namespace gw::access
