#pragma once
// The client's body against the gateway's limit (max_body_bytes).
#include "gw/api_error.h"
#include "gw/session.h"

namespace gw::handlers {

// 413 when the client's body is over the limit (or the host stopped reading).
ApiError bodyTooLarge(const Session& s);

}  // namespace gw::handlers
