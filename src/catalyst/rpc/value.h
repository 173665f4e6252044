#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace catalyst::rpc {

// The values Cap'n Web carries (capnweb-wire.md §1.3): JSON plus `undefined`, non-finite
// numbers, bigints, dates, byte arrays, errors, and capabilities (stubs).

class Value;
class StubHook;
using StubHookPtr = std::shared_ptr<StubHook>;

struct Undefined {
  bool operator==(const Undefined&) const = default;
};

// A value already written in the Cap'n Web encoding (arrays escaped, special values as
// expressions), sent as is. For large plain payloads built from our own records (a peering
// update of 1000 routes), where building a Value tree only to write it out again costs more
// than the rest of the send. Plain data only: no stubs or promises inside. Never received.
struct Encoded {
  std::string text;
  bool operator==(const Encoded&) const = default;
};

// An integer beyond 2^53, as a decimal string with an optional leading '-'.
struct BigInt {
  std::string decimal;
  bool operator==(const BigInt&) const = default;
};

// Milliseconds since the epoch; nullopt is an invalid date.
struct Date {
  std::optional<double> ms;
  bool operator==(const Date&) const;
};

// The typed-array kinds `bytes` can carry. Uint8Array is the default (no type on the wire).
enum class BytesKind {
  Uint8Array,
  ArrayBuffer,
  DataView,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
  Float32Array,
  Float64Array,
};

std::string_view toString(BytesKind kind);
std::optional<BytesKind> parseBytesKind(std::string_view text);
// Bytes per element: 1, 2, 4 or 8.
std::size_t elementSize(BytesKind kind);

struct Bytes {
  std::string data; // raw bytes, little-endian elements
  BytesKind kind = BytesKind::Uint8Array;
  bool operator==(const Bytes&) const = default;
};

struct Member;
using Array = std::vector<Value>;
// A JSON object: members in the order given (as JavaScript keeps them), keys unique.
using Object = std::vector<Member>;

// A thrown error: name (Error, TypeError, ...), message, and extra properties (`code`, ...).
struct ErrorValue {
  std::string name = "Error";
  std::string message;
  std::optional<std::string> stack;
  Object props;
  bool operator==(const ErrorValue&) const;
};

// A capability: a reference to an object that answers calls, local or remote, settled or a
// promise. Copies share the reference; the object is released when the last copy goes.
class Stub {
public:
  Stub() = default;
  explicit Stub(StubHookPtr hook) : hook_(std::move(hook)) {}

  // A pipelined call: returns at once a promise stub for the result; nothing waits.
  Stub call(std::string_view method, Array args) const;
  // A pipelined property read.
  Stub get(std::string_view property) const;
  // A pipelined array element read.
  Stub at(int64_t index) const;
  // Drops this reference now (the last one releases the object).
  void reset() { hook_.reset(); }

  const StubHookPtr& hook() const { return hook_; }
  explicit operator bool() const { return hook_ != nullptr; }
  bool operator==(const Stub& other) const { return hook_ == other.hook_; }

private:
  StubHookPtr hook_;
};

class Value {
public:
  using Variant = std::variant<Undefined, std::nullptr_t, bool, double, std::string, Array, Object,
                               BigInt, Date, Bytes, ErrorValue, Stub, Encoded>;

  Value();                   // undefined
  Value(std::nullptr_t);     // NOLINT(google-explicit-constructor)
  Value(bool b);             // NOLINT(google-explicit-constructor)
  Value(double d);           // NOLINT(google-explicit-constructor)
  Value(int i);              // NOLINT(google-explicit-constructor)
  Value(int64_t i);          // NOLINT(google-explicit-constructor)
  Value(uint64_t i);         // NOLINT(google-explicit-constructor)
  Value(const char* s);      // NOLINT(google-explicit-constructor)
  Value(std::string s);      // NOLINT(google-explicit-constructor)
  Value(std::string_view s); // NOLINT(google-explicit-constructor)
  Value(Array a);            // NOLINT(google-explicit-constructor)
  Value(Object o);           // NOLINT(google-explicit-constructor)
  Value(BigInt b);           // NOLINT(google-explicit-constructor)
  Value(Date d);             // NOLINT(google-explicit-constructor)
  Value(Bytes b);            // NOLINT(google-explicit-constructor)
  Value(ErrorValue e);       // NOLINT(google-explicit-constructor)
  Value(Stub s);             // NOLINT(google-explicit-constructor)
  Value(Undefined u);        // NOLINT(google-explicit-constructor)
  Value(Encoded e);          // NOLINT(google-explicit-constructor)

  const Variant& variant() const { return v_; }
  Variant& variant() { return v_; }

  bool isUndefined() const { return std::holds_alternative<Undefined>(v_); }
  bool isNull() const { return std::holds_alternative<std::nullptr_t>(v_); }
  template <class T> bool is() const { return std::holds_alternative<T>(v_); }
  template <class T> const T* as() const { return std::get_if<T>(&v_); }
  template <class T> T* as() { return std::get_if<T>(&v_); }

  // Object member `key`, or nullptr (also when this is not an object).
  const Value* find(std::string_view key) const;
  // Sets object member `key` (appending it if new). This must be an object.
  Value& set(std::string_view key, Value value);

  // Structural equality; NaN equals NaN and -0 differs from 0 (what round-trips must keep).
  // Stubs compare by identity.
  bool operator==(const Value& other) const;

  // A readable, JSON-like rendering for logs and test messages.
  std::string debugString() const;

private:
  Variant v_;
};

struct Member {
  std::string key;
  Value value;
  bool operator==(const Member&) const = default;
};

// Defined here, where Member is complete (clang instantiates the variant's destructor early).
inline Value::Value() = default;
inline Value::Value(std::nullptr_t) : v_(nullptr) {}
inline Value::Value(bool b) : v_(b) {}
inline Value::Value(double d) : v_(d) {}
inline Value::Value(int i) : v_(static_cast<double>(i)) {}
inline Value::Value(int64_t i) : v_(static_cast<double>(i)) {}
inline Value::Value(uint64_t i) : v_(static_cast<double>(i)) {}
inline Value::Value(const char* s) : v_(std::string(s)) {}
inline Value::Value(std::string s) : v_(std::move(s)) {}
inline Value::Value(std::string_view s) : v_(std::string(s)) {}
inline Value::Value(Array a) : v_(std::move(a)) {}
inline Value::Value(Object o) : v_(std::move(o)) {}
inline Value::Value(BigInt b) : v_(std::move(b)) {}
inline Value::Value(Date d) : v_(d) {}
inline Value::Value(Bytes b) : v_(std::move(b)) {}
inline Value::Value(ErrorValue e) : v_(std::move(e)) {}
inline Value::Value(Stub s) : v_(std::move(s)) {}
inline Value::Value(Undefined u) : v_(u) {}
inline Value::Value(Encoded e) : v_(std::move(e)) {}

// Builds an object: object({{"a", 1}, {"b", "x"}}).
Object object(std::initializer_list<std::pair<std::string_view, Value>> members);

// A thrown value for the other side: ErrorValue{name, message} with extra props.
ErrorValue makeError(std::string name, std::string message, Object props = {});

} // namespace catalyst::rpc
