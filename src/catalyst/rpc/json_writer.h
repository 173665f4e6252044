#pragma once

#include <string>
#include <string_view>

namespace catalyst::rpc::json {

// Small pieces of JSON text output, as JavaScript's JSON.stringify writes them.

// Appends `s` as a JSON string literal (quotes, escapes; non-ASCII kept as UTF-8).
void appendString(std::string& out, std::string_view s);

// Appends a finite number as JavaScript prints it: integers without a fraction or exponent,
// others in the shortest form that reads back to the same double. -0 is written as "-0"
// (JSON.parse reads it back as -0; JSON.stringify would write "0").
void appendNumber(std::string& out, double d);

// Standard base64 with the padding stripped (as capnweb sends bytes).
std::string base64Encode(std::string_view bytes);
// Decodes standard base64, padding optional; false on any other character or bad length.
bool base64Decode(std::string_view text, std::string& out);

} // namespace catalyst::rpc::json
