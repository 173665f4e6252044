#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "catalyst/rpc/value.h"

namespace catalyst::rpc {

// What a rejected call carries: the thrown value, usually an ErrorValue. Throw it from a
// method (or let an awaited call throw it) to reject the caller's promise.
class RpcError : public std::exception {
public:
  explicit RpcError(Value value) : value_(std::move(value)) {}
  RpcError(std::string name, std::string message, Object props = {})
      : value_(makeError(std::move(name), std::move(message), std::move(props))) {}

  const Value& value() const { return value_; }
  const char* what() const noexcept override;

private:
  Value value_;
  mutable std::string what_;
};

// The outcome of a settled promise: a value or a rejection.
template <class T> struct Settled {
  std::optional<T> value; // set when fulfilled
  Value error;            // the rejection otherwise

  bool ok() const { return value.has_value(); }
};

// A single-threaded promise (JavaScript's, without the microtask queue): callbacks registered
// with then() run when it settles, in registration order, on the thread that settles it.
// Also a C++20 coroutine type: a function returning Promise<T> may co_await other promises and
// co_return a T; an exception escaping it rejects the promise (RpcError keeps its value, any
// other std::exception becomes an Error with its what()).
template <class T> class Promise {
  struct State {
    std::optional<Settled<T>> settled;
    std::vector<std::function<void(const Settled<T>&)>> waiters;
  };

public:
  // A promise and the means to settle it.
  class Resolver {
  public:
    Resolver() = default;
    void resolve(T value) const { settle(Settled<T>{std::move(value), Value()}); }
    void reject(Value error) const { settle(Settled<T>{std::nullopt, std::move(error)}); }
    void settle(Settled<T> outcome) const {
      if (!state_ || state_->settled) {
        return; // settling twice keeps the first outcome
      }
      state_->settled = std::move(outcome);
      auto waiters = std::move(state_->waiters);
      state_->waiters.clear();
      for (auto& w : waiters) {
        w(*state_->settled);
      }
    }
    bool settled() const { return state_ && state_->settled.has_value(); }

  private:
    friend class Promise;
    explicit Resolver(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

  Promise() : state_(std::make_shared<State>()) {}

  static std::pair<Promise, Resolver> make() {
    Promise p;
    return {p, Resolver(p.state_)};
  }
  static Promise resolved(T value) {
    auto [p, r] = make();
    r.resolve(std::move(value));
    return p;
  }
  static Promise rejected(Value error) {
    auto [p, r] = make();
    r.reject(std::move(error));
    return p;
  }

  bool settled() const { return state_->settled.has_value(); }
  // The outcome; only when settled().
  const Settled<T>& outcome() const { return *state_->settled; }

  // Runs `cb` when the promise settles (at once if it has).
  void then(std::function<void(const Settled<T>&)> cb) const {
    if (state_->settled) {
      cb(*state_->settled);
    } else {
      state_->waiters.push_back(std::move(cb));
    }
  }

  // co_await: the value, or RpcError thrown with the rejection.
  bool await_ready() const noexcept { return settled(); }
  void await_suspend(std::coroutine_handle<> h) const {
    state_->waiters.push_back([h](const Settled<T>&) { h.resume(); });
  }
  T await_resume() const {
    const Settled<T>& s = *state_->settled;
    if (!s.ok()) {
      throw RpcError(s.error);
    }
    return *s.value;
  }

  struct promise_type {
    Promise result;
    Promise get_return_object() { return result; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(T value) { Resolver(result.state_).resolve(std::move(value)); }
    void unhandled_exception() noexcept {
      Resolver r(result.state_);
      try {
        throw;
      } catch (const RpcError& e) {
        r.reject(e.value());
      } catch (const std::exception& e) {
        r.reject(makeError("Error", e.what()));
      } catch (...) {
        r.reject(makeError("Error", "unknown exception"));
      }
    }
  };

private:
  std::shared_ptr<State> state_;
};

} // namespace catalyst::rpc
