#pragma once
// Reserve-and-settle for one metered request. Before the upstream call the
// worst case (tokens, USD, BRL) is reserved in the tenant's ledger; when the
// response or stream ends it is settled to the actual, and on failure or a
// client abort it is released. The ledger's answer also gives the
// x-ratelimit-* headers OpenAI clients read, sent on every response, and a
// Server-Timing header with what authentication and the ledger took.
#include <cstdint>
#include <string>

#include "gw/api_error.h"
#include "gw/http.h"
#include "gw/move_function.h"
#include "gw/pricing.h"

namespace gw {

class Session;

struct Worst {
  int64_t tokens = 0;  // prompt estimate + max output: what the TPM limit holds
  Cost cost;           // priced at an upper bound of the prompt (one token per byte)
};

// Worst case for a prompt of `promptBytes` over `messages` messages with up
// to `maxOutput` output tokens at `price`.
Worst worstCase(const Price& price, size_t promptBytes, size_t messages, int64_t maxOutput, int64_t usdBrlRateMicro);

class Meter {
 public:
  using Admitted = MoveFunction<void(Session&, const ApiError&)>;

  // Calls `done` with no error once reserved, or with the 429/503/401 to send.
  // The session's request record, as it stands, is the row the request
  // leaves should it never end.
  void reserve(Session& s, const Worst& worst, Admitted done);
  // Charges what was used, never more than was reserved: usage beyond the
  // hold (a provider that ignored max_tokens) is counted as overshoot in
  // the instance's state instead, so limits and budgets are never passed.
  // Returns the tokens beyond the hold (0 when none).
  int64_t settle(Session& s, int64_t tokens, const Cost& actual);
  void release(Session& s);
  bool holding() const { return holding_; }
  // What admission waited for, in ms (-1: not metered): the key and
  // snapshot lookups, and the ledger's reserve call.
  int64_t authMs() const { return authMs_; }
  int64_t ledgerMs() const { return ledgerMs_; }
  // x-ratelimit-*, server-timing (and retry-after after a denial).
  void addHeaders(Headers& h) const;

 private:
  bool holding_ = false;
  std::string scope_;  // Principal::ledgerScope(), computed once when credit leases are on
  std::string lease_;  // the lease it was admitted against ("" for a ledger hold)
  Worst held_;
  bool hasRequests_ = false, hasTokens_ = false;
  int64_t limitRequests_ = 0, remainingRequests_ = 0, resetRequestsMs_ = 0;
  int64_t limitTokens_ = 0, remainingTokens_ = 0, resetTokensMs_ = 0;
  int64_t retryAfterMs_ = -1;
  int64_t authMs_ = -1, ledgerMs_ = -1;  // host clock: in workerd it advances with I/O only
};

// OpenAI's reset format: "20ms", "1s", "6m0s".
std::string formatReset(int64_t ms);

}  // namespace gw
