#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "catalyst/rpc/promise.h"
#include "catalyst/rpc/text_data.h"
#include "catalyst/rpc/value.h"
#include "catalyst/rpc/wire_data.h"

namespace catalyst::rpc {

// The arguments of a call, with typed accessors. A wrong type throws RpcError(TypeError), which
// rejects the call (and only the call).
class Args {
public:
  Args() = default;
  explicit Args(Array values) : values_(std::move(values)) {}

  std::size_t size() const { return values_.size(); }
  // The i-th argument, or undefined past the end.
  const Value& operator[](std::size_t i) const;
  const Array& values() const { return values_; }

  const std::string& string(std::size_t i) const;
  double number(std::size_t i) const;
  bool boolean(std::size_t i) const;
  const Object& object(std::size_t i) const;
  const Array& array(std::size_t i) const;
  const Stub& stub(std::size_t i) const;

private:
  Array values_;
};

// An object that answers calls: the C++ side of an RpcTarget. Derive, override call() (and
// get() for properties), and hand it out as a Stub with makeStub(). Its lifetime is shared by
// every stub and export of it: it is destroyed (disposed) when the last one is released.
//
//   class Counter : public rpc::Target {
//   public:
//     rpc::Promise<rpc::Value> call(std::string_view method, rpc::Args args) override {
//       if (method == "inc") { return inc(); }
//       return Target::call(method, std::move(args));
//     }
//   private:
//     rpc::Promise<rpc::Value> inc() { co_return ++n_; }
//     int n_ = 0;
//   };
//
// Methods may be coroutines returning Promise<Value>: they can co_await calls on other stubs.
// A method runs on the session's thread; a coroutine must not capture references that can die
// before it ends (write methods as members, not capturing lambdas).
class Target {
public:
  virtual ~Target() = default;

  // Calls method `method` (empty for a function called directly). The default rejects with
  // TypeError "'<method>' is not a function.".
  virtual Promise<Value> call(std::string_view method, Args args);

  // Reads property `name`. The default is undefined.
  virtual Value get(std::string_view name);

  // Whether callRaw() takes method `method`. The default is false: the arguments of every call
  // are evaluated (and nothing else is looked at) before call().
  virtual bool takesRaw(std::string_view method) const;
  // Calls method `method` (one takesRaw() named) with its arguments as they came off the wire,
  // once they were found to be plain data (WireArgs::plain): valid during the call only.
  // nullopt declines, and the session evaluates the arguments and calls call(). A target that
  // takes it must behave exactly as call() would with the evaluated arguments.
  virtual std::optional<Promise<Value>> callRaw(std::string_view method, const WireArgs& args);

  // Whether callText() takes method `method`. The default is false.
  virtual bool takesText(std::string_view method) const;
  // Calls method `method` (one takesText() named) with its arguments read straight from the
  // message text (rpc/text_data.h: the common spelling of plain data, with no JSON tree): the
  // target reads `call.args` itself or indexes them (TextCall::index()); valid during the call
  // only. nullopt declines (as it must when index() does), and the session parses the message
  // as usual. A target that takes it must behave exactly as call() would with the evaluated
  // arguments.
  virtual std::optional<Promise<Value>> callText(std::string_view method, const TextCall& call);
};

using TargetPtr = std::shared_ptr<Target>;

// A stub for a local target.
Stub makeStub(TargetPtr target);

// A stub for a function (a callback): calls with an empty path invoke `fn`.
Stub makeFunctionStub(std::function<Promise<Value>(Args)> fn);
// The same, with `raw` for calls whose arguments are plain data on the wire (Target::callRaw;
// `raw` gets the escaped array of the arguments).
Stub makeFunctionStub(std::function<Promise<Value>(Args)> fn,
                      std::function<std::optional<Promise<Value>>(const WireArgs&)> raw);
// The same, with `text` for calls whose arguments the session may read from the message text
// (Target::callText).
Stub makeFunctionStub(std::function<Promise<Value>(Args)> fn,
                      std::function<std::optional<Promise<Value>>(const WireArgs&)> raw,
                      std::function<std::optional<Promise<Value>>(const TextCall&)> text);

// A stub that is already settled to `value`.
Stub makePayloadStub(Value value);

// Waits for the value `stub` stands for: a call result, a property, or the stub itself
// when it is a settled capability.
Promise<Value> pull(const Stub& stub);

} // namespace catalyst::rpc
