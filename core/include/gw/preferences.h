#pragma once
// Users' saved model choices, one per context ("default", "code", ...),
// kept in D1 (table user_preferences, migrations/). The `preference`
// routing policy puts the caller's saved target first; this instance keeps
// a short-lived copy so routing by preference costs no D1 read per request.
#include <cstdint>
#include "gw/move_function.h"
#include <string>
#include <string_view>

#include "gw/api_error.h"
#include "gw/model_resolver.h"
#include "gw/session.h"

namespace gw::preferences {

constexpr std::string_view DEFAULT_CONTEXT = "default";
// The request header naming the context a chat request routes in.
constexpr std::string_view CONTEXT_HEADER = "x-aigw-context";
// How long an instance trusts its copy; a change made through it applies at once.
constexpr int64_t CACHE_MS = 30000;
constexpr size_t CACHE_LIMIT = 10000;

// 1-64 characters of [A-Za-z0-9._:-].
bool validContext(std::string_view context);
// The 400 for a context that is not valid, naming where it came from.
ApiError invalidContext(std::string param);
std::string cacheKey(std::string_view tenant, std::string_view user, std::string_view context);

// The model a saved or proposed (provider, model) pair stands for: a registry
// row served by that provider, or a model on a self-hosted provider. Errors
// name `provider` or `model`.
ApiError resolve(const Config& c, std::string_view provider, std::string_view model, Target& out);

// The caller's choice for `context`: this instance's copy when fresh, else
// one D1 read. `then` gets nullptr when nothing is saved, and also when D1
// cannot answer (routing goes on by order rather than failing the request).
void load(Session& s, const std::string& tenant, const std::string& user, const std::string& context,
          MoveFunction<void(Session&, const CachedPreference*)> then);
// Replaces this instance's copy (after a PUT or DELETE through it); an
// empty provider records "none saved".
void remember(GatewayState& st, const std::string& key, std::string provider, std::string model, int64_t nowMs);
// Drops this instance's copies of one user's choices (after DELETE of all).
void forgetUser(GatewayState& st, std::string_view tenant, std::string_view user);
// Counts one request routed by the saved choice (usage_count, last_used_at),
// after the response.
void noteUsed(Session& s, const std::string& tenant, const std::string& user, const std::string& context);

}  // namespace gw::preferences
