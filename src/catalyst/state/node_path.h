#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace catalyst::state {

// A route's nodePath ([sender, ..., origin]): an immutable list of node ids that copies share.
// Most routes a node learns arrive with the same few paths ([B, A] for everything A originates
// behind neighbour B), and every learned route keeps its path in the Adj-RIB-In: sharing one
// list instead of a vector of strings per route saves ~90 bytes per route (docs/benchmarks.md,
// peering). The peering decoder hands consecutive items with equal paths the same list.
//
// Reads like a const std::vector<std::string>; the few writers (builders, tests) use the
// mutators below, which copy the list first (copy on write), so no other holder sees a change.
class NodePath {
public:
  using value_type = std::string;
  using const_iterator = std::vector<std::string>::const_iterator;
  using iterator = const_iterator;
  using size_type = std::size_t;

  NodePath() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): a path is a list of ids
  NodePath(std::vector<std::string> ids)
      : ids_(ids.empty() ? nullptr
                         : std::make_shared<const std::vector<std::string>>(std::move(ids))) {}
  NodePath(std::initializer_list<std::string> ids) : NodePath(std::vector<std::string>(ids)) {}

  const std::vector<std::string>& ids() const { return ids_ ? *ids_ : noIds(); }
  // NOLINTNEXTLINE(google-explicit-constructor): read as the vector it is
  operator const std::vector<std::string>&() const { return ids(); }

  const_iterator begin() const { return ids().begin(); }
  const_iterator end() const { return ids().end(); }
  std::size_t size() const { return ids_ ? ids_->size() : 0; }
  bool empty() const { return size() == 0; }
  const std::string& operator[](std::size_t i) const { return (*ids_)[i]; }
  const std::string& front() const { return ids_->front(); }
  const std::string& back() const { return ids_->back(); }

  // Whether both hold the very same list (a cheap check before comparing ids).
  bool sharesWith(const NodePath& other) const { return ids_ == other.ids_; }

  // Copy on write.
  void push_back(std::string id) {
    std::vector<std::string> ids = this->ids();
    ids.push_back(std::move(id));
    *this = NodePath(std::move(ids));
  }
  template <class... Args> void emplace_back(Args&&... args) {
    push_back(std::string(std::forward<Args>(args)...));
  }
  template <class It> void insert(const_iterator at, It first, It last) {
    std::vector<std::string> ids = this->ids();
    ids.insert(ids.begin() + (at - begin()), first, last);
    *this = NodePath(std::move(ids));
  }
  void clear() { ids_.reset(); }

  friend bool operator==(const NodePath& a, const NodePath& b) {
    return a.ids_ == b.ids_ || a.ids() == b.ids();
  }
  friend bool operator==(const NodePath& a, const std::vector<std::string>& b) {
    return a.ids() == b;
  }

private:
  static const std::vector<std::string>& noIds() {
    static const std::vector<std::string> kEmpty;
    return kEmpty;
  }

  std::shared_ptr<const std::vector<std::string>> ids_;
};

} // namespace catalyst::state
