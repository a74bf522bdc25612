#pragma once
// The KV config override (config:override) as the admin endpoints change
// it: read what is stored, apply one change, check that the whole config
// still loads, store it, and apply it in this instance at once. Other
// instances read it at their next refresh (gateway.config_refresh_ms).
#include <string>
#include <string_view>

#include "gw/json_tape.h"
#include "gw/move_function.h"
#include "gw/session.h"

namespace gw::handlers {

constexpr std::string_view CONFIG_OVERRIDE_KEY = "config:override";

// The next override document, from the stored one (empty: none).
using OverrideChange = MoveFunction<std::string(std::string_view current)>;
// Reads, changes, validates and stores the override, then applies it here.
// `done` gets the failure: a 400 naming the field at fault when the change
// would make the config invalid, a 503 when KV failed; empty once it is live.
void storeOverride(Session& s, OverrideChange change, MoveFunction<void(Session&, const ApiError& failure)> done);
// The same for an endpoint: a failure is its answer, else `done` answers.
void changeOverride(Session& s, OverrideChange change, MoveFunction<void(Session&)> done);

// The document with the object `patch` merged member by member into the row
// of array `rowsKey` ("providers", "models") whose id is `id`, appended when
// there is none. Other rows and members are kept; a null member removes what
// the override said (merge patch), so the bundled value applies again.
std::string mergeOverrideRow(std::string_view current, std::string_view rowsKey, const std::string& id,
                             const json::Tape& patch);
// The same for the object member `key` ("gateway").
std::string mergeOverrideObject(std::string_view current, std::string_view key, const json::Tape& patch);

}  // namespace gw::handlers
