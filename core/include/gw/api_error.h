#pragma once
// Client-visible errors, always OpenAI-shaped:
// {"error":{"message","type","param","code"}} with the matching HTTP status.
#include <string>
#include <string_view>

namespace gw {

struct ApiError {
  int status = 0;  // 0: no error
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // empty renders as null
  std::string code;   // empty renders as null
  std::string attempts;  // raw JSON array: what each routing target answered, when all failed

  explicit operator bool() const { return status != 0; }
};

std::string renderError(const ApiError& e);

namespace json {
class Writer;
struct ParseError;
}
// The error object's members ("message", "type", "param", "code") into an
// open object, for dialects that wrap it differently; `type` overrides e.type.
void writeErrorFields(json::Writer& w, const ApiError& e, std::string_view type = {});

ApiError invalidRequest(std::string message, std::string param, std::string code);
ApiError missingParameter(std::string param);
ApiError invalidType(std::string param, std::string_view expected, std::string_view got);
ApiError invalidValue(std::string param, std::string message);
// 403 permission_error: the caller is known but may not do this.
ApiError forbidden(std::string message, std::string param, std::string code);
// 400 for a request body that is not one JSON document; a repeated key
// is named in `param` (code duplicate_key).
ApiError unreadableBody(const json::ParseError& e);
ApiError serverError(int status, std::string message, std::string type, std::string code);
// The 502 a host answers when the core faults (traps) during a request.
ApiError gatewayFault();

}  // namespace gw
