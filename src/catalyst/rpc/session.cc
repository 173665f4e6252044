#include "catalyst/rpc/session.h"

#include <array>
#include <cctype>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "catalyst/rpc/hooks.h"
#include "catalyst/rpc/json_writer.h"
#include "catalyst/rpc/text_data.h"
#include "catalyst/rpc/wire_data.h"

namespace catalyst::rpc {
namespace {

namespace bj = boost::json;

// The peer broke the protocol: the session aborts.
struct ProtocolError {
  std::string message;
};

// An expression this implementation does not evaluate: the call (only) is rejected.
struct CallError {
  Value error;
};

constexpr std::array<std::string_view, 8> kErrorNames{
    "Error",       "EvalError", "RangeError", "ReferenceError",
    "SyntaxError", "TypeError", "URIError",   "AggregateError"};

// Replaces every stub inside `v` with undefined.
void stripStubs(Value& v) {
  if (v.is<Stub>()) {
    v = Value();
  } else if (Array* a = v.as<Array>()) {
    for (Value& e : *a) {
      stripStubs(e);
    }
  } else if (Object* o = v.as<Object>()) {
    for (Member& m : *o) {
      stripStubs(m.value);
    }
  } else if (ErrorValue* e = v.as<ErrorValue>()) {
    for (Member& m : e->props) {
      stripStubs(m.value);
    }
  }
}

std::string compact(const bj::value& v) {
  std::string s = bj::serialize(v);
  if (s.size() > 200) {
    s.resize(200);
    s += "...";
  }
  return s;
}

std::optional<int64_t> asId(const bj::value& v) {
  if (v.is_int64()) {
    return v.as_int64();
  }
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_double()) {
    const double d = v.as_double();
    if (std::trunc(d) == d && std::fabs(d) < 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

// The two messages every call brings in their tightest spelling, ["pull",N] and
// ["release",N,M] (what capnweb and we send): recognized without building a DOM. Anything
// else, including the same messages spelled otherwise (spaces, signs, exponents, leading zeros,
// more than 15 digits), goes through the JSON parser.
struct ControlMessage {
  bool release = false;
  int64_t id = 0;
  int64_t count = 0;
};

// Reads a non-negative integer of 1-15 digits, no leading zero, at `text[at]`.
std::optional<int64_t> readSmallId(std::string_view text, std::size_t& at) {
  std::size_t digits = 0;
  int64_t value = 0;
  while (at + digits < text.size() && text[at + digits] >= '0' && text[at + digits] <= '9') {
    value = value * 10 + (text[at + digits] - '0');
    if (++digits > 15) {
      return std::nullopt;
    }
  }
  if (digits == 0 || (digits > 1 && text[at] == '0')) {
    return std::nullopt;
  }
  at += digits;
  return value;
}

std::optional<ControlMessage> parseControlMessage(std::string_view text) {
  constexpr std::string_view kPull = "[\"pull\",";
  constexpr std::string_view kRelease = "[\"release\",";
  ControlMessage m;
  std::size_t at = 0;
  if (text.starts_with(kPull)) {
    at = kPull.size();
  } else if (text.starts_with(kRelease)) {
    at = kRelease.size();
    m.release = true;
  } else {
    return std::nullopt;
  }
  const std::optional<int64_t> id = readSmallId(text, at);
  if (!id) {
    return std::nullopt;
  }
  m.id = *id;
  if (m.release) {
    if (at >= text.size() || text[at] != ',') {
      return std::nullopt;
    }
    ++at;
    const std::optional<int64_t> count = readSmallId(text, at);
    if (!count) {
      return std::nullopt;
    }
    m.count = *count;
  }
  if (at + 1 != text.size() || text[at] != ']') {
    return std::nullopt;
  }
  return m;
}

// `["push",["pipeline",ID,PATH,ARGS]]` in its tightest spelling, the shape of every call: no
// spaces; ID of 1-15 digits, no leading zero, maybe negative (one of our exports); PATH `[]` (a
// function) or `["METHOD"]` with METHOD of 1-64 letters, digits, '_' or '$'. Says where ARGS
// is; anything else, including the same message spelled otherwise, goes through the JSON
// parser. ARGS is only delimited here; TextTape::parseArgs reads it.
struct TextPush {
  int64_t target = 0;
  std::string_view method; // empty: the target is the function
  std::string_view args;
};

std::optional<TextPush> parseTextPush(std::string_view text) {
  constexpr std::string_view kPush = "[\"push\",[\"pipeline\",";
  constexpr std::string_view kNoPath = ",[],";
  constexpr std::string_view kPathStart = ",[\"";
  constexpr std::string_view kPathEnd = "\"],";
  constexpr std::size_t kMaxMethod = 64;
  if (!text.starts_with(kPush) || !text.ends_with("]]")) {
    return std::nullopt;
  }
  std::size_t at = kPush.size();
  const bool negative = at < text.size() && text[at] == '-';
  at += negative ? 1 : 0;
  const std::optional<int64_t> id = readSmallId(text, at);
  if (!id || (negative && *id == 0)) {
    return std::nullopt;
  }
  TextPush push;
  push.target = negative ? -*id : *id;
  if (text.substr(at, kNoPath.size()) == kNoPath) {
    at += kNoPath.size();
  } else if (text.substr(at, kPathStart.size()) == kPathStart) {
    at += kPathStart.size();
    const std::size_t method_at = at;
    while (at < text.size() && at - method_at <= kMaxMethod &&
           (std::isalnum(static_cast<unsigned char>(text[at])) != 0 || text[at] == '_' ||
            text[at] == '$')) {
      ++at;
    }
    const std::size_t method_size = at - method_at;
    if (method_size == 0 || method_size > kMaxMethod ||
        text.substr(at, kPathEnd.size()) != kPathEnd) {
      return std::nullopt;
    }
    push.method = text.substr(method_at, method_size);
    at += kPathEnd.size();
  } else {
    return std::nullopt;
  }
  if (at + 2 >= text.size()) {
    return std::nullopt;
  }
  push.args = text.substr(at, text.size() - 2 - at);
  return push;
}

double asNumber(const bj::value& v) {
  if (v.is_int64()) {
    return static_cast<double>(v.as_int64());
  }
  if (v.is_uint64()) {
    return static_cast<double>(v.as_uint64());
  }
  return v.as_double();
}

bool validBigInt(std::string_view s) {
  if (!s.empty() && s.front() == '-') {
    s.remove_prefix(1);
  }
  return !s.empty() && s.size() <= 16384 && s.find_first_not_of("0123456789") == std::string::npos;
}

void appendPath(std::string& out, const Path& path) {
  out.push_back('[');
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    if (const std::string* s = std::get_if<std::string>(&path[i])) {
      json::appendString(out, *s);
    } else {
      out += std::to_string(std::get<int64_t>(path[i]));
    }
  }
  out.push_back(']');
}

} // namespace

class ImportHook;

class SessionCore : public std::enable_shared_from_this<SessionCore>,
                    public MessageTransport::Handler {
public:
  SessionCore(MessageTransport& transport, Stub main, SessionOptions options)
      : transport_(transport), options_(options),
        parser_(bj::storage_ptr(), parseOptions(options)) {
    exports_[0] = Export{main ? main.hook()
                              : std::make_shared<ErrorHook>(
                                    makeError("Error", "This connection has no main object.")),
                         1, false, false};
  }

  ~SessionCore() override = default;
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;
  SessionCore(SessionCore&&) = delete;
  SessionCore& operator=(SessionCore&&) = delete;

  void start();
  Stub main();

  // MessageTransport::Handler
  void onMessage(std::string_view message, bool is_text) override;
  void onMessageTooLarge(std::size_t size, std::size_t limit) override;
  void onClosed(uint16_t code, std::string reason) override;

  // For ImportHook.
  StubHookPtr sendCall(int64_t target, const Path& path, const Array* args);
  Promise<Value> pullImport(ImportHook& hook);
  void dropImport(int64_t id, const ImportHook* hook);

  void abortWith(const std::string& message);
  void shutdown(const std::string& reason);
  Promise<bool> drain();
  void breakSession(Value error);

  bool broken_ = false;
  Value broken_error_;
  std::vector<std::function<void(const Value&)>> on_broken_;
  std::function<void()> on_transport_closed_;
  bool transport_closed_ = false;
  SessionStats stats_;

private:
  struct Export {
    StubHookPtr hook;
    int64_t refcount = 1;
    bool pulled = false;
    bool stream = false; // implicitly pulled and released
  };
  struct Import {
    std::weak_ptr<ImportHook> hook;
    const ImportHook* owner = nullptr; // the hook this entry belongs to (IDs can come back)
    int64_t introductions = 0;         // the count our release must carry
    bool pulled = false;
    bool auto_resolves = false; // a `promise` export: the peer resolves it unasked
    Promise<Value>::Resolver resolver;
    Promise<Value> resolution;
  };

  void send(std::string message) {
    ++stats_.messages_out;
    transport_.send(std::move(message));
  }

  void dispatch(const bj::array& msg);
  void onPush(const bj::array& msg, bool stream);
  // A push whose callee reads its arguments from the text; false: parse it as usual.
  bool pushFromText(std::string_view message);
  void onPull(const bj::array& msg);
  void pullExport(int64_t id);
  void releaseExport(int64_t id, int64_t count);
  void onRelease(const bj::array& msg);
  void onResolve(const bj::array& msg, bool reject);
  void onAbort(const bj::array& msg);
  void answer(int64_t id);

  // Evaluation (received expressions -> values).
  StubHookPtr evaluateCall(const bj::value& expr);
  Value evaluate(const bj::value& expr);
  Value evaluateSpecial(const bj::array& a);
  StubHookPtr exportedHook(const bj::value& id_value);
  Path evaluatePath(const bj::value& v);
  Stub importStub(int64_t id, bool promise);

  // Devaluation (values -> expressions we send).
  void devaluate(const Value& v, std::string& out);
  void devaluateStub(const StubHookPtr& hook, std::string& out);
  int64_t exportHook(StubHookPtr hook);

  static bj::parse_options parseOptions(const SessionOptions& options) {
    bj::parse_options opts;
    opts.max_depth = static_cast<std::size_t>(options.max_depth);
    return opts;
  }

  MessageTransport& transport_;
  SessionOptions options_;
  // Reused for every message, so its own stack is allocated once.
  bj::parser parser_;
  TextTape text_tape_; // reused by pushFromText()
  std::unordered_map<int64_t, Export> exports_;
  std::unordered_map<int64_t, Import> imports_;
  int64_t next_peer_push_ = 1;
  int64_t next_export_ = -1;
  int64_t next_import_ = 1;
  std::shared_ptr<ImportHook> main_import_;
  std::size_t pending_pulls_ = 0;
  std::vector<Promise<bool>::Resolver> drainers_;
  // Resolutions still waiting for promises inside them; failed when the session breaks, so
  // that a cycle of promises a peer built can not outlive it.
  std::vector<Promise<Value>::Resolver> substitutions_;
  // Every import hook made, so that the session's end can cut what they resolved to: a peer
  // can resolve an import to a value that holds the import itself (a reference cycle).
  std::vector<std::weak_ptr<ImportHook>> import_hooks_;
  void track(const std::shared_ptr<ImportHook>& hook) {
    if (import_hooks_.size() >= 64 && import_hooks_.size() == import_hooks_.capacity()) {
      std::erase_if(import_hooks_, [](const std::weak_ptr<ImportHook>& h) { return h.expired(); });
    }
    import_hooks_.push_back(hook);
  }
};

// A capability the peer exported to us (or the result of a call we sent).
class ImportHook : public StubHook {
public:
  ImportHook(std::weak_ptr<SessionCore> session, int64_t id, bool promise)
      : session_(std::move(session)), id_(id), promise_(promise) {}

  ~ImportHook() override {
    if (auto s = session_.lock()) {
      s->dropImport(id_, this);
    }
  }
  ImportHook(const ImportHook&) = delete;
  ImportHook& operator=(const ImportHook&) = delete;
  ImportHook(ImportHook&&) = delete;
  ImportHook& operator=(ImportHook&&) = delete;

  StubHookPtr call(Path path, Array args) override {
    if (resolved_) {
      return resolved_->call(std::move(path), std::move(args));
    }
    auto s = session_.lock();
    if (!s || s->broken_) {
      return std::make_shared<ErrorHook>(brokenError(s.get()));
    }
    return s->sendCall(id_, path, &args);
  }

  StubHookPtr get(Path path) override {
    if (path.empty()) {
      return shared_from_this();
    }
    if (resolved_) {
      return resolved_->get(std::move(path));
    }
    auto s = session_.lock();
    if (!s || s->broken_) {
      return std::make_shared<ErrorHook>(brokenError(s.get()));
    }
    return s->sendCall(id_, path, nullptr);
  }

  Promise<Value> pull() override {
    if (resolved_) {
      return resolved_->pull();
    }
    if (!promise_) {
      return Promise<Value>::resolved(Value(Stub(shared_from_this())));
    }
    auto s = session_.lock();
    if (!s || s->broken_) {
      return Promise<Value>::rejected(brokenError(s.get()));
    }
    Promise<Value> p = s->pullImport(*this);
    // A pulled result keeps its import alive until it settles, whoever holds the stub.
    p.then([self = shared_from_this()](const Settled<Value>&) {});
    return p;
  }

  bool isPromise() const override { return resolved_ ? resolved_->isPromise() : promise_; }

  int64_t id() const { return id_; }
  const SessionCore* session() const { return session_.lock().get(); }

  std::weak_ptr<SessionCore> session_;
  int64_t id_;
  bool promise_;
  StubHookPtr resolved_; // once the peer resolved it (or the session broke)

private:
  static Value brokenError(const SessionCore* s) {
    return s != nullptr ? s->broken_error_ : Value(makeError("Error", "RPC session is closed."));
  }
};

void SessionCore::start() {
  main_import_ = std::make_shared<ImportHook>(weak_from_this(), 0, false);
  transport_.setHandler(*this);
}

Stub SessionCore::main() { return Stub(main_import_); }

// ---- Receiving ----------------------------------------------------------------------------

void SessionCore::onMessage(std::string_view message, bool is_text) {
  if (broken_) {
    return;
  }
  ++stats_.messages_in;
  if (!is_text) {
    abortWith("binary messages are not part of the protocol");
    return;
  }
  if (message.size() > options_.max_message_bytes) {
    abortWith("message of " + std::to_string(message.size()) + " bytes is over the limit of " +
              std::to_string(options_.max_message_bytes));
    return;
  }
  if (const std::optional<ControlMessage> control = parseControlMessage(message)) {
    try {
      if (control->release) {
        releaseExport(control->id, control->count);
      } else {
        pullExport(control->id);
      }
    } catch (const ProtocolError& e) {
      abortWith(e.message);
    }
    return;
  }
  if (options_.raw_calls && pushFromText(message)) {
    return;
  }
  // The parsed tree lives only while the message is handled (evaluation copies what it keeps
  // into Values): it is built in a monotonic arena that starts on the stack, so a small message
  // costs no allocation for its DOM.
  alignas(std::max_align_t) unsigned char arena[4096];
  bj::monotonic_resource resource(arena, sizeof arena);
  parser_.reset(&resource);
  boost::system::error_code ec;
  parser_.write(message.data(), message.size(), ec);
  bj::value parsed = ec ? bj::value() : parser_.release();
  if (ec) {
    abortWith(ec == bj::error::too_deep
                  ? "message nested deeper than " + std::to_string(options_.max_depth)
                  : "SyntaxError: message is not valid JSON (" + ec.message() + ")");
    return;
  }
  if (!parsed.is_array() || parsed.as_array().empty() || !parsed.as_array()[0].is_string()) {
    abortWith("bad RPC message: " + compact(parsed));
    return;
  }
  try {
    dispatch(parsed.as_array());
  } catch (const ProtocolError& e) {
    abortWith(e.message);
  }
}

void SessionCore::onMessageTooLarge(std::size_t size, std::size_t limit) {
  abortWith("message of at least " + std::to_string(size) + " bytes is over the limit of " +
            std::to_string(limit));
}

void SessionCore::onClosed(uint16_t code, std::string reason) {
  breakSession(makeError("Error", "Peer closed WebSocket: " + std::to_string(code) + " " + reason));
  transport_closed_ = true;
  if (auto cb = std::move(on_transport_closed_)) {
    cb();
  }
}

void SessionCore::dispatch(const bj::array& msg) {
  const std::string_view type = msg[0].as_string();
  if ((type == "push" || type == "stream" || type == "pipe") &&
      exports_.size() >= options_.max_exports) {
    // A peer that never releases (the reference asks for a fresh client for every message
    // and keeps them all) would grow the table without bound; the session ends instead.
    throw ProtocolError{"too many exports held by the peer (" + std::to_string(exports_.size()) +
                        "; at most " + std::to_string(options_.max_exports) +
                        "): release what you no longer use"};
  }
  if (type == "push" && msg.size() == 2) {
    onPush(msg, false);
  } else if (type == "stream" && msg.size() == 2) {
    onPush(msg, true);
  } else if (type == "pull" && msg.size() == 2) {
    onPull(msg);
  } else if (type == "release" && msg.size() == 3) {
    onRelease(msg);
  } else if ((type == "resolve" || type == "reject") && msg.size() == 3) {
    onResolve(msg, type == "reject");
  } else if (type == "abort" && msg.size() == 2) {
    onAbort(msg);
  } else if (type == "pipe" && msg.size() == 1) {
    // A pipe takes the next ID; any use of it is rejected, and the session goes on.
    exports_[next_peer_push_++] =
        Export{std::make_shared<ErrorHook>(makeError(
                   "Error", "pipes (ReadableStream arguments) are not supported by this peer")),
               1, false, false};
  } else {
    throw ProtocolError{"bad RPC message: " + compact(bj::value(msg))};
  }
}

void SessionCore::onPush(const bj::array& msg, bool stream) {
  const int64_t id = next_peer_push_++;
  ++stats_.calls_in;
  StubHookPtr hook;
  try {
    hook = evaluateCall(msg[1]);
  } catch (const CallError& e) {
    hook = std::make_shared<ErrorHook>(e.error);
  }
  if (broken_) {
    return;
  }
  exports_[id] = Export{std::move(hook), 1, false, stream};
  if (stream) {
    answer(id);
  }
}

bool SessionCore::pushFromText(std::string_view message) {
  // As dispatch() and onPush() would take the message, for a callee that reads its arguments
  // from the text (Target::callText); every refusal and error is left to them.
  const std::optional<TextPush> push = parseTextPush(message);
  if (!push || exports_.size() >= options_.max_exports) {
    return false;
  }
  auto target = exports_.find(push->target);
  if (target == exports_.end()) {
    return false;
  }
  // The session's own nesting (push, pipeline, argument list) counts against its limit too.
  constexpr int kOuterLevels = 3;
  const std::size_t depth = options_.max_depth > kOuterLevels
                                ? static_cast<std::size_t>(options_.max_depth - kOuterLevels)
                                : 0;
  const StubHookPtr callee = target->second.hook; // the call may change the exports table
  const Path path = push->method.empty() ? Path{} : Path{std::string(push->method)};
  StubHookPtr hook = callee->callText(path, TextCall{push->args, depth, text_tape_});
  if (!hook) {
    return false;
  }
  const int64_t id = next_peer_push_++;
  ++stats_.calls_in;
  ++stats_.calls_in_from_text;
  if (!broken_) {
    exports_[id] = Export{std::move(hook), 1, false, false};
  }
  return true;
}

void SessionCore::onPull(const bj::array& msg) {
  const std::optional<int64_t> id = asId(msg[1]);
  if (!id || exports_.count(*id) == 0) {
    throw ProtocolError{"no such export ID: " + compact(msg[1])};
  }
  answer(*id);
}

void SessionCore::pullExport(int64_t id) {
  // As onPull() for ["pull",id] (the ID printed as the JSON text had it).
  if (exports_.count(id) == 0) {
    throw ProtocolError{"no such export ID: " + std::to_string(id)};
  }
  answer(id);
}

void SessionCore::answer(int64_t id) {
  Export& e = exports_.at(id);
  if (e.pulled) {
    return;
  }
  e.pulled = true;
  ++pending_pulls_;
  std::weak_ptr<SessionCore> weak = weak_from_this();
  auto deliver = [weak, id](const Settled<Value>& s) {
    auto self = weak.lock();
    if (!self || self->broken_) {
      return;
    }
    std::string out = s.ok() ? "[\"resolve\"," : "[\"reject\",";
    out += std::to_string(id);
    out.push_back(',');
    self->devaluate(s.ok() ? *s.value : s.error, out);
    out.push_back(']');
    self->send(std::move(out));
    auto it = self->exports_.find(id);
    if (it != self->exports_.end() && it->second.stream) {
      self->exports_.erase(it);
    }
    if (--self->pending_pulls_ == 0) {
      auto drainers = std::move(self->drainers_);
      self->drainers_.clear();
      for (auto& d : drainers) {
        d.resolve(true);
      }
    }
  };
  Promise<Value> pulled = e.hook->pull();
  if (pulled.settled()) {
    deliver(pulled.outcome()); // at once: no waiter to allocate
  } else {
    pulled.then(std::move(deliver));
  }
}

void SessionCore::onRelease(const bj::array& msg) {
  const std::optional<int64_t> id = asId(msg[1]);
  const std::optional<int64_t> count = asId(msg[2]);
  auto it = id ? exports_.find(*id) : exports_.end();
  if (it == exports_.end()) {
    throw ProtocolError{"no such export ID: " + compact(msg[1])};
  }
  if (!count || *count < 1) {
    throw ProtocolError{"bad release count: " + compact(msg[2])};
  }
  if (*count > it->second.refcount) {
    throw ProtocolError{"release of export " + std::to_string(*id) + " by " +
                        std::to_string(*count) + " would make its count negative"};
  }
  it->second.refcount -= *count;
  if (it->second.refcount == 0 && *id != 0) {
    exports_.erase(it); // the hook goes; a target whose last reference this was is destroyed
  }
}

void SessionCore::releaseExport(int64_t id, int64_t count) {
  // As onRelease() for ["release",id,count] (the numbers printed as the JSON text had them).
  auto it = exports_.find(id);
  if (it == exports_.end()) {
    throw ProtocolError{"no such export ID: " + std::to_string(id)};
  }
  if (count < 1) {
    throw ProtocolError{"bad release count: " + std::to_string(count)};
  }
  if (count > it->second.refcount) {
    throw ProtocolError{"release of export " + std::to_string(id) + " by " + std::to_string(count) +
                        " would make its count negative"};
  }
  it->second.refcount -= count;
  if (it->second.refcount == 0 && id != 0) {
    exports_.erase(it); // the hook goes; a target whose last reference this was is destroyed
  }
}

void SessionCore::onResolve(const bj::array& msg, bool reject) {
  const std::optional<int64_t> id = asId(msg[1]);
  if (!id) {
    throw ProtocolError{"bad import ID: " + compact(msg[1])};
  }
  // Out of the table before the value is evaluated: a value naming this very import gets an
  // entry of its own, never a hook resolved to itself.
  std::optional<Import> entry;
  if (auto it = imports_.find(*id); it != imports_.end()) {
    entry = std::move(it->second);
    imports_.erase(it);
  }
  Value value;
  try {
    value = evaluate(msg[2]);
  } catch (const CallError& e) {
    value = e.error;
    reject = true;
  } catch (const ProtocolError& e) {
    if (entry) { // out of the table, so not failed by the abort that follows: fail it here
      const Value error = makeError("Error", e.message);
      if (auto hook = entry->hook.lock()) {
        hook->resolved_ = std::make_shared<ErrorHook>(error);
      }
      entry->resolver.reject(error);
    }
    throw;
  }
  if (reject) {
    stripStubs(value); // a rejection carries no capabilities
  }
  if (!entry) {
    return; // unknown: ignored; stubs inside `value` are released as it goes
  }
  std::shared_ptr<ImportHook> hook = entry->hook.lock();
  Promise<Value>::Resolver resolver = entry->resolver;
  send("[\"release\"," + std::to_string(*id) + "," + std::to_string(entry->introductions) + "]");

  if (reject) {
    if (hook) {
      hook->resolved_ = std::make_shared<ErrorHook>(value);
    }
    resolver.reject(value);
    return;
  }
  if (!hasPromises(value)) {
    // Nothing to await (the common case): what the general path below does, at once.
    if (hook) {
      hook->resolved_ = hookFor(value);
    }
    resolver.resolve(std::move(value));
    return;
  }
  // Promises inside the resolution are awaited before it is delivered.
  Array holder;
  holder.push_back(std::move(value));
  Promise<Array> substituted = awaitPromises(std::move(holder));
  auto [resolved, r] = Promise<Value>::make();
  if (!substituted.settled()) {
    std::erase_if(substitutions_, [](const Promise<Value>::Resolver& x) { return x.settled(); });
    substitutions_.push_back(r);
  }
  substituted.then([r = r](const Settled<Array>& s) {
    if (s.ok()) {
      r.resolve(s.value->front());
    } else {
      r.reject(s.error);
    }
  });
  if (hook) {
    auto [as_hook, hr] = Promise<StubHookPtr>::make();
    resolved.then([hr = hr](const Settled<Value>& s) {
      if (s.ok()) {
        hr.resolve(hookFor(*s.value));
      } else {
        hr.reject(s.error);
      }
    });
    hook->resolved_ = as_hook.settled() && as_hook.outcome().ok()
                          ? *as_hook.outcome().value
                          : std::make_shared<PromiseHook>(as_hook);
  }
  resolved.then([resolver](const Settled<Value>& s) { resolver.settle(s); });
}

void SessionCore::onAbort(const bj::array& msg) {
  Value error;
  try {
    error = evaluate(msg[1]);
  } catch (const CallError& e) {
    error = e.error;
  } catch (const ProtocolError& e) {
    error = makeError("Error", e.message);
  }
  stripStubs(error); // an error carries no capabilities
  std::string reason = "peer aborted";
  if (const ErrorValue* ev = error.as<ErrorValue>()) {
    reason = ev->message;
  }
  breakSession(std::move(error));
  transport_.close(kCloseRpcAbort, reason);
}

// ---- Evaluation ---------------------------------------------------------------------------

StubHookPtr SessionCore::evaluateCall(const bj::value& expr) {
  if (expr.is_array()) {
    const bj::array& a = expr.as_array();
    if (a.size() >= 2 && a[0].is_string() &&
        (a[0].as_string() == "pipeline" || a[0].as_string() == "import") && a.size() <= 4) {
      StubHookPtr target = exportedHook(a[1]);
      Path path = a.size() >= 3 ? evaluatePath(a[2]) : Path{};
      if (a.size() == 4) {
        if (!a[3].is_array()) {
          throw ProtocolError{"call arguments must be an array: " + compact(expr)};
        }
        // Arguments of plain data go as they are to a callee that reads them so (no Values).
        if (options_.raw_calls) {
          if (StubHookPtr raw = target->callRaw(path, WireArgs(a[3].as_array()))) {
            return raw;
          }
        }
        Array args;
        for (const bj::value& arg : a[3].as_array()) {
          args.push_back(evaluate(arg));
        }
        return target->call(std::move(path), std::move(args));
      }
      return target->get(std::move(path));
    }
  }
  return hookFor(evaluate(expr));
}

StubHookPtr SessionCore::exportedHook(const bj::value& id_value) {
  const std::optional<int64_t> id = asId(id_value);
  auto it = id ? exports_.find(*id) : exports_.end();
  if (it == exports_.end()) {
    throw ProtocolError{"no such entry on exports table: " + compact(id_value)};
  }
  return it->second.hook;
}

Path SessionCore::evaluatePath(const bj::value& v) {
  if (!v.is_array()) {
    throw ProtocolError{"a property path must be an array: " + compact(v)};
  }
  Path path;
  for (const bj::value& e : v.as_array()) {
    if (e.is_string()) {
      path.emplace_back(std::string(e.as_string()));
    } else if (std::optional<int64_t> i = asId(e); i && *i >= 0) {
      path.emplace_back(*i);
    } else {
      throw ProtocolError{"bad property path element: " + compact(e)};
    }
  }
  return path;
}

Stub SessionCore::importStub(int64_t id, bool promise) {
  if (imports_.size() >= options_.max_imports && imports_.count(id) == 0) {
    throw ProtocolError{"too many capabilities introduced by the peer (" +
                        std::to_string(imports_.size()) + "; at most " +
                        std::to_string(options_.max_imports) + ")"};
  }
  Import& entry = imports_[id];
  std::shared_ptr<ImportHook> hook = entry.hook.lock();
  if (!hook) {
    hook = std::make_shared<ImportHook>(weak_from_this(), id, promise);
    entry.hook = hook;
    entry.owner = hook.get();
    track(hook);
    entry.auto_resolves = promise;
    if (promise) {
      auto [p, r] = Promise<Value>::make();
      entry.resolution = p;
      entry.resolver = r;
    }
  }
  ++entry.introductions;
  return Stub(hook);
}

Value SessionCore::evaluate(const bj::value& expr) {
  switch (expr.kind()) {
  case bj::kind::null:
    return nullptr;
  case bj::kind::bool_:
    return expr.as_bool();
  case bj::kind::int64:
  case bj::kind::uint64:
  case bj::kind::double_:
    return asNumber(expr);
  case bj::kind::string:
    return std::string(expr.as_string());
  case bj::kind::object: {
    Object o;
    o.reserve(expr.as_object().size());
    for (const auto& kv : expr.as_object()) {
      if (!isPrototypeKey(kv.key())) {
        o.push_back(Member{std::string(kv.key()), evaluate(kv.value())});
      }
    }
    return o;
  }
  case bj::kind::array:
    break;
  }
  const bj::array& a = expr.as_array();
  if (a.size() == 1 && a[0].is_array()) {
    Array out;
    out.reserve(a[0].as_array().size());
    for (const bj::value& e : a[0].as_array()) {
      out.push_back(evaluate(e));
    }
    return out;
  }
  if (a.empty() || !a[0].is_string()) {
    throw ProtocolError{"unknown special value: " + compact(expr)};
  }
  return evaluateSpecial(a);
}

Value SessionCore::evaluateSpecial(const bj::array& a) {
  const std::string_view code = a[0].as_string();
  auto bad = [&a]() { return ProtocolError{"bad special value: " + compact(bj::value(a))}; };
  if (code == "undefined" && a.size() == 1) {
    return Undefined{};
  }
  if (code == "inf" && a.size() == 1) {
    return HUGE_VAL;
  }
  if (code == "-inf" && a.size() == 1) {
    return -HUGE_VAL;
  }
  if (code == "nan" && a.size() == 1) {
    return std::nan("");
  }
  if (code == "bigint") {
    if (a.size() != 2 || !a[1].is_string() || !validBigInt(a[1].as_string())) {
      throw bad();
    }
    return BigInt{std::string(a[1].as_string())};
  }
  if (code == "date") {
    if (a.size() != 2 || !(a[1].is_number() || a[1].is_null())) {
      throw bad();
    }
    return Date{a[1].is_null() ? std::nullopt : std::optional<double>(asNumber(a[1]))};
  }
  if (code == "bytes") {
    if (a.size() < 2 || a.size() > 3 || !a[1].is_string() || (a.size() == 3 && !a[2].is_string())) {
      throw bad();
    }
    Bytes b;
    if (!json::base64Decode(a[1].as_string(), b.data)) {
      throw bad();
    }
    if (a.size() == 3) {
      std::optional<BytesKind> kind = parseBytesKind(a[2].as_string());
      if (!kind || b.data.size() % elementSize(*kind) != 0) {
        throw bad();
      }
      b.kind = *kind;
    }
    return b;
  }
  if (code == "error") {
    if (a.size() < 3 || a.size() > 5 || !a[1].is_string() || !a[2].is_string()) {
      throw bad();
    }
    ErrorValue e;
    e.name = "Error";
    for (std::string_view n : kErrorNames) {
      if (n == a[1].as_string()) {
        e.name = std::string(n);
      }
    }
    e.message = std::string(a[2].as_string());
    if (a.size() >= 4) {
      if (a[3].is_string()) {
        e.stack = std::string(a[3].as_string());
      } else if (!a[3].is_null()) {
        throw bad();
      }
    }
    if (a.size() == 5) {
      if (!a[4].is_object()) {
        throw bad();
      }
      Value props = evaluate(a[4]);
      e.props = std::move(*props.as<Object>());
    }
    return e;
  }
  if (code == "import" || code == "pipeline") {
    if (a.size() < 2 || a.size() > 4) {
      throw bad();
    }
    StubHookPtr hook = exportedHook(a[1]);
    if (a.size() >= 3) {
      Path path = evaluatePath(a[2]);
      if (a.size() == 4) {
        if (!a[3].is_array()) {
          throw bad();
        }
        Array args;
        for (const bj::value& arg : a[3].as_array()) {
          args.push_back(evaluate(arg));
        }
        hook = hook->call(std::move(path), std::move(args));
      } else {
        hook = hook->get(std::move(path));
      }
    }
    if (code == "pipeline" && !hook->isPromise()) {
      // A `pipeline` reference is awaited before delivery, even when already settled.
      hook = std::make_shared<PromiseHook>(Promise<StubHookPtr>::resolved(std::move(hook)));
    }
    return Stub(std::move(hook));
  }
  if (code == "export" || code == "promise") {
    const std::optional<int64_t> id = a.size() == 2 ? asId(a[1]) : std::nullopt;
    if (!id || *id == 0) {
      throw bad();
    }
    return importStub(*id, code == "promise");
  }
  if (code == "remap") {
    throw CallError{
        makeError("Error", "remap (.map() on a promise) is not supported by this peer")};
  }
  if (code == "writable" || code == "readable" || code == "url" || code == "headers" ||
      code == "request" || code == "response" || code == "blob") {
    throw CallError{makeError("TypeError",
                              "'" + std::string(code) + "' values are not supported by this peer")};
  }
  throw ProtocolError{"unknown special value: " + compact(bj::value(a))};
}

// ---- Sending ------------------------------------------------------------------------------

int64_t SessionCore::exportHook(StubHookPtr hook) {
  const int64_t id = next_export_--;
  ++stats_.exports;
  exports_[id] = Export{std::move(hook), 1, false, false};
  return id;
}

void SessionCore::devaluateStub(const StubHookPtr& hook, std::string& out) {
  if (auto* import = dynamic_cast<ImportHook*>(hook.get()); import && import->session() == this) {
    if (import->resolved_) {
      devaluateStub(import->resolved_, out);
      return;
    }
    out += import->promise_ ? "[\"pipeline\"," : "[\"import\",";
    out += std::to_string(import->id_);
    out.push_back(']');
    return;
  }
  if (hook->isPromise()) {
    const int64_t id = exportHook(hook);
    out += "[\"promise\"," + std::to_string(id) + "]";
    answer(id); // a promise export is resolved unasked
    return;
  }
  out += "[\"export\"," + std::to_string(exportHook(hook)) + "]";
}

void SessionCore::devaluate(const Value& v, std::string& out) {
  const auto& var = v.variant();
  if (v.isUndefined()) {
    out += "[\"undefined\"]";
  } else if (v.isNull()) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&var)) {
    out += *b ? "true" : "false";
  } else if (const double* d = std::get_if<double>(&var)) {
    if (std::isnan(*d)) {
      out += "[\"nan\"]";
    } else if (std::isinf(*d)) {
      out += *d > 0 ? "[\"inf\"]" : "[\"-inf\"]";
    } else {
      json::appendNumber(out, *d);
    }
  } else if (const std::string* s = std::get_if<std::string>(&var)) {
    json::appendString(out, *s);
  } else if (const Array* a = std::get_if<Array>(&var)) {
    out += "[[";
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i != 0) {
        out.push_back(',');
      }
      devaluate((*a)[i], out);
    }
    out += "]]";
  } else if (const Object* o = std::get_if<Object>(&var)) {
    out.push_back('{');
    for (std::size_t i = 0; i < o->size(); ++i) {
      if (i != 0) {
        out.push_back(',');
      }
      json::appendString(out, (*o)[i].key);
      out.push_back(':');
      devaluate((*o)[i].value, out);
    }
    out.push_back('}');
  } else if (const Encoded* enc = std::get_if<Encoded>(&var)) {
    out += enc->text;
  } else if (const BigInt* n = std::get_if<BigInt>(&var)) {
    out += "[\"bigint\",";
    json::appendString(out, n->decimal);
    out.push_back(']');
  } else if (const Date* dt = std::get_if<Date>(&var)) {
    out += "[\"date\",";
    if (dt->ms && std::isfinite(*dt->ms)) {
      json::appendNumber(out, *dt->ms);
    } else {
      out += "null";
    }
    out.push_back(']');
  } else if (const Bytes* by = std::get_if<Bytes>(&var)) {
    out += "[\"bytes\",";
    json::appendString(out, json::base64Encode(by->data));
    if (by->kind != BytesKind::Uint8Array) {
      out.push_back(',');
      json::appendString(out, toString(by->kind));
    }
    out.push_back(']');
  } else if (const ErrorValue* e = std::get_if<ErrorValue>(&var)) {
    out += "[\"error\",";
    json::appendString(out, e->name);
    out.push_back(',');
    json::appendString(out, e->message);
    if (!e->props.empty()) {
      out.push_back(',');
      if (e->stack) {
        json::appendString(out, *e->stack);
      } else {
        out += "null";
      }
      out.push_back(',');
      devaluate(Value(e->props), out);
    } else if (e->stack) {
      out.push_back(',');
      json::appendString(out, *e->stack);
    }
    out.push_back(']');
  } else if (const Stub* st = std::get_if<Stub>(&var)) {
    if (!*st) {
      out += "[\"undefined\"]";
    } else {
      devaluateStub(st->hook(), out);
    }
  }
}

StubHookPtr SessionCore::sendCall(int64_t target, const Path& path, const Array* args) {
  std::string out = "[\"push\",[\"pipeline\",";
  out += std::to_string(target);
  out.push_back(',');
  appendPath(out, path);
  if (args != nullptr) {
    out += ",[";
    for (std::size_t i = 0; i < args->size(); ++i) {
      if (i != 0) {
        out.push_back(',');
      }
      devaluate((*args)[i], out);
    }
    out.push_back(']');
  }
  out += "]]";
  const int64_t id = next_import_++;
  auto hook = std::make_shared<ImportHook>(weak_from_this(), id, true);
  Import& entry = imports_[id];
  entry.hook = hook;
  entry.owner = hook.get();
  track(hook);
  entry.introductions = 1;
  ++stats_.calls_out;
  send(std::move(out));
  return hook;
}

Promise<Value> SessionCore::pullImport(ImportHook& hook) {
  auto it = imports_.find(hook.id_);
  if (it == imports_.end()) {
    return Promise<Value>::rejected(makeError("Error", "import is no longer in the table"));
  }
  Import& entry = it->second;
  if (!entry.pulled && !entry.auto_resolves) {
    entry.pulled = true;
    auto [p, r] = Promise<Value>::make();
    entry.resolution = p;
    entry.resolver = r;
    send("[\"pull\"," + std::to_string(hook.id_) + "]");
  }
  return entry.resolution;
}

void SessionCore::dropImport(int64_t id, const ImportHook* hook) {
  if (id == 0 || broken_) {
    return;
  }
  auto it = imports_.find(id);
  if (it == imports_.end() || it->second.owner != hook) {
    return; // released already, or the ID now names a newer import
  }
  const int64_t count = it->second.introductions;
  imports_.erase(it);
  send("[\"release\"," + std::to_string(id) + "," + std::to_string(count) + "]");
}

// ---- Ending -------------------------------------------------------------------------------

void SessionCore::abortWith(const std::string& message) {
  if (broken_) {
    return;
  }
  ++stats_.protocol_errors;
  std::string out = "[\"abort\",[\"error\",\"Error\",";
  json::appendString(out, message);
  out += "]]";
  send(std::move(out));
  transport_.close(kCloseRpcAbort, message);
  breakSession(makeError("Error", message));
}

void SessionCore::shutdown(const std::string& reason) {
  if (broken_) {
    return;
  }
  transport_.close(kCloseRpcAbort, reason);
  breakSession(makeError("Error", reason));
}

Promise<bool> SessionCore::drain() {
  if (pending_pulls_ == 0 || broken_) {
    return Promise<bool>::resolved(true);
  }
  auto [p, r] = Promise<bool>::make();
  drainers_.push_back(r);
  return p;
}

void SessionCore::breakSession(Value error) {
  if (broken_) {
    return;
  }
  broken_ = true;
  broken_error_ = error;
  // Everything pending fails with the error; nothing more is sent or released.
  auto imports = std::move(imports_);
  imports_.clear();
  for (auto& [id, entry] : imports) {
    if (auto hook = entry.hook.lock()) {
      hook->resolved_ = std::make_shared<ErrorHook>(error);
    }
    entry.resolver.reject(error);
  }
  if (main_import_) {
    main_import_->resolved_ = std::make_shared<ErrorHook>(error);
  }
  auto hooks = std::move(import_hooks_);
  import_hooks_.clear();
  for (const auto& weak : hooks) {
    if (auto hook = weak.lock()) {
      hook->resolved_ = std::make_shared<ErrorHook>(error); // cuts resolution cycles
    }
  }
  auto exports = std::move(exports_);
  exports_.clear();
  exports.clear(); // disposes what we exported
  auto substitutions = std::move(substitutions_);
  for (auto& r : substitutions) {
    r.reject(error);
  }
  auto drainers = std::move(drainers_);
  for (auto& d : drainers) {
    d.resolve(true);
  }
  auto callbacks = std::move(on_broken_);
  for (auto& cb : callbacks) {
    cb(error);
  }
}

// ---- Session ------------------------------------------------------------------------------

Session::Session(MessageTransport& transport, Stub main, SessionOptions options)
    : core_(std::make_shared<SessionCore>(transport, std::move(main), options)) {
  core_->start();
}

Session::~Session() {
  // Everything pending fails (so suspended callers resume and finish), and nothing more is
  // sent: the transport may already be gone with its peer. The owner is not called back.
  core_->on_broken_.clear();
  core_->on_transport_closed_ = nullptr;
  core_->breakSession(makeError("Error", "RPC session was destroyed"));
}

Stub Session::main() const { return core_->main(); }
Promise<bool> Session::drain() { return core_->drain(); }
void Session::abort(const std::string& message) { core_->abortWith(message); }
void Session::shutdown(const std::string& reason) { core_->shutdown(reason); }
bool Session::broken() const { return core_->broken_; }
const SessionStats& Session::stats() const { return core_->stats_; }

void Session::onTransportClosed(std::function<void()> cb) {
  if (core_->transport_closed_) {
    cb();
    return;
  }
  core_->on_transport_closed_ = std::move(cb);
}

void Session::onBroken(std::function<void(const Value& error)> cb) {
  if (core_->broken_) {
    cb(core_->broken_error_);
    return;
  }
  core_->on_broken_.push_back(std::move(cb));
}

} // namespace catalyst::rpc
