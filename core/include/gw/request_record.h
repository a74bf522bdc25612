#pragma once
// What one request did. Its handler fills the record as the request goes;
// the session writes it once, when the request ends (Session::finish): the
// hold charged or given back, the log line, the usage row. In the manner
// of Proxy-Wasm's on_done, then on_log.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/meter.h"
#include "gw/pricing.h"
#include "gw/usage.h"

namespace gw {

// An upstream attempt that did not answer, for the log line and the 502
// that names them all.
struct FailedAttempt {
  std::string target, status, message;
  int64_t atMs = -1;  // when it ended, ms after the request began
};

struct RequestRecord {
  std::string model;           // as the client named it
  std::string provider;        // "demo" when the demo answered
  std::string upstreamModel;
  bool stream = false;
  // Known usage is charged (at most what was held); unknown gives the hold back.
  Usage usage;
  Cost cost;                   // zero, priced, for a cache hit
  int64_t ttftMs = -1;         // streams: until the first bytes went to the client
  const char* cacheStatus = "BYPASS";  // x-aigw-cache
  std::string cacheBypass;     // why the cache was not used, when it was asked to be
  std::string route;           // x-aigw-route: the policy and the chain
  int attempts = 0;            // upstream calls made
  std::string_view keySource;  // whose key the last call carried (vault::SOURCE_*); empty: no call
  std::vector<FailedAttempt> failedAttempts;
  std::string metadata;        // x-aigw-metadata as stored (gw/metadata.h); empty: none
  std::string_view prompt;     // the last user message (logged with LOG_PROMPTS); the handler owns it
  Meter meter;                 // the request's hold in the tenant's ledger
  // The request log's bodies (R2), when the tenant stores them and the
  // request did not opt out: what the client was sent, up to the body limit;
  // a handler that reassembles a stream puts the whole answer in its place.
  bool storeBody = false;
  std::string responseBody;
  bool responseReassembled = false;
  bool responseTruncated = false;
  std::string bodyKey;         // where it was stored
};

}  // namespace gw
