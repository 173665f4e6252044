#pragma once

// Call arguments as they came off the wire, read in place: for a method that takes plain data
// and would rather not have it turned into Values first (Target::callRaw).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "catalyst/rpc/value.h"

namespace catalyst::rpc {

// Keys the session never turns into members (Object.prototype's); WireData skips them too.
bool isPrototypeKey(std::string_view key);

// A view of one value of Cap'n Web's JSON encoding, read as the session's evaluation would read
// it, for plain data only: null, booleans, numbers, strings, objects, arrays (escaped as
// `[[...]]`) and `["undefined"]`. WireData::plain() says whether a whole value is only that;
// anything else (capabilities, promises, dates, ...) must go through evaluation.
class WireData {
public:
  // Absent (reads as undefined).
  WireData() = default;
  explicit WireData(const boost::json::value& value) : value_(&value) {}

  // True when `value` holds nothing but plain data (see above).
  static bool plain(const boost::json::value& value);

  bool present() const { return value_ != nullptr && !isUndefined(); }
  bool isUndefined() const;
  bool isNull() const { return value_ != nullptr && value_->is_null(); }
  std::optional<bool> boolean() const;
  std::optional<double> number() const;
  std::optional<std::string_view> string() const;

  bool isObject() const { return value_ != nullptr && value_->is_object(); }
  // Calls f(key, WireData) for each member, prototype keys left out.
  template <typename F> void forEachMember(F&& f) const {
    if (!isObject()) {
      return;
    }
    for (const auto& kv : value_->get_object()) {
      if (!isPrototypeKey(kv.key())) {
        f(std::string_view(kv.key()), WireData(kv.value()));
      }
    }
  }
  // The member `key` (absent when there is none, or this is not an object).
  WireData find(std::string_view key) const;

  bool isArray() const { return elements() != nullptr; }
  std::size_t size() const;
  WireData operator[](std::size_t i) const;

private:
  // The elements of an escaped array, or nullptr.
  const boost::json::array* elements() const;

  const boost::json::value* value_ = nullptr;
};

// WireData's reading interface over an rpc::Value, so that one reader (a template) serves both:
// what was evaluated and what is read off the wire in place.
class ValueData {
public:
  ValueData() = default;
  explicit ValueData(const Value& value) : value_(&value) {}

  bool present() const { return value_ != nullptr && !value_->isUndefined(); }
  bool isUndefined() const { return value_ == nullptr || value_->isUndefined(); }
  bool isNull() const { return value_ != nullptr && value_->isNull(); }
  std::optional<bool> boolean() const {
    const bool* b = value_ == nullptr ? nullptr : value_->as<bool>();
    return b == nullptr ? std::nullopt : std::optional<bool>(*b);
  }
  std::optional<double> number() const {
    const double* d = value_ == nullptr ? nullptr : value_->as<double>();
    return d == nullptr ? std::nullopt : std::optional<double>(*d);
  }
  std::optional<std::string_view> string() const {
    const std::string* s = value_ == nullptr ? nullptr : value_->as<std::string>();
    return s == nullptr ? std::nullopt : std::optional<std::string_view>(*s);
  }
  bool isObject() const { return value_ != nullptr && value_->is<Object>(); }
  template <typename F> void forEachMember(F&& f) const {
    if (const auto* o = value_ == nullptr ? nullptr : value_->as<Object>()) {
      for (const Member& m : *o) {
        f(std::string_view(m.key), ValueData(m.value));
      }
    }
  }
  ValueData find(std::string_view key) const {
    const Value* v = value_ == nullptr ? nullptr : value_->find(key);
    return v == nullptr ? ValueData() : ValueData(*v);
  }
  bool isArray() const { return value_ != nullptr && value_->is<Array>(); }
  std::size_t size() const {
    const auto* a = value_ == nullptr ? nullptr : value_->as<Array>();
    return a == nullptr ? 0 : a->size();
  }
  ValueData operator[](std::size_t i) const {
    const auto* a = value_ == nullptr ? nullptr : value_->as<Array>();
    return a == nullptr || i >= a->size() ? ValueData() : ValueData((*a)[i]);
  }

  // The Value read (undefined when absent).
  const Value& value() const;

private:
  const Value* value_ = nullptr;
};

// The arguments of a call as they came off the wire: a list of values (not escaped).
class WireArgs {
public:
  explicit WireArgs(const boost::json::array& args) : args_(args) {}
  // True when every argument is plain data (WireData::plain).
  static bool plain(const boost::json::array& args);
  bool plain() const { return plain(args_); }

  std::size_t size() const { return args_.size(); }
  // Argument `i` (absent past the end, as rpc::Args reads undefined).
  WireData operator[](std::size_t i) const {
    return i < args_.size() ? WireData(args_[i]) : WireData();
  }

private:
  const boost::json::array& args_;
};

} // namespace catalyst::rpc
