#include "wire_format.h"

#include <algorithm>

#include "anthropic_messages.h"
#include "gemini_generate.h"
#include "openai_chat.h"

namespace gw {

namespace {

bool containsAny(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (auto n : needles)
    if (text.find(n) != std::string_view::npos) return true;
  return false;
}

}  // namespace

const ChatCodec& chatCodec(WireFormat format) {
  static const openai_chat::Codec OPENAI;
  static const anthropic_messages::Codec ANTHROPIC;
  static const gemini_generate::Codec GEMINI;
  switch (format) {
    case WireFormat::AnthropicMessages: return ANTHROPIC;
    case WireFormat::GeminiGenerate: return GEMINI;
    default: return OPENAI;
  }
}

int64_t defaultMaxTokens(const Config& c, const Target& t) {
  int64_t limit = c.defaultMaxTokens;
  if (t.model != nullptr && t.model->maxOutput > 0) limit = std::min(limit, t.model->maxOutput);
  return limit;
}

std::string endpointUrl(const ProviderConfig& p, std::string_view upstreamModel, std::string_view operation) {
  if (p.urlStyle == UrlStyle::AzureDeployment) {
    std::string url = p.baseUrl + "/openai/deployments/";
    url += upstreamModel;
    url += "/";
    url += operation;
    url += "?api-version=" + p.apiVersion;
    return url;
  }
  std::string url = p.baseUrl + "/";
  url += operation;
  return url;
}

ApiError blockedPrompt(std::string_view reason, std::string_view providerId) {
  return invalidRequest("Provider '" + std::string(providerId) + "' blocked the prompt (" + std::string(reason) + ").",
                        "messages", "content_filter");
}

ApiError upstreamError(int status, std::string message, std::string type, std::string code, std::string param,
                       std::string_view providerId) {
  ApiError e;
  e.status = status;
  e.param = std::move(param);
  e.code = std::move(code);
  if (message.empty()) message = "no error message";
  const std::string provider(providerId);
  if (status == 401 || status == 403) {
    e.type = "authentication_error";
    e.code = "upstream_auth_failed";
    e.message = "Provider '" + provider + "' rejected the gateway's credentials: " + message;
    // The client's own key is fine; the gateway's provider key is not.
    e.status = 502;
    return e;
  }
  if (status == 429) {
    e.type = "rate_limit_exceeded";
    if (e.code.empty()) e.code = "rate_limit_exceeded";
    e.message = "Provider '" + provider + "' is rate limiting requests: " + message;
    return e;
  }
  if (status == 503 || status == 529 || type == "overloaded_error") {
    e.status = 503;
    e.type = "upstream_error";
    e.code = "upstream_overloaded";
    e.message = "Provider '" + provider + "' is overloaded (HTTP " + std::to_string(status) + "): " + message;
    return e;
  }
  if (status >= 500) {
    e.status = 502;
    e.type = "upstream_error";
    if (e.code.empty()) e.code = "upstream_error";
    e.message = "Upstream provider '" + provider + "' failed with HTTP " + std::to_string(status) + ": " + message;
    return e;
  }
  e.type = type.empty() ? "invalid_request_error" : std::move(type);
  if (containsAny(message, {"context length", "context_length", "prompt is too long", "too many tokens",
                            "exceeds the maximum number of tokens", "maximum context"})) {
    e.code = "context_length_exceeded";
    if (e.param.empty()) e.param = "messages";
  }
  e.message = message + " (provider: " + provider + ")";
  return e;
}

}  // namespace gw
