#include "engine/io/strict_json.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "kernels/common.h"

namespace lumen {

namespace {

// Raised inside nlohmann's parse callback, caught below with the position nlohmann has reached.
struct Refused {
  std::string what;
};

}  // namespace

nlohmann::json parse_strict_json(std::string_view text, int max_depth) {
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  const nlohmann::json::parser_callback_t check =
      [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if ((event == Event::object_start || event == Event::array_start) && depth >= max_depth) {
          throw Refused{"nested deeper than " + std::to_string(max_depth) + " levels"};
        }
        if (event == Event::object_start) keys.emplace_back();
        if (event == Event::object_end && !keys.empty()) keys.pop_back();
        if (event == Event::key && !keys.back().insert(parsed.get<std::string>()).second) {
          throw Refused{"duplicate key \"" + parsed.get<std::string>() + "\""};
        }
        return true;
      };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), check);
  } catch (const Refused& r) {
    LUMEN_FAIL("invalid JSON: ", r.what);
  } catch (const nlohmann::json::exception& e) {
    LUMEN_FAIL("invalid JSON: ", e.what());
  }
}

}  // namespace lumen
