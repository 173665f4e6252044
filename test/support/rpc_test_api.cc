#include "support/rpc_test_api.h"

#include <string>

#include "catalyst/rpc/json_writer.h"

namespace catalyst::test {
namespace {

// The id as JavaScript's "user" + id writes it (any double, not only small integers).
std::string idText(double id) {
  std::string s;
  rpc::json::appendNumber(s, id);
  return s;
}

class User : public rpc::Target {
public:
  explicit User(double id) : id_(id) {}
  rpc::Promise<rpc::Value> call(std::string_view method, rpc::Args args) override {
    if (method == "getName") {
      return rpc::Promise<rpc::Value>::resolved("user" + idText(id_));
    }
    return Target::call(method, std::move(args));
  }
  rpc::Value get(std::string_view name) override {
    if (name == "profile") {
      return rpc::object({{"name", "user" + idText(id_)}, {"tags", rpc::Array{"a", "b"}}});
    }
    return rpc::Value();
  }

private:
  double id_;
};

class Counter : public rpc::Target {
public:
  Counter(double start, std::shared_ptr<int> disposed)
      : value_(start), disposed_(std::move(disposed)) {}
  ~Counter() override { ++*disposed_; }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  Counter(Counter&&) = delete;
  Counter& operator=(Counter&&) = delete;

  rpc::Promise<rpc::Value> call(std::string_view method, rpc::Args args) override {
    if (method == "inc") {
      return rpc::Promise<rpc::Value>::resolved(++value_);
    }
    return Target::call(method, std::move(args));
  }
  rpc::Value get(std::string_view name) override {
    return name == "value" ? rpc::Value(value_) : rpc::Value();
  }

private:
  double value_;
  std::shared_ptr<int> disposed_;
};

rpc::Value add(const rpc::Value& a, const rpc::Value& b) {
  if (a.is<double>() && b.is<double>()) {
    return *a.as<double>() + *b.as<double>();
  }
  if (a.is<std::string>() && b.is<std::string>()) {
    return *a.as<std::string>() + *b.as<std::string>();
  }
  throw rpc::RpcError("TypeError", "add: arguments must be two numbers or two strings");
}

} // namespace

rpc::Promise<rpc::Value> InteropApi::call(std::string_view method, rpc::Args args) {
  using P = rpc::Promise<rpc::Value>;
  if (method == "hello") {
    return P::resolved("Hello, " + args.string(0) + "!");
  }
  if (method == "add") {
    return P::resolved(add(args[0], args[1]));
  }
  if (method == "getUser") {
    return P::resolved(rpc::makeStub(std::make_shared<User>(args.number(0))));
  }
  if (method == "getUserData") {
    const double id = args.number(0);
    return P::resolved(
        rpc::object({{"id", id}, {"name", "user" + idText(id)}, {"tags", rpc::Array{"t1", "t2"}}}));
  }
  if (method == "subscribe") {
    return subscribe(args.stub(0));
  }
  if (method == "callTwice") {
    return callTwice(args.stub(0));
  }
  if (method == "nameOf") {
    return nameOf(args.stub(0));
  }
  if (method == "fail") {
    return P::rejected(rpc::makeError("TypeError", "bad input", rpc::object({{"code", "E_BAD"}})));
  }
  if (method == "makeCounter") {
    const double start = args[0].is<double>() ? args.number(0) : 0;
    return P::resolved(rpc::makeStub(std::make_shared<Counter>(start, disposed_)));
  }
  if (method == "disposedCount") {
    return P::resolved(*disposed_);
  }
  if (method == "echo") {
    return P::resolved(args[0]);
  }
  return Target::call(method, std::move(args));
}

rpc::Promise<rpc::Value> InteropApi::subscribe(rpc::Stub cb) {
  // (Arguments built outside the braced list: g++ 12 miscompiles string literals in an
  // initializer list inside a coroutine.)
  rpc::Array args;
  args.emplace_back(std::string("event-1"));
  rpc::Value result = co_await rpc::pull(cb.call("", std::move(args)));
  const std::string* text = result.as<std::string>();
  co_return "callback returned " + (text != nullptr ? *text : result.debugString());
}

rpc::Promise<rpc::Value> InteropApi::nameOf(rpc::Stub user) {
  rpc::Value name = co_await rpc::pull(user.call("getName", rpc::Array()));
  co_return name;
}

rpc::Promise<rpc::Value> InteropApi::callTwice(rpc::Stub cb) {
  rpc::Array one;
  one.emplace_back(1);
  rpc::Value first = co_await rpc::pull(cb.call("", std::move(one)));
  rpc::Array two;
  two.emplace_back(2);
  rpc::Value second = co_await rpc::pull(cb.call("", std::move(two)));
  co_return rpc::Array{first, second};
}

} // namespace catalyst::test
