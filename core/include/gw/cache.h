#pragma once
// The response cache's pure parts: the key (SHA-256 over a canonical JSON
// document of what decides the answer), the stored entry, and whether a
// request may use the cache. The pipeline performs the KV reads and writes.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/completion.h"
#include "gw/config.h"
#include "gw/json_tape.h"
#include "gw/pricing.h"

namespace gw::cache {

// Canonical JSON of one value: object members sorted by key (bytewise, on
// the decoded key), strings re-escaped from their decoded value, one number
// form (integers as integers, 1.0 == 1 == 1e0, others in the shortest %g that
// reads back the same), no
// insignificant whitespace.
void canonicalJson(const json::Tape& t, uint32_t node, std::string& out);

// Request fields that never change the answer, left out of the key: the
// model name (the resolved target stands for it), the gateway's `models`,
// the stream flag and its options, and bookkeeping (user, metadata, ...).
bool ignoredField(std::string_view name);

// What a request's answer depends on.
struct KeyInput {
  std::string_view scope;     // the tenant, or SHARED_SCOPE
  std::string_view provider;  // the resolved target
  std::string_view upstreamModel;
  std::string_view endpoint;  // "chat"
  const json::Tape* request = nullptr;  // the OpenAI-shaped request body
};
constexpr std::string_view SHARED_SCOPE = "_shared";

// The canonical document the key hashes, and the key (lower-case hex SHA-256).
std::string keyDocument(const KeyInput& in);
std::string key(const KeyInput& in);
// Where an entry lives in KV: "cache:<scope>:<key>".
std::string storageKey(std::string_view scope, std::string_view key);
constexpr std::string_view STORAGE_PREFIX = "cache:";
// The scope a tenant's requests use: its own, or the shared one if it opted in.
std::string scopeFor(const CacheConfig& c, std::string_view tenant);

// What a request does with the cache.
enum class Mode {
  Use,     // read, and store a miss
  Refresh, // Cache-Control: no-cache: do not read, store the fresh answer
  Bypass,  // neither (disabled, no-store, useCache false, n > 1, ...)
};
struct Decision {
  Mode mode = Mode::Bypass;
  int64_t ttlSeconds = 0;
  std::string reason;  // why Bypass, for the log
};
// `cacheControl` and `ttlHeader` are the request's headers; `useCache` the
// generate API's flag. An invalid x-aigw-cache-ttl is an error naming it.
ApiError decide(const CacheConfig& c, const json::Tape& request, std::string_view cacheControl,
                std::string_view ttlHeader, bool useCache, Decision& out);

// A stored answer, kept in the internal (OpenAI) model so it can be served
// to any dialect, streamed or not.
struct Entry {
  std::string key;
  std::string scope;
  std::string model;  // as the first client named it
  std::string provider;
  std::string upstreamModel;
  int64_t createdMs = 0;
  int64_t expiresMs = 0;
  Usage usage;
  Cost cost;  // what the original call cost (what a hit saves)
  std::string preview;  // the start of the last user message
  Completion completion;
};
constexpr size_t PREVIEW_CHARS = 200;

std::string encodeEntry(const Entry& e);
// False for anything that is not an entry of this version stored under
// `expectedKey` (corrupted, foreign, or another key's): a miss.
bool decodeEntry(std::string_view text, std::string_view expectedKey, Entry& out);

constexpr size_t MEMORY_BYTES = 4 << 20;
constexpr int64_t HIT_FLUSH_MS = 1000;

}  // namespace gw::cache
