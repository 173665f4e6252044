#pragma once

#include <memory>
#include <utility>

namespace catalyst::state {

// A value kept on the heap that behaves as a value: copies copy it, == compares it. For the
// records of an open-addressing table, whose slots should hold a pointer rather than the
// record (a slot left empty then costs 8 bytes, not the record's size) and whose records
// should keep their address when the table grows.
template <class T> class HeapValue {
public:
  HeapValue() : value_(std::make_unique<T>()) {}
  explicit HeapValue(T value) : value_(std::make_unique<T>(std::move(value))) {}
  HeapValue(const HeapValue& other) : value_(std::make_unique<T>(*other.value_)) {}
  HeapValue& operator=(const HeapValue& other) {
    if (this != &other) {
      value_ = std::make_unique<T>(*other.value_);
    }
    return *this;
  }
  HeapValue(HeapValue&&) noexcept = default;
  HeapValue& operator=(HeapValue&&) noexcept = default;
  ~HeapValue() = default;

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }

  friend bool operator==(const HeapValue& a, const HeapValue& b) { return *a.value_ == *b.value_; }

private:
  std::unique_ptr<T> value_; // null only when moved from
};

} // namespace catalyst::state
