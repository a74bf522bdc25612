#pragma once
// A request's metadata (README: Metadata): the x-aigw-metadata header, a
// small JSON object of the app's own labels (conversation_id, phone, …),
// stored with the usage row and usable as a filter and a group-by.
#include <string>
#include <string_view>

#include "gw/api_error.h"

namespace gw::metadata {

constexpr std::string_view HEADER = "x-aigw-metadata";
constexpr size_t MAX_BYTES = 2048;     // the header's value
constexpr size_t MAX_KEYS = 16;
constexpr size_t MAX_KEY_CHARS = 64;   // letters, digits, _ and -
constexpr size_t MAX_VALUE_CHARS = 512;

// A key as metadata and its filters take it.
bool validKey(std::string_view key);
// The header's object as stored: its members with keys in order and every
// value a string (numbers and booleans as their JSON text), compact JSON;
// empty for an absent header. A malformed one is a 400 naming the header.
ApiError parse(std::string_view header, std::string& out);
// The stored object's member `key`, when it is there.
std::string member(std::string_view stored, std::string_view key);

}  // namespace gw::metadata
