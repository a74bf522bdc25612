#include "body_limit.h"

#include <algorithm>

namespace gw::handlers {

ApiError bodyTooLarge(const Session& s) {
  const int64_t limit = s.config().maxBodyBytes;
  const RequestEnvelope& r = s.request();
  if (!r.bodyTruncated && static_cast<int64_t>(s.body().size()) <= limit) return {};
  uint64_t size = std::max<uint64_t>(r.bodySize, s.body().size());
  ApiError e = invalidRequest("Request body is too large: " + std::to_string(size) + " bytes; the limit is " +
                                  std::to_string(limit) + " bytes.",
                              "", "request_too_large");
  e.status = 413;
  return e;
}

}  // namespace gw::handlers
