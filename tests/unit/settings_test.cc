// The table of settings: every setting is read from the gateway object and
// the environment by its row, listed for the host, shown and changed by the
// config admin, and documented in the README with its default.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>

#include "fake_host.h"
#include "gw/nlohmann.h"
#include "gw/settings.h"

using gw::testing::FakeHost;
using nlohmann::json;

namespace {

std::string cell(std::string text) {
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() >= 2 && text.front() == '`' && text.back() == '`') text = text.substr(1, text.size() - 2);
  return text;
}

// The README's Settings table: (key, variable) -> default, as written.
std::map<std::pair<std::string, std::string>, std::string> readmeSettings() {
  std::istringstream in(gw::testing::readFile(gw::testing::sourcePath("README.md")));
  std::map<std::pair<std::string, std::string>, std::string> rows;
  bool inSection = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) inSection = line == "## Settings";
    if (!inSection || line.rfind("| ", 0) != 0 || line.rfind("| key", 0) == 0 || line.rfind("| ---", 0) == 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string c; std::getline(row, c, '|');) cells.push_back(cell(c));
    REQUIRE(cells.size() >= 4);
    rows[{cells[0] == "—" ? "" : cells[0], cells[1] == "—" ? "" : cells[1]}] = cells[2] == "unset" ? "" : cells[2];
  }
  return rows;
}

gw::Config defaults() {
  auto c = gw::loadConfig(gw::testing::bundledConfig(), "", gw::Environment{});
  REQUIRE(c.ok());
  return c.value();
}

std::string shown(const gw::Setting& s, const gw::Config& c) {
  std::string out;
  gw::json::Writer w(out);
  gw::writeSetting(w, s, c);
  if (out.size() >= 2 && out.front() == '"' && *s.key == 0) out = out.substr(1, out.size() - 2);
  return out;
}

}  // namespace

TEST_CASE("every setting has one row, and the README lists each with its default") {
  const gw::Config c = defaults();
  auto documented = readmeSettings();
  std::set<std::string> keys, vars;
  for (const gw::Setting& s : gw::settingsTable()) {
    INFO("setting " << s.key << " / " << s.env);
    CHECK((*s.key != 0 || *s.env != 0));
    if (*s.key != 0) CHECK(keys.insert(std::string(s.key)).second);
    if (*s.env != 0) CHECK(vars.insert(std::string(s.env)).second);
    auto row = documented.find({std::string(s.key), std::string(s.env)});
    REQUIRE(row != documented.end());
    CHECK(row->second == shown(s, c));
    documented.erase(row);
  }
  // Nothing documented that the gateway does not read.
  for (const auto& [names, value] : documented) FAIL_CHECK("README row without a setting: " << names.first << " / " << names.second);
}

TEST_CASE("the host is asked for every setting's variable, and each is read from the environment") {
  auto names = gw::configEnvNames(gw::testing::bundledConfig());
  REQUIRE(names.ok());
  const std::set<std::string> asked(names.value().vars.begin(), names.value().vars.end());
  for (const gw::Setting& s : gw::settingsTable()) {
    if (*s.env == 0) continue;
    INFO(s.env);
    CHECK(asked.count(std::string(s.env)) == 1);
    // A value that does not parse names the variable.
    if (s.type == gw::SettingType::Text) continue;  // any text is one
    gw::Environment env;
    env.vars[std::string(s.env)] = "not-a-value";
    auto c = gw::loadConfig(gw::testing::bundledConfig(), "", env);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message.rfind(std::string(s.env) + ": expected ", 0) == 0);
  }
}

TEST_CASE("the config admin shows every setting with a key and takes each back as it is") {
  FakeHost h;
  auto got = h.request("GET", "/api/ai-gateway/config", "", gw::testing::adminHeaders());
  REQUIRE(got.status == 200);
  const json settings = json::parse(got.body)["settings"];
  for (const gw::Setting& s : gw::settingsTable()) {
    INFO(s.key << " / " << s.env);
    CHECK(settings.contains(std::string(s.key)) == s.adminWritable());
    if (!s.adminWritable()) continue;
    const json patch = {{std::string(s.key), settings[std::string(s.key)]}};
    CHECK(h.request("PUT", "/api/ai-gateway/config", patch.dump(), gw::testing::adminHeaders()).status == 200);
  }
  // A deployment's own settings are not an admin's to change.
  CHECK(h.request("PUT", "/api/ai-gateway/config", R"({"LOG_LEVEL":"debug"})", gw::testing::adminHeaders()).status == 400);
}
