#pragma once
// Every gateway setting, declared once: its member of the gateway object
// (config/gateway.json, the KV override, PUT /api/ai-gateway/config), its
// environment variable, its type and range, and whether admins may change
// it. Its default is the initializer of the field it sets (gw/config.h).
// The loader, the environment overlay, the variable names the host
// collects, the config admin and the README's test all read this table.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gw/config.h"
#include "gw/json_writer.h"

namespace gw {

enum class SettingType : uint8_t {
  Integer,  // an integer in [min, max]
  Decimal,  // a decimal up to `max`, at most 6 fractional digits; the field holds millionths × `scale`
  Percent,  // an integer percent in [min, max]; the field holds the ratio
  Boolean,  // true or false (the environment also takes 1 and 0)
  Text,     // a non-empty string
  Url,      // an http(s) URL; empty: none
  List,     // an array of at most `max` non-empty strings
  Choice,   // one of a few names (`expected` lists them)
};

// One of a few names, read into and out of the config.
struct SettingChoice {
  bool (*choose)(Config&, std::string_view);  // false for a name not among them
  std::string_view (*chosen)(const Config&);
};

struct Setting {
  // C strings, not views, and a 32-bit minimum: the table is read-only
  // data in the module, and these keep each row at 40 bytes.
  const char* key = "";  // member of the gateway object; "": the environment sets it, nothing else
  const char* env = "";  // environment variable; "": none
  SettingType type = SettingType::Integer;
  int32_t min = 0;
  int64_t max = 0;
  const char* expected = "";  // what an error says was expected (List, Choice, Decimal)
  // Where the value lives: the field, of the type's C++ type (int64_t for
  // Integer and Decimal, which holds millionths × `scale`; double for
  // Percent, the ratio; bool; std::string for Text and Url; a vector of
  // strings for List). A Choice reads and writes through `choice`.
  void* (*field)(Config&) = nullptr;
  const SettingChoice* choice = nullptr;
  int32_t scale = 1;
  bool adminWritable() const { return *key != 0; }
};

std::span<const Setting> settingsTable();
// The setting `key` names in the gateway object; null when none does.
const Setting* findSetting(std::string_view key);
// The value in effect, as the gateway object would hold it.
void writeSetting(json::Writer& w, const Setting& s, const Config& c);

}  // namespace gw
