// JSON from outside the process (safetensors headers, request bodies) through nlohmann-json,
// with the two limits nlohmann leaves to its caller: nesting deeper than max_depth is refused (a
// header of a million '[' would otherwise be parsed), and so is an object that repeats a key
// (nlohmann keeps the last one silently; two readers of the same file could see different
// tensors).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace lumen {

// Throws lumen::Error "invalid JSON: ..." naming the position of the problem.
nlohmann::json parse_strict_json(std::string_view text, int max_depth = 64);

}  // namespace lumen
