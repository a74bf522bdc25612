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

enum class SettingType {
  Integer,  // an integer in [min, max]
  Decimal,  // a decimal up to `max`, at most 6 fractional digits; the field holds millionths × `scale`
  Percent,  // an integer percent in [min, max]; the field holds the ratio
  Boolean,  // true or false (the environment also takes 1 and 0)
  Text,     // a non-empty string
  Url,      // an http(s) URL; empty: none
  List,     // an array of at most `max` non-empty strings
  Choice,   // one of a few names (`expected` lists them)
};

struct Setting {
  std::string_view key;  // member of the gateway object; empty: the environment sets it, nothing else
  std::string_view env;  // environment variable; empty: none
  SettingType type = SettingType::Integer;
  int64_t min = 0, max = 0;
  std::string_view expected;  // what an error says was expected (List, Choice, Decimal)
  // Where the value lives, by type: Integer and Decimal `integer`, Percent
  // `ratio`, Boolean `boolean`, Text and Url `text`, List `list`, Choice
  // `choose` (false for a name not among them) and `chosen`.
  int64_t& (*integer)(Config&) = nullptr;
  int64_t scale = 1;
  double& (*ratio)(Config&) = nullptr;
  bool& (*boolean)(Config&) = nullptr;
  std::string& (*text)(Config&) = nullptr;
  std::vector<std::string>& (*list)(Config&) = nullptr;
  bool (*choose)(Config&, std::string_view) = nullptr;
  std::string_view (*chosen)(const Config&) = nullptr;
  bool adminWritable() const { return !key.empty(); }
};

std::span<const Setting> settingsTable();
// The setting `key` names in the gateway object; null when none does.
const Setting* findSetting(std::string_view key);
// The value in effect, as the gateway object would hold it.
void writeSetting(json::Writer& w, const Setting& s, const Config& c);

}  // namespace gw
