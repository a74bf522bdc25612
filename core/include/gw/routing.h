#pragma once
// Routing policies: given the targets a request may go to (a fallback chain
// or every model that can serve it), order them — first the one to try, then
// the fallbacks. Pure and deterministic given the session's random draw and
// the instance's counters, so every decision can be replayed and logged.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/random.h"

namespace gw {

enum class RoutePolicy { Ordered, Preference, Cost, Latency, Quality, RoundRobin, Weighted };

bool parseRoutePolicy(std::string_view name, RoutePolicy& out);
const char* routePolicyName(RoutePolicy p);

struct RouteCandidate {
  std::string id;               // "provider/upstream-model"
  bool healthy = true;          // its breaker admits a call
  bool capable = true;          // has what the request needs (tools, images, context)
  int64_t estimatedPico = 0;    // this request's estimated cost there (10^-12 USD)
  double latencyEwmaMs = 0;     // 0: no data yet
  double ttftEwmaMs = 0;
  double quality = 0;           // higher is better
  int64_t weight = 1;           // for `weighted`; 0 never picked first
};

struct RouteDecision {
  std::vector<size_t> order;  // indexes into the candidates, best first
  std::string reason;         // for the log and x-aigw-route
};

// Orders the capable candidates: healthy ones first, by the policy, then the
// unhealthy ones (tried only when nothing else is left, in chain order).
// `preferred` names the user's saved choice (Preference); `roundRobin` is the
// instance's counter for this route (RoundRobin), advanced by the caller.
RouteDecision route(RoutePolicy policy, const std::vector<RouteCandidate>& candidates, std::string_view preferred,
                    uint64_t roundRobin, Random& random);

}  // namespace gw
