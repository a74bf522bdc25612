#include "gw/api_error.h"

#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw {

std::string renderError(const ApiError& e) {
  std::string out;
  out.reserve(96 + e.message.size());
  json::Writer w(out);
  w.beginObject().key("error").beginObject();
  writeErrorFields(w, e);
  w.endObject().endObject();
  return out;
}

void writeErrorFields(json::Writer& w, const ApiError& e, std::string_view type) {
  w.field("message", e.message).field("type", type.empty() ? std::string_view(e.type) : type);
  w.key("param");
  if (e.param.empty()) w.null(); else w.string(e.param);
  w.key("code");
  if (e.code.empty()) w.null(); else w.string(e.code);
  if (!e.attempts.empty()) w.key("attempts").raw(e.attempts);
}

ApiError invalidRequest(std::string message, std::string param, std::string code) {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code), ""};
}

ApiError missingParameter(std::string param) {
  std::string msg = "Missing required parameter: '" + param + "'.";
  return invalidRequest(std::move(msg), std::move(param), "missing_required_parameter");
}

ApiError invalidType(std::string param, std::string_view expected, std::string_view got) {
  std::string msg = "Invalid type for '" + param + "': expected " + std::string(expected) + ", but got " +
                    std::string(got) + " instead.";
  return invalidRequest(std::move(msg), std::move(param), "invalid_type");
}

ApiError invalidValue(std::string param, std::string message) {
  std::string msg = "Invalid value for '" + param + "': " + message;
  return invalidRequest(std::move(msg), std::move(param), "invalid_value");
}

ApiError forbidden(std::string message, std::string param, std::string code) {
  ApiError e = invalidRequest(std::move(message), std::move(param), std::move(code));
  e.status = 403;
  e.type = "permission_error";
  return e;
}

ApiError unreadableBody(const json::ParseError& e) {
  if (!e.duplicateKey.empty())
    return invalidRequest("The JSON body of your request repeats the key '" + e.duplicateKey +
                              "'. Each key may appear once per object.",
                          e.duplicateKey, "duplicate_key");
  return invalidRequest("We could not parse the JSON body of your request: " + std::string(e.what) + " at byte " +
                            std::to_string(e.offset) + ". The API expects a JSON payload.",
                        "", "invalid_json");
}

ApiError serverError(int status, std::string message, std::string type, std::string code) {
  return {status, std::move(message), std::move(type), "", std::move(code), ""};
}

ApiError gatewayFault() {
  return serverError(502, "The gateway hit an internal fault while handling this request.", "server_error",
                     "gateway_fault");
}

}  // namespace gw
