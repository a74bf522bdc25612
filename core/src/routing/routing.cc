#include "gw/routing.h"
#include "gw/stable_sort.h"

#include <algorithm>

namespace gw {

namespace {

struct Named {
  RoutePolicy policy;
  const char* name;
};

constexpr Named POLICIES[] = {
    {RoutePolicy::Ordered, "ordered"},     {RoutePolicy::Preference, "preference"},
    {RoutePolicy::Cost, "cost"},           {RoutePolicy::Latency, "latency"},
    {RoutePolicy::Quality, "quality"},     {RoutePolicy::RoundRobin, "round_robin"},
    {RoutePolicy::Weighted, "weighted"},
};

// Latency as the policy sees it: time to first token when known (what a
// streaming user waits for), else total latency; unmeasured targets rank
// after measured ones but before unhealthy ones.
double latencyKey(const RouteCandidate& c) {
  if (c.ttftEwmaMs > 0) return c.ttftEwmaMs;
  if (c.latencyEwmaMs > 0) return c.latencyEwmaMs;
  return 1e18;
}

}  // namespace

bool parseRoutePolicy(std::string_view name, RoutePolicy& out) {
  for (const auto& p : POLICIES)
    if (name == p.name) {
      out = p.policy;
      return true;
    }
  return false;
}

const char* routePolicyName(RoutePolicy p) {
  for (const auto& n : POLICIES)
    if (n.policy == p) return n.name;
  return "ordered";
}

RouteDecision route(RoutePolicy policy, const std::vector<RouteCandidate>& candidates, std::string_view preferred,
                    uint64_t roundRobin, Random& random) {
  RouteDecision d;
  std::vector<size_t> healthy, unhealthy;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!candidates[i].capable) continue;
    (candidates[i].healthy ? healthy : unhealthy).push_back(i);
  }
  // Stable sorts keep chain order among equals, so ties are deterministic.
  auto by = [&](auto key) {
    stableSort(healthy, [&](size_t a, size_t b) { return key(candidates[a]) < key(candidates[b]); });
  };
  switch (policy) {
    case RoutePolicy::Ordered:
      d.reason = "ordered";
      break;
    case RoutePolicy::Preference: {
      auto it = std::find_if(healthy.begin(), healthy.end(), [&](size_t i) { return candidates[i].id == preferred; });
      if (it != healthy.end()) std::rotate(healthy.begin(), it, it + 1);
      d.reason = it != healthy.end() ? "preference" : "preference unavailable, ordered";
      break;
    }
    case RoutePolicy::Cost:
      by([](const RouteCandidate& c) { return c.estimatedPico; });
      d.reason = "cost";
      break;
    case RoutePolicy::Latency:
      by(latencyKey);
      d.reason = "latency";
      break;
    case RoutePolicy::Quality:
      by([](const RouteCandidate& c) { return -c.quality; });
      d.reason = "quality";
      break;
    case RoutePolicy::RoundRobin:
      if (!healthy.empty())
        std::rotate(healthy.begin(), healthy.begin() + static_cast<std::ptrdiff_t>(roundRobin % healthy.size()),
                    healthy.end());
      d.reason = "round_robin";
      break;
    case RoutePolicy::Weighted: {
      int64_t total = 0;
      for (size_t i : healthy) total += std::max<int64_t>(candidates[i].weight, 0);
      if (total > 0) {
        // One draw picks the first target in proportion to its weight; the
        // rest keep chain order as fallbacks.
        auto pick = static_cast<int64_t>(random.upTo(static_cast<uint64_t>(total - 1)));
        for (auto it = healthy.begin(); it != healthy.end(); ++it) {
          pick -= std::max<int64_t>(candidates[*it].weight, 0);
          if (pick < 0) {
            std::rotate(healthy.begin(), it, it + 1);
            break;
          }
        }
      }
      d.reason = "weighted";
      break;
    }
  }
  d.order = std::move(healthy);
  d.order.insert(d.order.end(), unhealthy.begin(), unhealthy.end());
  return d;
}

}  // namespace gw
