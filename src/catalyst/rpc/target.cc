#include "catalyst/rpc/target.h"

#include "catalyst/rpc/hooks.h"

namespace catalyst::rpc {
namespace {

const Value& undefinedValue() {
  static const Value kUndefined; // NOLINT: an immutable constant
  return kUndefined;
}

[[noreturn]] void wrongType(std::size_t i, const char* expected) {
  throw RpcError("TypeError", "argument " + std::to_string(i) + " must be " + expected);
}

class FunctionTarget : public Target {
public:
  using Raw = std::function<std::optional<Promise<Value>>(const WireArgs&)>;
  using Text = std::function<std::optional<Promise<Value>>(const TextCall&)>;
  FunctionTarget(std::function<Promise<Value>(Args)> fn, Raw raw, Text text)
      : fn_(std::move(fn)), raw_(std::move(raw)), text_(std::move(text)) {}
  Promise<Value> call(std::string_view method, Args args) override {
    if (method.empty()) {
      return fn_(std::move(args));
    }
    return Target::call(method, std::move(args));
  }
  bool takesRaw(std::string_view method) const override { return method.empty() && raw_; }
  std::optional<Promise<Value>> callRaw(std::string_view /*method*/,
                                        const WireArgs& args) override {
    return raw_(args);
  }
  bool takesText(std::string_view method) const override { return method.empty() && text_; }
  std::optional<Promise<Value>> callText(std::string_view /*method*/,
                                         const TextCall& call) override {
    return text_(call);
  }

private:
  std::function<Promise<Value>(Args)> fn_;
  Raw raw_;
  Text text_;
};

} // namespace

const Value& Args::operator[](std::size_t i) const {
  return i < values_.size() ? values_[i] : undefinedValue();
}

const std::string& Args::string(std::size_t i) const {
  const std::string* s = (*this)[i].as<std::string>();
  if (s == nullptr) {
    wrongType(i, "a string");
  }
  return *s;
}

double Args::number(std::size_t i) const {
  const double* d = (*this)[i].as<double>();
  if (d == nullptr) {
    wrongType(i, "a number");
  }
  return *d;
}

bool Args::boolean(std::size_t i) const {
  const bool* b = (*this)[i].as<bool>();
  if (b == nullptr) {
    wrongType(i, "a boolean");
  }
  return *b;
}

const Object& Args::object(std::size_t i) const {
  const Object* o = (*this)[i].as<Object>();
  if (o == nullptr) {
    wrongType(i, "an object");
  }
  return *o;
}

const Array& Args::array(std::size_t i) const {
  const Array* a = (*this)[i].as<Array>();
  if (a == nullptr) {
    wrongType(i, "an array");
  }
  return *a;
}

const Stub& Args::stub(std::size_t i) const {
  const Stub* s = (*this)[i].as<Stub>();
  if (s == nullptr || !*s) {
    wrongType(i, "a stub");
  }
  return *s;
}

Promise<Value> Target::call(std::string_view method, Args /*args*/) {
  return Promise<Value>::rejected(
      makeError("TypeError", "'" + std::string(method) + "' is not a function."));
}

Value Target::get(std::string_view /*name*/) { return Value(); }

bool Target::takesRaw(std::string_view /*method*/) const { return false; }

std::optional<Promise<Value>> Target::callRaw(std::string_view /*method*/,
                                              const WireArgs& /*args*/) {
  return std::nullopt;
}

bool Target::takesText(std::string_view /*method*/) const { return false; }

std::optional<Promise<Value>> Target::callText(std::string_view /*method*/,
                                               const TextCall& /*call*/) {
  return std::nullopt;
}

Stub makeStub(TargetPtr target) { return Stub(std::make_shared<TargetHook>(std::move(target))); }

Stub makeFunctionStub(std::function<Promise<Value>(Args)> fn) {
  return makeStub(std::make_shared<FunctionTarget>(std::move(fn), nullptr, nullptr));
}

Stub makeFunctionStub(std::function<Promise<Value>(Args)> fn,
                      std::function<std::optional<Promise<Value>>(const WireArgs&)> raw) {
  return makeStub(std::make_shared<FunctionTarget>(std::move(fn), std::move(raw), nullptr));
}

Stub makeFunctionStub(std::function<Promise<Value>(Args)> fn,
                      std::function<std::optional<Promise<Value>>(const WireArgs&)> raw,
                      std::function<std::optional<Promise<Value>>(const TextCall&)> text) {
  return makeStub(std::make_shared<FunctionTarget>(std::move(fn), std::move(raw), std::move(text)));
}

Stub makePayloadStub(Value value) { return Stub(std::make_shared<PayloadHook>(std::move(value))); }

Promise<Value> pull(const Stub& stub) {
  if (!stub) {
    return Promise<Value>::rejected(makeError("TypeError", "pull of an empty stub"));
  }
  return stub.hook()->pull();
}

Stub Stub::call(std::string_view method, Array args) const {
  if (!hook_) {
    return Stub(std::make_shared<ErrorHook>(makeError("TypeError", "call on an empty stub")));
  }
  Path path;
  if (!method.empty()) {
    path.emplace_back(std::string(method));
  }
  return Stub(hook_->call(std::move(path), std::move(args)));
}

Stub Stub::get(std::string_view property) const {
  if (!hook_) {
    return Stub(std::make_shared<ErrorHook>(makeError("TypeError", "read on an empty stub")));
  }
  return Stub(hook_->get(Path{std::string(property)}));
}

Stub Stub::at(int64_t index) const {
  if (!hook_) {
    return Stub(std::make_shared<ErrorHook>(makeError("TypeError", "read on an empty stub")));
  }
  return Stub(hook_->get(Path{index}));
}

const char* RpcError::what() const noexcept {
  if (what_.empty()) {
    if (const ErrorValue* e = value_.as<ErrorValue>()) {
      what_ = e->name + ": " + e->message;
    } else {
      what_ = value_.debugString();
    }
  }
  return what_.c_str();
}

} // namespace catalyst::rpc
