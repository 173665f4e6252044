#pragma once

// Call arguments read straight from the message text, with no JSON tree: for the one call that
// carries bulk data (peering's `update`, up to 1 000 routes a call), whose callee reads it with
// the same template it uses for WireData and ValueData.
//
// Only the common spelling is taken; anything else is declined (TextTape::parseArgs returns
// false) and the session parses the message as usual, so every error, limit and corner of the
// encoding keeps exactly one implementation. Taken: plain data (null, booleans, objects, arrays
// escaped as `[[...]]`, `["undefined"]`), strings of printable ASCII with no escapes, integers
// of at most 15 digits (exact as doubles), whitespace between tokens. Declined: escapes,
// non-ASCII text, fractions and exponents, objects with a repeated key or more than 32
// members, anything deeper than the session's limit, and every non-plain form (capabilities,
// promises, dates, ...).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "catalyst/rpc/wire_data.h"

namespace catalyst::rpc {

class TextData;

// The first byte from `p` on (before `end`) that may not be part of a string in the common
// spelling: '"', '\\', a control character or a byte >= 0x80; `end` if none. Eight bytes at a
// time (a byte-wise test on one word: exact, and the lowest flagged byte is the first special
// one, since a borrow only flags bytes after a true hit).
inline const char* plainStringEnd(const char* p, const char* end) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w = 0;
    std::memcpy(&w, p, 8);
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t backslash = w ^ (kOnes * '\\');
    const uint64_t special = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                              ((w - kOnes * 0x20) & ~w) | w) &
                             kHigh;
    if (special != 0) {
      return p + std::countr_zero(special) / 8;
    }
    p += 8;
  }
  for (; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
      return p;
    }
  }
  return end;
}

// The arguments of one call, indexed in one pass over their text. Reused from call to call (it
// keeps its buffers); valid while the text it was given is.
class TextTape {
public:
  // Indexes `args`, the text of a call's argument list (a JSON array, not escaped). False
  // declines (see above); `max_depth` bounds the nesting of arrays and objects in it.
  bool parseArgs(std::string_view args, std::size_t max_depth);
  // The tape points into the text: a temporary string would leave it dangling.
  template <class T, class = std::enable_if_t<std::is_same_v<T, std::string>>>
  bool parseArgs(T&& args, std::size_t max_depth) = delete;

  std::size_t size() const { return args_.size(); }
  // Argument `i` (absent past the end, as rpc::Args reads undefined).
  TextData operator[](std::size_t i) const;

private:
  friend class TextData;
  enum class Kind : uint8_t { Null, True, False, Number, String, Obj, Arr, Undefined };
  struct Token {
    Kind kind = Kind::Null;
    uint32_t begin = 0;  // String: its characters (no quotes); Number: its digits
    uint32_t length = 0; // Object: members; Array: elements
    uint32_t end = 0;    // the index of the first token after this value and all it holds
    uint32_t first = 0;  // Array: where its elements' token indices start in elements_
  };
  // An object's token is followed by its members, each a String token (the key) and the
  // value's tokens; an array's by its elements' tokens.

  std::string_view text(const Token& t) const { return text_.substr(t.begin, t.length); }

  // Objects with more members are declined (see object()).
  static constexpr uint32_t kMaxMembers = 32;

  // After an opening bracket: `close` at once, or items separated by ',' and then `close`;
  // `item` reads one (false: declined).
  template <class Item> bool sequence(char close, Item item);
  bool value(std::size_t depth);
  bool string(Token& t);
  bool number(Token& t);
  bool literal(std::string_view word, Kind kind);
  bool object(std::size_t depth);
  bool array(std::size_t depth);
  void skipSpace() {
    // Usually there is none: one test, inline.
    if (pos_ < text_.size() && static_cast<unsigned char>(text_[pos_]) <= ' ') {
      skipSpaceSlow();
    }
  }
  void skipSpaceSlow();

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t max_depth_ = 0;
  std::vector<Token> tokens_;
  std::vector<uint32_t> elements_;     // per array, the token index of each element in order
  std::vector<uint32_t> args_;         // the token index of each argument
  std::vector<std::string_view> keys_; // scratch: the keys of the objects being read
};

// The arguments of a call as text (StubHook::callText, Target::callText): the callee reads them
// straight from `args`, or indexes them into `tape` (index()) and reads that.
struct TextCall {
  std::string_view args; // the argument list, a JSON array
  std::size_t max_depth; // the session's limit on nesting, for TextTape::parseArgs
  TextTape& tape;        // the session's, reused from call to call

  // Indexes `args` into `tape`; false declines (see TextTape::parseArgs).
  bool index() const { return tape.parseArgs(args, max_depth); }
};

// WireData's reading interface over a TextTape.
class TextData {
public:
  TextData() = default;
  TextData(const TextTape& tape, uint32_t index) : tape_(&tape), index_(index) {}

  bool present() const { return tape_ != nullptr && kind() != TextTape::Kind::Undefined; }
  bool isUndefined() const { return tape_ == nullptr || kind() == TextTape::Kind::Undefined; }
  bool isNull() const { return tape_ != nullptr && kind() == TextTape::Kind::Null; }
  std::optional<bool> boolean() const;
  std::optional<double> number() const;
  std::optional<std::string_view> string() const;

  bool isObject() const { return tape_ != nullptr && kind() == TextTape::Kind::Obj; }
  // Calls f(key, TextData) for each member, prototype keys left out.
  template <typename F> void forEachMember(F&& f) const {
    if (!isObject()) {
      return;
    }
    uint32_t at = index_ + 1;
    for (uint32_t i = 0; i < token().length; ++i) {
      const std::string_view key = tape_->text(tape_->tokens_[at]);
      if (!isPrototypeKey(key)) {
        f(key, TextData(*tape_, at + 1));
      }
      at = tape_->tokens_[at + 1].end;
    }
  }
  // The member `key` (absent when there is none, or this is not an object).
  TextData find(std::string_view key) const;

  bool isArray() const { return tape_ != nullptr && kind() == TextTape::Kind::Arr; }
  std::size_t size() const { return isArray() ? token().length : 0; }
  TextData operator[](std::size_t i) const;

private:
  const TextTape::Token& token() const { return tape_->tokens_[index_]; }
  TextTape::Kind kind() const { return token().kind; }

  const TextTape* tape_ = nullptr;
  uint32_t index_ = 0;
};

} // namespace catalyst::rpc
