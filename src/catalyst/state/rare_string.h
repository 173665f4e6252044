#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace catalyst::state {

// An optional string that is usually absent, for the route fields most routes leave out
// (`region`, `lastChecked`): 8 bytes when absent, the text on the heap when present, where
// std::optional<std::string> takes 40 bytes either way. Every learned path keeps a Route, so
// this is paid per path in the Adj-RIB-In (docs/benchmarks.md, peering). Used like the
// optional it replaces: has_value(), bool, *, ->, value(), value_or(), reset(), emplace(), ==.
class RareString {
public:
  RareString() = default;
  // NOLINTBEGIN(google-explicit-constructor): written and read as the optional it replaces
  RareString(std::nullopt_t) {}
  RareString(std::string text) : text_(std::make_unique<std::string>(std::move(text))) {}
  RareString(const char* text) : RareString(std::string(text)) {}
  RareString(std::string_view text) : RareString(std::string(text)) {}
  RareString(const std::optional<std::string>& text)
      : text_(text ? std::make_unique<std::string>(*text) : nullptr) {}
  operator std::optional<std::string>() const {
    return text_ ? std::optional<std::string>(*text_) : std::nullopt;
  }
  // NOLINTEND(google-explicit-constructor)

  RareString(const RareString& other)
      : text_(other.text_ ? std::make_unique<std::string>(*other.text_) : nullptr) {}
  RareString& operator=(const RareString& other) {
    if (this != &other) {
      text_ = other.text_ ? std::make_unique<std::string>(*other.text_) : nullptr;
    }
    return *this;
  }
  RareString(RareString&&) noexcept = default;
  RareString& operator=(RareString&&) noexcept = default;
  ~RareString() = default;

  bool has_value() const { return text_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const std::string& operator*() const { return *text_; }
  std::string& operator*() { return *text_; }
  const std::string* operator->() const { return text_.get(); }
  std::string* operator->() { return text_.get(); }
  const std::string& value() const {
    if (!text_) {
      throw std::bad_optional_access();
    }
    return *text_;
  }
  std::string value_or(std::string_view fallback) const {
    return text_ ? *text_ : std::string(fallback);
  }
  void reset() { text_.reset(); }
  template <class... Args> std::string& emplace(Args&&... args) {
    text_ = std::make_unique<std::string>(std::forward<Args>(args)...);
    return *text_;
  }

  friend bool operator==(const RareString& a, const RareString& b) {
    return a.text_ == nullptr ? b.text_ == nullptr : b.text_ != nullptr && *a.text_ == *b.text_;
  }
  friend bool operator==(const RareString& a, const std::optional<std::string>& b) {
    return a.text_ == nullptr ? !b.has_value() : b.has_value() && *a.text_ == *b;
  }

private:
  std::unique_ptr<std::string> text_;
};

} // namespace catalyst::state
