// Base64 (RFC 4648, the standard alphabet) for `lumen serve`'s JSON bodies: images in
// {"images": ["<base64>", ...]}.
#pragma once

#include <string>
#include <string_view>

namespace lumen::serve {

// The bytes `text` encodes; padding ('=') optional, whitespace refused. Throws lumen::Error naming
// the offset of the first bad character.
std::string base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace lumen::serve
