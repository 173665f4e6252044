#pragma once

// The objects behind stubs (capnweb's StubHook family): what a call, a property read or a
// pull does depends on whether the stub is a local target, a plain value, a promise, an error
// or an import from a peer (session.cc).

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "catalyst/rpc/promise.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpc/value.h"

namespace catalyst::rpc {

// One step of a property path: a name, or an array index.
using PathElement = std::variant<std::string, int64_t>;
using Path = std::vector<PathElement>;

std::string joinPath(const Path& path);

class StubHook : public std::enable_shared_from_this<StubHook> {
public:
  virtual ~StubHook() = default;

  // Calls the function at `path` (empty: this hook is the function). Returns at once a hook
  // for the result. Arguments that are promises are awaited before the callee runs.
  virtual StubHookPtr call(Path path, Array args) = 0;
  // Reads the property at `path`; returns at once a hook for it.
  virtual StubHookPtr get(Path path) = 0;
  // The value this stands for, once known.
  virtual Promise<Value> pull() = 0;
  // True while this stands for a value not known yet (the wire's `pipeline`/`promise`).
  virtual bool isPromise() const { return false; }
  // call() with the arguments as they came off the wire, when what is called takes them so
  // (Target::takesRaw) and they are plain data (WireArgs::plain, checked only then); nullptr
  // declines, and the caller evaluates the arguments and uses call().
  virtual StubHookPtr callRaw(const Path& /*path*/, const WireArgs& /*args*/) { return nullptr; }
  // call() with the arguments read straight from the message text (Target::takesText): `args`
  // is the text of the argument list, indexed into `tape` (the session's, reused) only when
  // what is called takes it; nullptr declines, and the caller parses the message as usual.
  virtual StubHookPtr callText(const Path& /*path*/, const TextCall& /*call*/) { return nullptr; }
};

// A settled plain value (which may hold stubs).
class PayloadHook : public StubHook {
public:
  explicit PayloadHook(Value value) : value_(std::move(value)) {}
  StubHookPtr call(Path path, Array args) override;
  StubHookPtr get(Path path) override;
  StubHookPtr callRaw(const Path& path, const WireArgs& args) override;
  StubHookPtr callText(const Path& path, const TextCall& call) override;
  Promise<Value> pull() override { return Promise<Value>::resolved(value_); }
  const Value& value() const { return value_; }

private:
  Value value_;
};

// A local target.
class TargetHook : public StubHook {
public:
  explicit TargetHook(TargetPtr target) : target_(std::move(target)) {}
  StubHookPtr call(Path path, Array args) override;
  StubHookPtr get(Path path) override;
  Promise<Value> pull() override;
  StubHookPtr callRaw(const Path& path, const WireArgs& args) override;
  StubHookPtr callText(const Path& path, const TextCall& call) override;
  const TargetPtr& target() const { return target_; }

private:
  TargetPtr target_;
};

// A rejection: every call and read on it is rejected the same way.
class ErrorHook : public StubHook {
public:
  explicit ErrorHook(Value error) : error_(std::move(error)) {}
  StubHookPtr call(Path, Array) override { return shared_from_this(); }
  StubHookPtr get(Path) override { return shared_from_this(); }
  Promise<Value> pull() override { return Promise<Value>::rejected(error_); }
  const Value& error() const { return error_; }

private:
  Value error_;
};

// A local promise of a hook. Calls made before it settles are queued and delivered, in order,
// to what it settles to. Always a promise: pulling it yields the value it settles to (where a
// settled capability would yield itself), which is what the wire's `pipeline` form means.
class PromiseHook : public StubHook {
public:
  explicit PromiseHook(Promise<StubHookPtr> promise) : promise_(std::move(promise)) {}
  StubHookPtr call(Path path, Array args) override;
  StubHookPtr get(Path path) override;
  Promise<Value> pull() override;
  bool isPromise() const override { return true; }
  const Promise<StubHookPtr>& promise() const { return promise_; }

private:
  Promise<StubHookPtr> promise_;
};

// The hook a call result or a value stands for: a stub's own hook, or a payload.
StubHookPtr hookFor(Value value);

// Settles when every promise stub inside `values` has been pulled, with each replaced by its
// value; rejects with the first rejection.
Promise<Array> awaitPromises(Array values);

// Whether `v` holds a promise stub anywhere (what awaitPromises would wait for).
bool hasPromises(const Value& v);

} // namespace catalyst::rpc
