#include "catalyst/rpc/text_data.h"

#include <charconv>
#include <cstring>
#include <limits>

namespace catalyst::rpc {

template <class Item> bool TextTape::sequence(char close, Item item) {
  skipSpace();
  if (pos_ < text_.size() && text_[pos_] == close) {
    ++pos_;
    return true;
  }
  while (true) {
    if (!item()) {
      return false;
    }
    skipSpace();
    if (pos_ >= text_.size()) {
      return false;
    }
    const char c = text_[pos_++];
    if (c == close) {
      return true;
    }
    if (c != ',') {
      return false;
    }
  }
}

bool TextTape::parseArgs(std::string_view args, std::size_t max_depth) {
  if (args.size() >= std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  text_ = args;
  pos_ = 0;
  max_depth_ = max_depth;
  tokens_.clear();
  tokens_.reserve(args.size() / 8); // about one token per 8-10 bytes of route records
  elements_.clear();
  args_.clear();
  keys_.clear();
  skipSpace();
  if (pos_ >= text_.size() || text_[pos_] != '[') {
    return false;
  }
  ++pos_;
  const bool listed = sequence(']', [this] {
    args_.push_back(static_cast<uint32_t>(tokens_.size()));
    return value(1);
  });
  skipSpace();
  return listed && pos_ == text_.size();
}

TextData TextTape::operator[](std::size_t i) const {
  return i < args_.size() ? TextData(*this, args_[i]) : TextData();
}

void TextTape::skipSpaceSlow() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' ||
                                 text_[pos_] == '\t')) {
    ++pos_;
  }
}

bool TextTape::value(std::size_t depth) {
  skipSpace();
  if (pos_ >= text_.size()) {
    return false;
  }
  const char c = text_[pos_];
  if (c == '"') {
    Token t{Kind::String};
    if (!string(t)) {
      return false;
    }
    t.end = static_cast<uint32_t>(tokens_.size() + 1);
    tokens_.push_back(t);
    return true;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    Token t{Kind::Number};
    if (!number(t)) {
      return false;
    }
    t.end = static_cast<uint32_t>(tokens_.size() + 1);
    tokens_.push_back(t);
    return true;
  }
  switch (c) {
  case '{':
    return object(depth + 1);
  case '[':
    return array(depth + 1);
  case 't':
    return literal("true", Kind::True);
  case 'f':
    return literal("false", Kind::False);
  case 'n':
    return literal("null", Kind::Null);
  default:
    return false;
  }
}

bool TextTape::string(Token& t) {
  const char* const begin = text_.data() + pos_ + 1; // past the opening quote
  const char* const p = plainStringEnd(begin, text_.data() + text_.size());
  if (p == text_.data() + text_.size() || *p != '"') {
    return false; // escapes, non-ASCII text: the session's parser reads those
  }
  t.begin = static_cast<uint32_t>(begin - text_.data());
  t.length = static_cast<uint32_t>(p - begin);
  pos_ = static_cast<std::size_t>(p + 1 - text_.data());
  return true;
}

bool TextTape::number(Token& t) {
  const std::size_t begin = pos_;
  if (text_[pos_] == '-') {
    ++pos_;
  }
  const std::size_t digits = pos_;
  while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
    ++pos_;
  }
  const std::size_t n = pos_ - digits;
  if (n == 0 || n > 15 || (n > 1 && text_[digits] == '0')) {
    return false; // no digits, a leading zero, or too long to be exact as a double
  }
  if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
    return false; // fractions and exponents: the session's parser reads those
  }
  t.begin = static_cast<uint32_t>(begin);
  t.length = static_cast<uint32_t>(pos_ - begin);
  return true;
}

bool TextTape::literal(std::string_view word, Kind kind) {
  if (text_.substr(pos_, word.size()) != word) {
    return false;
  }
  pos_ += word.size();
  Token t{kind};
  t.end = static_cast<uint32_t>(tokens_.size() + 1);
  tokens_.push_back(t);
  return true;
}

bool TextTape::object(std::size_t depth) {
  if (depth > max_depth_) {
    return false;
  }
  ++pos_; // '{'
  const std::size_t at = tokens_.size();
  tokens_.push_back(Token{Kind::Obj});
  const std::size_t keys_from = keys_.size(); // this object's keys, to refuse a repeated one
  uint32_t members = 0;
  const bool listed = sequence('}', [&] {
    skipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      return false;
    }
    Token key{Kind::String};
    if (!string(key)) {
      return false;
    }
    key.end = static_cast<uint32_t>(tokens_.size() + 1);
    // Records have a handful of members; a big object is the session parser's (the check for
    // a repeated key below is quadratic, and must not become a peer's lever on our CPU).
    if (members == kMaxMembers) {
      return false;
    }
    const std::string_view name = text(key);
    for (std::size_t k = keys_from; k < keys_.size(); ++k) {
      if (keys_[k] == name) {
        return false; // which one counts is the session parser's business
      }
    }
    keys_.push_back(name);
    tokens_.push_back(key);
    skipSpace();
    if (pos_ >= text_.size() || text_[pos_] != ':') {
      return false;
    }
    ++pos_;
    ++members;
    return value(depth);
  });
  if (!listed) {
    return false;
  }
  keys_.resize(keys_from);
  tokens_[at].length = members;
  tokens_[at].end = static_cast<uint32_t>(tokens_.size());
  return true;
}

// `[[e, ...]]` (an array, escaped) or `["undefined"]`; any other array is a special form.
bool TextTape::array(std::size_t depth) {
  // The escape is an array too: two levels, as the session's parser counts them.
  if (depth + 1 > max_depth_) {
    return false;
  }
  ++pos_; // the outer '['
  skipSpace();
  if (pos_ < text_.size() && text_[pos_] == '"') {
    Token word{Kind::String};
    if (!string(word) || text(word) != "undefined") {
      return false;
    }
    skipSpace();
    if (pos_ >= text_.size() || text_[pos_] != ']') {
      return false;
    }
    ++pos_;
    Token t{Kind::Undefined};
    t.end = static_cast<uint32_t>(tokens_.size() + 1);
    tokens_.push_back(t);
    return true;
  }
  if (pos_ >= text_.size() || text_[pos_] != '[') {
    return false;
  }
  ++pos_; // the inner '['
  const std::size_t at = tokens_.size();
  tokens_.push_back(Token{Kind::Arr});
  if (!sequence(']', [this, depth] { return value(depth + 1); })) {
    return false;
  }
  skipSpace();
  if (pos_ >= text_.size() || text_[pos_] != ']') {
    return false; // `[[...], ...]`: not an escaped array
  }
  ++pos_;
  // Its elements, found by following each one's `end`.
  Token& t = tokens_[at];
  t.end = static_cast<uint32_t>(tokens_.size());
  t.first = static_cast<uint32_t>(elements_.size());
  uint32_t count = 0;
  for (uint32_t e = static_cast<uint32_t>(at + 1); e < t.end; e = tokens_[e].end) {
    elements_.push_back(e);
    ++count;
  }
  t.length = count;
  return true;
}

std::optional<bool> TextData::boolean() const {
  if (tape_ == nullptr || (kind() != TextTape::Kind::True && kind() != TextTape::Kind::False)) {
    return std::nullopt;
  }
  return kind() == TextTape::Kind::True;
}

std::optional<double> TextData::number() const {
  if (tape_ == nullptr || kind() != TextTape::Kind::Number) {
    return std::nullopt;
  }
  // At most 15 digits: exact in an int64_t and in a double, as the session's parser reads it.
  const std::string_view digits = tape_->text(token());
  int64_t v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return static_cast<double>(v);
}

std::optional<std::string_view> TextData::string() const {
  if (tape_ == nullptr || kind() != TextTape::Kind::String) {
    return std::nullopt;
  }
  return tape_->text(token());
}

TextData TextData::find(std::string_view key) const {
  TextData found;
  if (isPrototypeKey(key)) {
    return found;
  }
  forEachMember([&](std::string_view k, const TextData& v) {
    if (k == key) {
      found = v;
    }
  });
  return found;
}

TextData TextData::operator[](std::size_t i) const {
  if (!isArray() || i >= token().length) {
    return {};
  }
  return TextData(*tape_, tape_->elements_[token().first + i]);
}

} // namespace catalyst::rpc
