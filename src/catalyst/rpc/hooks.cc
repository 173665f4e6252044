#include "catalyst/rpc/hooks.h"

#include <algorithm>
#include <utility>

namespace catalyst::rpc {
namespace {

Value typeError(std::string message) { return makeError("TypeError", std::move(message)); }

// A property of a plain value: an object's own member, an array's element; else undefined.
Value property(const Value& v, const PathElement& key) {
  if (v.is<Object>()) {
    if (const std::string* name = std::get_if<std::string>(&key)) {
      if (const Value* m = v.find(*name)) {
        return *m;
      }
    }
    return Value();
  }
  if (const Array* a = v.as<Array>()) {
    // Only numeric path elements index arrays (as capnweb does: a string "1" reads undefined).
    const int64_t* index = std::get_if<int64_t>(&key);
    if (index != nullptr && *index >= 0 && static_cast<std::size_t>(*index) < a->size()) {
      return (*a)[static_cast<std::size_t>(*index)];
    }
  }
  return Value();
}

// Walks `path` through `root`. Stops early at a stub, returning it and the rest of the path.
struct Walk {
  Value value;
  std::size_t consumed = 0; // path elements walked
};
Walk walk(const Value& root, const Path& path, std::size_t count) {
  Walk w{root, 0};
  while (w.consumed < count) {
    if (w.value.is<Stub>()) {
      return w;
    }
    w.value = property(w.value, path[w.consumed]);
    ++w.consumed;
  }
  return w;
}

Path rest(const Path& path, std::size_t from) {
  return Path(path.begin() + static_cast<std::ptrdiff_t>(from), path.end());
}

Promise<StubHookPtr> toHook(const Promise<Value>& p) {
  auto [out, r] = Promise<StubHookPtr>::make();
  p.then([r = r](const Settled<Value>& s) {
    if (s.ok()) {
      r.resolve(hookFor(*s.value));
    } else {
      r.reject(s.error);
    }
  });
  return out;
}

// Collects the promise stubs inside `v`, as slots to fill.
void collectPromises(Value& v, std::vector<Value*>& slots) {
  if (Stub* s = v.as<Stub>()) {
    if (s->hook() && s->hook()->isPromise()) {
      slots.push_back(&v);
    }
  } else if (Array* a = v.as<Array>()) {
    for (Value& e : *a) {
      collectPromises(e, slots);
    }
  } else if (Object* o = v.as<Object>()) {
    for (Member& m : *o) {
      collectPromises(m.value, slots);
    }
  }
}

} // namespace

bool hasPromises(const Value& v) {
  if (const Stub* s = v.as<Stub>()) {
    return s->hook() && s->hook()->isPromise();
  }
  if (const Array* a = v.as<Array>()) {
    return std::any_of(a->begin(), a->end(), [](const Value& e) { return hasPromises(e); });
  }
  if (const Object* o = v.as<Object>()) {
    return std::any_of(o->begin(), o->end(), [](const Member& m) { return hasPromises(m.value); });
  }
  return false;
}

std::string joinPath(const Path& path) {
  std::string out;
  for (const PathElement& e : path) {
    if (!out.empty()) {
      out.push_back('.');
    }
    if (const std::string* s = std::get_if<std::string>(&e)) {
      out += *s;
    } else {
      out += std::to_string(std::get<int64_t>(e));
    }
  }
  return out;
}

StubHookPtr hookFor(Value value) {
  if (Stub* s = value.as<Stub>()) {
    if (s->hook()) {
      return s->hook();
    }
  }
  return std::make_shared<PayloadHook>(std::move(value));
}

Promise<Array> awaitPromises(Array values) {
  auto holder = std::make_shared<Value>(std::move(values));
  std::vector<Value*> slots;
  collectPromises(*holder, slots);
  if (slots.empty()) {
    return Promise<Array>::resolved(std::move(*holder->as<Array>()));
  }
  auto [out, r] = Promise<Array>::make();
  auto remaining = std::make_shared<std::size_t>(slots.size());
  for (Value* slot : slots) {
    Promise<Value> p = pull(*slot->as<Stub>());
    p.then([holder, slot, remaining, r = r](const Settled<Value>& s) {
      if (r.settled()) {
        return;
      }
      if (!s.ok()) {
        r.reject(s.error);
        return;
      }
      *slot = *s.value;
      if (--*remaining == 0) {
        r.resolve(std::move(*holder->as<Array>()));
      }
    });
  }
  return out;
}

StubHookPtr PayloadHook::call(Path path, Array args) {
  if (path.empty()) {
    return std::make_shared<ErrorHook>(typeError("'' is not a function."));
  }
  Walk w = walk(value_, path, path.size());
  if (w.value.is<Stub>() && w.value.as<Stub>()->hook()) {
    return w.value.as<Stub>()->hook()->call(rest(path, w.consumed), std::move(args));
  }
  return std::make_shared<ErrorHook>(typeError("'" + joinPath(path) + "' is not a function."));
}

namespace {

// The stub at `path` in `value` and the rest of the path, for a raw or text call (a call on
// the value itself, or on anything but a stub, is left to call()).
template <class Forward>
StubHookPtr forwardToStub(const Value& value, const Path& path, Forward forward) {
  if (path.empty()) {
    return nullptr;
  }
  Walk w = walk(value, path, path.size());
  if (w.value.is<Stub>() && w.value.as<Stub>()->hook()) {
    return forward(*w.value.as<Stub>()->hook(), rest(path, w.consumed));
  }
  return nullptr;
}

} // namespace

StubHookPtr PayloadHook::callRaw(const Path& path, const WireArgs& args) {
  return forwardToStub(
      value_, path, [&args](StubHook& hook, const Path& tail) { return hook.callRaw(tail, args); });
}

StubHookPtr PayloadHook::callText(const Path& path, const TextCall& call) {
  return forwardToStub(value_, path, [&call](StubHook& hook, const Path& tail) {
    return hook.callText(tail, call);
  });
}

StubHookPtr PayloadHook::get(Path path) {
  Walk w = walk(value_, path, path.size());
  if (w.consumed < path.size() && w.value.is<Stub>() && w.value.as<Stub>()->hook()) {
    return w.value.as<Stub>()->hook()->get(rest(path, w.consumed));
  }
  return hookFor(std::move(w.value));
}

namespace {

// `target`'s method `method` with `args`; an exception the method throws rejects the result.
Promise<Value> invoke(const TargetPtr& target, const std::string& method, Array args) {
  try {
    return target->call(method, Args(std::move(args)));
  } catch (const RpcError& e) {
    return Promise<Value>::rejected(e.value());
  } catch (const std::exception& e) {
    return Promise<Value>::rejected(makeError("Error", e.what()));
  }
}

} // namespace

// What a call's result becomes: the hook of a value already there, else a promise of one.
StubHookPtr resultHook(Promise<Value> result) {
  if (!result.settled()) {
    return std::make_shared<PromiseHook>(toHook(result));
  }
  const Settled<Value>& outcome = result.outcome();
  return outcome.ok() ? hookFor(*outcome.value)
                      : StubHookPtr(std::make_shared<ErrorHook>(outcome.error));
}

namespace {

// The method a raw or text call names: the path's one name, or empty for a function; nullopt
// when the path is longer or an index (left to call()).
std::optional<std::string_view> rawMethod(const Path& path) {
  if (path.empty()) {
    return std::string_view();
  }
  const std::string* name = path.size() == 1 ? std::get_if<std::string>(&path.front()) : nullptr;
  return name == nullptr ? std::nullopt : std::optional<std::string_view>(*name);
}

// The hook of what a raw or text callee returned; an exception it throws rejects the result.
template <class Invoke> StubHookPtr rawResult(Invoke invoke) {
  std::optional<Promise<Value>> result;
  try {
    result = invoke();
  } catch (const RpcError& e) {
    result = Promise<Value>::rejected(e.value());
  } catch (const std::exception& e) {
    result = Promise<Value>::rejected(makeError("Error", e.what()));
  }
  return result ? resultHook(std::move(*result)) : nullptr;
}

} // namespace

StubHookPtr TargetHook::callRaw(const Path& path, const WireArgs& args) {
  const std::optional<std::string_view> method = rawMethod(path);
  // Only a target that takes the method raw has its arguments looked at.
  if (!method || !target_->takesRaw(*method) || !args.plain()) {
    return nullptr;
  }
  return rawResult([&] { return target_->callRaw(*method, args); });
}

StubHookPtr TargetHook::callText(const Path& path, const TextCall& call) {
  const std::optional<std::string_view> method = rawMethod(path);
  if (!method || !target_->takesText(*method)) {
    return nullptr;
  }
  return rawResult([&] { return target_->callText(*method, call); });
}

StubHookPtr TargetHook::call(Path path, Array args) {
  if (path.size() > 1) {
    Path parent(path.begin(), path.end() - 1);
    return get(std::move(parent))->call(Path{path.back()}, std::move(args));
  }
  std::string method;
  if (!path.empty()) {
    const std::string* name = std::get_if<std::string>(&path.front());
    if (name == nullptr) {
      return std::make_shared<ErrorHook>(typeError("'" + joinPath(path) + "' is not a function."));
    }
    method = *name;
  }
  if (std::none_of(args.begin(), args.end(), [](const Value& v) { return hasPromises(v); })) {
    // Nothing to await (the common case): the method runs now, and a result that is already
    // there becomes the hook itself rather than a settled promise.
    return resultHook(invoke(target_, method, std::move(args)));
  }
  auto [out, r] = Promise<Value>::make();
  TargetPtr target = target_;
  awaitPromises(std::move(args)).then([target, method, r = r](const Settled<Array>& s) {
    if (!s.ok()) {
      r.reject(s.error);
      return;
    }
    invoke(target, method, *s.value).then([r](const Settled<Value>& result) { r.settle(result); });
  });
  return std::make_shared<PromiseHook>(toHook(out));
}

StubHookPtr TargetHook::get(Path path) {
  if (path.empty()) {
    return shared_from_this();
  }
  const std::string* name = std::get_if<std::string>(&path.front());
  if (name == nullptr) {
    return std::make_shared<PayloadHook>(Value());
  }
  Value v;
  try {
    v = target_->get(*name);
  } catch (const RpcError& e) {
    return std::make_shared<ErrorHook>(e.value());
  } catch (const std::exception& e) {
    return std::make_shared<ErrorHook>(makeError("Error", e.what()));
  }
  StubHookPtr hook = hookFor(std::move(v));
  return path.size() == 1 ? hook : hook->get(rest(path, 1));
}

Promise<Value> TargetHook::pull() {
  return Promise<Value>::resolved(Value(Stub(shared_from_this())));
}

StubHookPtr PromiseHook::call(Path path, Array args) {
  auto [out, r] = Promise<StubHookPtr>::make();
  promise_.then([path = std::move(path), args = std::move(args),
                 r = r](const Settled<StubHookPtr>& s) mutable {
    if (s.ok()) {
      r.resolve((*s.value)->call(std::move(path), std::move(args)));
    } else {
      r.reject(s.error);
    }
  });
  return std::make_shared<PromiseHook>(out);
}

StubHookPtr PromiseHook::get(Path path) {
  auto [out, r] = Promise<StubHookPtr>::make();
  promise_.then([path = std::move(path), r = r](const Settled<StubHookPtr>& s) mutable {
    if (s.ok()) {
      r.resolve((*s.value)->get(std::move(path)));
    } else {
      r.reject(s.error);
    }
  });
  return std::make_shared<PromiseHook>(out);
}

Promise<Value> PromiseHook::pull() {
  auto [out, r] = Promise<Value>::make();
  promise_.then([r = r](const Settled<StubHookPtr>& s) {
    if (s.ok()) {
      (*s.value)->pull().then([r](const Settled<Value>& v) { r.settle(v); });
    } else {
      r.reject(s.error);
    }
  });
  return out;
}

} // namespace catalyst::rpc
