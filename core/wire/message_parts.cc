#include "message_parts.h"

namespace gw::parts {

using json::Kind;

bool present(const json::Tape& t, uint32_t v) { return v != 0 && t.kind(v) != Kind::Null; }

ApiError readModelRequest(std::string_view body, json::Tape& t, uint32_t& model) {
  if (!t.parse(body)) return unreadableBody(t.error());
  if (t.kind(t.root()) != json::Kind::Object)
    return invalidRequest("The request body must be a JSON object.", "", "invalid_json");
  model = t.find(t.root(), "model");
  if (!present(t, model)) return missingParameter("model");
  if (t.kind(model) != json::Kind::String || t.rawString(model).empty())
    return invalidType("model", "a non-empty string", "another value");
  return {};
}

std::string str(const json::Tape& t, uint32_t obj, std::string_view key) { return t.stringAt(obj, key); }

std::string systemText(const json::Tape& t, uint32_t messages) {
  std::string system;
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m)) {
    uint32_t role = t.find(m, "role");
    if (!t.stringEquals(role, "system") && !t.stringEquals(role, "developer")) continue;
    if (!system.empty()) system += "\n\n";
    system += text(t, t.find(m, "content"));
  }
  return system;
}

void writeStringList(json::Writer& w, const json::Tape& t, uint32_t list) {
  w.beginArray();
  if (t.kind(list) == Kind::String) w.string(t.string(list));
  else
    for (uint32_t s = t.firstChild(list); s != 0; s = t.nextSibling(list, s)) w.string(t.string(s));
  w.endArray();
}

void RoleRuns::open(std::string_view role) {
  if (role == current_) return;
  close();
  w_.beginObject().field("role", role).key(listKey_).beginArray();
  current_ = std::string(role);
  any_ = true;
}

void RoleRuns::close() {
  if (current_.empty()) return;
  w_.endArray().endObject();
  current_.clear();
}

std::string text(const json::Tape& t, uint32_t content) {
  if (content == 0) return {};
  if (t.kind(content) == Kind::String) return t.string(content);
  std::string out;
  if (t.kind(content) != Kind::Array) return out;
  for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part)) {
    uint32_t text = t.find(part, "text");
    if (text != 0 && t.kind(text) == Kind::String) {
      if (!out.empty()) out += "\n";
      out += t.string(text);
    }
  }
  return out;
}

bool parseDataUrl(std::string_view url, DataUrl& out) {
  constexpr std::string_view PREFIX = "data:";
  if (url.substr(0, PREFIX.size()) != PREFIX) return false;
  size_t semi = url.find(';');
  size_t comma = url.find(',');
  if (semi == std::string_view::npos || comma == std::string_view::npos || semi > comma) return false;
  if (url.substr(semi, comma - semi) != ";base64") return false;
  out.mime = url.substr(PREFIX.size(), semi - PREFIX.size());
  out.data = url.substr(comma + 1);
  return !out.mime.empty();
}

std::string_view guessImageMime(std::string_view url) {
  size_t q = url.find_first_of("?#");
  std::string_view path = url.substr(0, q);
  auto ends = [&](std::string_view ext) {
    if (path.size() < ext.size()) return false;
    for (size_t i = 0; i < ext.size(); ++i) {
      char c = path[path.size() - ext.size() + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != ext[i]) return false;
    }
    return true;
  };
  if (ends(".png")) return "image/png";
  if (ends(".gif")) return "image/gif";
  if (ends(".webp")) return "image/webp";
  return "image/jpeg";
}

bool argumentsObject(std::string_view args, std::string& out) {
  size_t start = args.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    out = "{}";
    return true;
  }
  json::Tape t;
  if (!t.parse(args) || t.kind(t.root()) != Kind::Object) return false;
  out.assign(t.raw(t.root()));
  return true;
}

ApiError unsupported(std::string param, std::string_view what, std::string_view providerId) {
  return invalidRequest(std::string(what) + " is not supported by provider '" + std::string(providerId) + "'.",
                        std::move(param), "unsupported_parameter");
}

std::string toolNameFor(const json::Tape& t, uint32_t messages, std::string_view toolCallId) {
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m)) {
    uint32_t calls = t.find(m, "tool_calls");
    if (calls == 0 || t.kind(calls) != Kind::Array) continue;
    for (uint32_t call = t.firstChild(calls); call != 0; call = t.nextSibling(calls, call)) {
      uint32_t id = t.find(call, "id");
      if (id == 0 || t.kind(id) != Kind::String || !t.stringEquals(id, toolCallId)) continue;
      uint32_t fn = t.find(call, "function");
      uint32_t name = fn != 0 ? t.find(fn, "name") : 0;
      if (name != 0 && t.kind(name) == Kind::String) return t.string(name);
    }
  }
  return {};
}

}  // namespace gw::parts
