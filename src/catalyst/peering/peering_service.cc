#include "catalyst/peering/peering_service.h"

#include <algorithm>
#include <random>
#include <span>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "catalyst/auth/token_cache.h"
#include "catalyst/control/effect.h"
#include "catalyst/peering/adj_rib_out.h"
#include "catalyst/peering/wire.h"
#include "catalyst/rpc/target.h"

namespace catalyst::peering {
namespace {

using std::chrono::milliseconds;

constexpr int kMaxUpdatesInFlight = 4;

std::string_view closeCodeName(state::CloseCode code) {
  switch (code) {
  case state::CloseCode::Normal:
    return "normal";
  case state::CloseCode::HoldExpired:
    return "hold_expired";
  case state::CloseCode::TransportError:
    return "transport_error";
  case state::CloseCode::AdminShutdown:
    return "admin_shutdown";
  case state::CloseCode::ProtocolError:
    return "protocol_error";
  }
  return "unknown";
}

rpc::Value success() { return rpc::object({{"success", true}}); }

rpc::Value failure(std::string error) {
  return rpc::object({{"success", false}, {"error", std::move(error)}});
}

// A settled call result {success, error?}: the error text, or nullopt on success.
std::optional<std::string> callError(const rpc::Settled<rpc::Value>& settled) {
  if (!settled.ok()) {
    if (const auto* e = settled.error.as<rpc::ErrorValue>()) {
      return fmt::format("{}: {}", e->name, e->message);
    }
    return settled.error.debugString();
  }
  const rpc::Value* ok = settled.value->find("success");
  if (ok != nullptr && ok->is<bool>() && *ok->as<bool>()) {
    return std::nullopt;
  }
  const rpc::Value* error = settled.value->find("error");
  if (error != nullptr && error->is<std::string>()) {
    return *error->as<std::string>();
  }
  return "the peer answered " + settled.value->debugString();
}

// A number member of `args`, if present and a number.
std::optional<double> numberMember(const rpc::Value& args, std::string_view key) {
  const rpc::Value* v = args.find(key);
  if (v == nullptr || !v->is<double>()) {
    return std::nullopt;
  }
  return *v->as<double>();
}

} // namespace

class PeerLink;

class PeeringService::Impl : public std::enable_shared_from_this<Impl> {
public:
  Impl(event::Dispatcher& dispatcher, control::ControlLoop& loop,
       const auth::TokenAuthority& tokens, state::PeerInfo self, PeeringOptions options,
       Logger& logger)
      : dispatcher_(dispatcher), loop_(loop), tokens_(tokens), self_(std::move(self)),
        self_value_(toValue(self_, TokenVisibility::Omit)), options_(std::move(options)),
        logger_(logger), random_(std::random_device{}()) {}

  event::Dispatcher& dispatcher_;
  control::ControlLoop& loop_;
  // Peers present their token with every update batch: its signature is checked once.
  auth::TokenCache tokens_;
  state::PeerInfo self_;
  rpc::Value self_value_;
  PeeringOptions options_;
  Logger& logger_;
  std::mt19937_64 random_;
  PeeringStats stats_;
  std::string peer_info_text_; // scratch of onUpdateText()
  bool shut_down_ = false;
  uint64_t sessions_ = 0; // numbers sessions (ev::PeerSessionUp::session)
  std::function<void(uint64_t, const std::string&)> close_inbound_;

  std::map<std::string, std::shared_ptr<PeerLink>> links_;
  // Peers' connections to us whose `open` we accepted: connection -> peer.
  std::unordered_map<uint64_t, std::string> inbound_owner_;
  // The IBGP client object handed out on each connection (one per connection and subject).
  std::map<std::pair<uint64_t, std::string>, rpc::Value> clients_;

  MonotonicTime now() const { return dispatcher_.timeSource().monotonicTime(); }

  void refuse(std::string_view reason) { ++stats_.requests_refused[std::string(reason)]; }

  rpc::Value ibgpClient(uint64_t connection, std::string_view token);
  rpc::Value makeClient(uint64_t connection, const std::string& subject);

  // The four functions of the IBGP client, for the peer `subject` on `connection`.
  rpc::Promise<rpc::Value> onOpen(uint64_t connection, const std::string& subject,
                                  const rpc::Args& args);
  rpc::Promise<rpc::Value> onUpdate(uint64_t connection, const std::string& subject,
                                    const rpc::Args& args);
  // onUpdate() with its argument read off the wire in place (plain data; no Values made): the
  // same checks, answers and counters.
  std::optional<rpc::Promise<rpc::Value>>
  onUpdateRaw(uint64_t connection, const std::string& subject, const rpc::WireArgs& args);
  // onUpdate() with its arguments read from the message text: in one pass when they are in
  // the tight spelling (updateCallFromText()), else through the session's tape; nullopt
  // declines (the session parses the message).
  std::optional<rpc::Promise<rpc::Value>>
  onUpdateText(uint64_t connection, const std::string& subject, const rpc::TextCall& call);
  // All three: `arg` is the call's first argument, an rpc::ValueData, rpc::WireData or
  // rpc::TextData.
  template <class Data>
  rpc::Promise<rpc::Value> handleUpdate(uint64_t connection, const std::string& subject,
                                        const Data& arg);
  // The end of handleUpdate(), once the caller is known and its items read.
  rpc::Promise<rpc::Value> submitUpdate(const std::string& subject,
                                        std::vector<state::UpdateItem> items, bool end_of_table);
  rpc::Promise<rpc::Value> onKeepalive(uint64_t connection, const std::string& subject,
                                       const rpc::Args& args);
  rpc::Promise<rpc::Value> onClose(uint64_t connection, const std::string& subject,
                                   const rpc::Args& args);

  // The link of the peer that opened a session on `connection`, checking that the caller's
  // peerInfo names `subject`; or the failure to answer.
  Result<std::shared_ptr<PeerLink>> sessionFor(uint64_t connection, const std::string& subject,
                                               const rpc::Args& args, std::string& reason);
  template <class Data>
  Result<std::shared_ptr<PeerLink>> sessionOf(uint64_t connection, const std::string& subject,
                                              const Data& arg, std::string& reason);

  void connectionClosed(uint64_t connection);
};

// One configured neighbour: our connection to it and its connection to us.
class PeerLink : public std::enable_shared_from_this<PeerLink> {
public:
  PeerLink(PeeringService::Impl& service, state::PeerInfo info)
      : service_(service), info_(std::move(info)), backoff_(service.options_.backoff_initial) {
    reconnect_timer_ = service_.dispatcher_.createTimer([this] { dial(); });
    keepalive_timer_ = service_.dispatcher_.createTimer([this] { sendKeepalive(); });
    hold_timer_ = service_.dispatcher_.createTimer([this] { checkHold(); });
  }
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;
  PeerLink(PeerLink&&) = delete;
  PeerLink& operator=(PeerLink&&) = delete;
  ~PeerLink() { dropClient(); }

  const state::PeerInfo& info() const { return info_; }

  // The peer's record changed (or was set for the first time).
  void update(const state::PeerInfo& info) {
    const bool redial = info.endpoint != info_.endpoint || info.peer_token != info_.peer_token;
    info_ = info;
    if (!redial && out_ != Out::Idle) {
      return;
    }
    if (out_ == Out::Up) {
      reset(state::CloseCode::Normal, "the peer's endpoint or token changed", true);
      return;
    }
    restartDial();
  }

  // --- Outbound.
  void restartDial() {
    if (service_.shut_down_ || removed_) {
      return;
    }
    ++attempt_;
    dropClient();
    out_ = Out::Idle;
    dial();
  }

  void dial() {
    reconnect_timer_->disable();
    if (service_.shut_down_ || removed_ || out_ != Out::Idle) {
      return;
    }
    if (!info_.endpoint || !info_.peer_token) {
      last_error_ = "no endpoint or peer token configured: waiting for the peer to dial us";
      return;
    }
    out_ = Out::Connecting;
    const uint64_t attempt = ++attempt_;
    std::weak_ptr<PeerLink> weak = weak_from_this();
    rpcnet::RpcClient::connect(service_.dispatcher_, *info_.endpoint, service_.options_.client,
                               [weak, attempt](Result<rpcnet::RpcClientPtr> client) {
                                 if (auto self = weak.lock(); self && self->attempt_ == attempt) {
                                   self->onConnected(std::move(client));
                                 }
                               });
  }

  void onConnected(Result<rpcnet::RpcClientPtr> client) {
    if (!client) {
      ++service_.stats_.dial_failures;
      dialFailed(client.error().message);
      return;
    }
    client_ = std::move(*client);
    out_ = Out::Opening;
    const uint64_t attempt = attempt_;
    std::weak_ptr<PeerLink> weak = weak_from_this();
    client_->session().onBroken([weak, attempt](const rpc::Value& error) {
      if (auto self = weak.lock(); self && self->attempt_ == attempt) {
        self->onOutboundBroken(error);
      }
    });
    rpc::Stub factory = client_->main().call("getIBGPClient", rpc::Array{*info_.peer_token});
    withDeadline(rpc::pull(factory), [this](const rpc::Settled<rpc::Value>& s) { onClient(s); });
  }

  void onClient(const rpc::Settled<rpc::Value>& settled) {
    if (std::optional<std::string> error = callError(settled)) {
      ++service_.stats_.opens_refused;
      dialFailed("getIBGPClient: " + *error);
      return;
    }
    const rpc::Value* client = settled.value->find("client");
    if (client == nullptr || !client->is<rpc::Object>()) {
      ++service_.stats_.opens_refused;
      dialFailed("getIBGPClient: the answer has no client object");
      return;
    }
    ibgp_ = *client;
    rpc::Object args =
        rpc::object({{"peerInfo", service_.self_value_},
                     {"holdTime", static_cast<double>(service_.options_.hold_time.count())}});
    if (service_.options_.graceful_restart_time) {
      args.push_back(
          rpc::Member{"gracefulRestartTime",
                      static_cast<double>(service_.options_.graceful_restart_time->count())});
    }
    withDeadline(callClient("open", std::move(args)),
                 [this](const rpc::Settled<rpc::Value>& s) { onOpened(s); });
  }

  void onOpened(const rpc::Settled<rpc::Value>& settled) {
    if (std::optional<std::string> error = callError(settled)) {
      ++service_.stats_.opens_refused;
      dialFailed("open: " + *error);
      return;
    }
    out_ = Out::Up;
    ++service_.stats_.outbound_up;
    backoff_ = service_.options_.backoff_initial;
    last_error_.clear();
    service_.logger_.info("peering: connected to {} ({})", info_.name, *info_.endpoint);
    scheduleKeepalive();
    flush();
  }

  // A dial, getIBGPClient or open failed: try again later. The session (if the peer has
  // opened one with us) is not affected: only an established connection failing resets it.
  void dialFailed(const std::string& why) {
    if (last_error_ != why) {
      service_.logger_.warn("peering: {}: {}", info_.name, why);
    }
    last_error_ = why;
    ++attempt_;
    dropClient();
    out_ = Out::Idle;
    scheduleRedial();
  }

  void onOutboundBroken(const rpc::Value& error) {
    std::string why = "connection lost";
    if (const auto* e = error.as<rpc::ErrorValue>()) {
      why = e->message;
    }
    if (out_ == Out::Up) {
      reset(state::CloseCode::TransportError, "our connection to the peer failed: " + why, false);
    } else {
      dialFailed(why);
    }
  }

  void scheduleRedial() {
    if (service_.shut_down_ || removed_ || reconnect_timer_->enabled()) {
      return;
    }
    // ±20% jitter, so that peers that failed together do not redial together.
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const auto delay = milliseconds(
        static_cast<int64_t>(static_cast<double>(backoff_.count()) * jitter(service_.random_)));
    backoff_ = std::min(backoff_ * 2, service_.options_.backoff_max);
    reconnect_timer_->enable(delay);
  }

  // Calls function `name` of the peer's IBGP client with one argument.
  rpc::Promise<rpc::Value> callClient(std::string_view name, rpc::Object arg) {
    const rpc::Value* fn = ibgp_.find(name);
    if (fn == nullptr || !fn->is<rpc::Stub>()) {
      return rpc::Promise<rpc::Value>::rejected(
          rpc::makeError("TypeError", fmt::format("the peer's client has no '{}' function", name)));
    }
    rpc::Array args; // not an initializer list, which would copy `arg`
    args.emplace_back(std::move(arg));
    return rpc::pull(fn->as<rpc::Stub>()->call("", std::move(args)));
  }

  // Runs `then` when `promise` settles, unless the connection it belongs to was given up
  // first; resets the session if it takes longer than the call timeout.
  void withDeadline(rpc::Promise<rpc::Value> promise,
                    std::function<void(const rpc::Settled<rpc::Value>&)> then) {
    const uint64_t attempt = attempt_;
    std::weak_ptr<PeerLink> weak = weak_from_this();
    std::shared_ptr<event::Timer> deadline = service_.dispatcher_.createTimer([weak, attempt] {
      if (auto self = weak.lock(); self && self->attempt_ == attempt) {
        self->onCallTimeout();
      }
    });
    deadline->enable(service_.options_.call_timeout);
    promise.then(
        [weak, attempt, deadline, then = std::move(then)](const rpc::Settled<rpc::Value>& settled) {
          deadline->disable();
          if (auto self = weak.lock(); self && self->attempt_ == attempt) {
            then(settled);
          }
        });
  }

  void onCallTimeout() {
    const std::string why =
        fmt::format("no answer within {}ms", service_.options_.call_timeout.count());
    if (out_ == Out::Up) {
      reset(state::CloseCode::HoldExpired, why, false);
    } else {
      dialFailed(why);
    }
  }

  void flush() {
    while (out_ == Out::Up && updates_in_flight_ < kMaxUpdatesInFlight && !rib_out_.empty()) {
      sendUpdate();
    }
    // The walk of our table goes on once what is queued of it fits one more batch: the peer
    // always has the next batch at hand, and no more than two are kept here.
    if (out_ == Out::Up && table_ && rib_out_.queued() < control::kMaxUpdateItems) {
      service_.loop_.submit(control::ev::PeerTableWanted{info_.name, std::move(*table_)});
      table_.reset();
    }
    if (out_ == Out::Up && end_of_table_pending_ && rib_out_.empty() &&
        updates_in_flight_ < kMaxUpdatesInFlight) {
      // The full table has gone out: say so, so the peer can drop what it kept stale for us
      // and we did not advertise again (graceful restart). Reference nodes ignore the field.
      end_of_table_pending_ = false;
      sendUpdate(true);
    }
  }

  // The walk of our table for session `session` is done (fx::EndOfTable).
  void markEndOfTable(uint64_t session) {
    if (!session_up_ || session != session_) {
      return; // for a session that has ended since
    }
    end_of_table_pending_ = true;
    queue({});
  }

  // The walk of our table has more (fx::ContinueTable): asked for once the queue is short.
  void continueTable(control::TableCursor cursor) {
    if (!session_up_ || cursor.session != session_) {
      return; // for a session that has ended since: the new one has its own walk
    }
    table_ = std::move(cursor);
    queue({});
  }

  void sendUpdate(bool end_of_table = false) {
    std::vector<state::UpdateItem> items = rib_out_.take(control::kMaxUpdateItems);
    ++updates_in_flight_;
    ++service_.stats_.updates_sent;
    service_.stats_.update_items_sent += items.size();
    // Built member by member: an initializer list would copy the encoded batch (~250 KB).
    rpc::Object args;
    args.reserve(3);
    args.push_back(rpc::Member{"peerInfo", service_.self_value_});
    args.push_back(
        rpc::Member{"update", updateBatchEncoded(std::span<const state::UpdateItem>(items))});
    if (end_of_table) {
      args.push_back(rpc::Member{"endOfRib", true});
    }
    withDeadline(callClient("update", std::move(args)),
                 [this](const rpc::Settled<rpc::Value>& s) { onUpdateAnswered(s); });
  }

  void onUpdateAnswered(const rpc::Settled<rpc::Value>& settled) {
    --updates_in_flight_;
    if (!settled.ok()) {
      reset(state::CloseCode::TransportError,
            "update failed: " + callError(settled).value_or("unknown error"), false);
      return;
    }
    if (std::optional<std::string> error = callError(settled);
        error && *error != "No state change") {
      // The peer keeps what it had; what it refused is logged and counted, not retried
      // (the same update would be refused again).
      ++service_.stats_.updates_refused;
      service_.logger_.warn("peering: {} refused an update: {}", info_.name, *error);
    }
    flush();
  }

  void scheduleKeepalive() {
    const milliseconds hold = service_.options_.hold_time;
    if (hold.count() > 0) {
      keepalive_timer_->enable(std::max(hold / 3, milliseconds(1)));
    }
  }

  void sendKeepalive() {
    if (out_ != Out::Up) {
      return;
    }
    ++service_.stats_.keepalives_sent;
    withDeadline(callClient("keepalive", rpc::object({{"peerInfo", service_.self_value_}})),
                 [this](const rpc::Settled<rpc::Value>& s) {
                   if (!s.ok()) {
                     reset(state::CloseCode::TransportError,
                           "keepalive failed: " + callError(s).value_or("unknown error"), false);
                   }
                 });
    scheduleKeepalive();
  }

  // Sends `close` on our connection (best effort: the answer is not awaited).
  void sendClose(state::CloseCode code, const std::string& reason) {
    if (out_ != Out::Up) {
      return;
    }
    rpc::Promise<rpc::Value> ignored =
        callClient("close", rpc::object({{"peerInfo", service_.self_value_},
                                         {"code", static_cast<int>(code)},
                                         {"reason", reason}}));
    ignored.then([](const rpc::Settled<rpc::Value>&) {});
  }

  void dropClient() {
    ibgp_ = rpc::Value();
    keepalive_timer_->disable();
    updates_in_flight_ = 0;
    if (client_) {
      client_->close();
      // Not destroyed here: this may run inside one of its callbacks.
      std::shared_ptr<rpcnet::RpcClient> doomed(std::move(client_));
      service_.dispatcher_.post([doomed] {});
    }
  }

  // --- Inbound.

  // The peer's `open` on `connection` was accepted.
  void inboundOpened(uint64_t connection, milliseconds hold,
                     std::optional<milliseconds> graceful_restart) {
    if (inbound_ && *inbound_ != connection) {
      // The peer opened again on a new connection: its old session is over (it restarted or
      // lost its connection before we noticed).
      reset(state::CloseCode::TransportError, "the peer opened a new session", false);
    }
    inbound_ = connection;
    service_.inbound_owner_[connection] = info_.name;
    hold_ = hold;
    heard();
    if (hold_.count() > 0) {
      hold_timer_->enable(hold_);
    }
    if (!session_up_) {
      session_up_ = true;
      session_ = ++service_.sessions_;
      ++service_.stats_.sessions_up;
      service_.logger_.info(
          "peering: session with {} established (hold time {}ms{})", info_.name, hold_.count(),
          graceful_restart ? fmt::format(", graceful restart {}ms", graceful_restart->count())
                           : "");
      service_.loop_.submit(control::ev::PeerSessionUp{info_.name, graceful_restart, session_});
    }
    // The peer is up: no reason to wait for the backoff to dial it.
    if (out_ == Out::Idle && reconnect_timer_->enabled()) {
      backoff_ = service_.options_.backoff_initial;
      dial();
    }
  }

  bool openOn(uint64_t connection) const {
    return session_up_ && inbound_ && *inbound_ == connection;
  }

  void heard() { last_heard_ = service_.now(); }

  void checkHold() {
    if (!session_up_ || hold_.count() <= 0) {
      return;
    }
    const auto silent = service_.now() - last_heard_;
    if (silent >= hold_) {
      reset(state::CloseCode::HoldExpired,
            fmt::format("nothing heard for {}ms (hold time)", hold_.count()), true);
      return;
    }
    hold_timer_->enable(std::chrono::ceil<milliseconds>(hold_ - silent));
  }

  void inboundLost(uint64_t connection) {
    if (inbound_ && *inbound_ == connection) {
      reset(state::CloseCode::TransportError, "the peer's connection to us closed", false);
    }
  }

  // Ends the session, whichever half failed: both connections are closed, the pipeline is
  // told (PeerSessionDown), and we dial again.
  void reset(state::CloseCode code, const std::string& why, bool tell_peer) {
    service_.logger_.warn("peering: session with {} ended ({}): {}", info_.name,
                          closeCodeName(code), why);
    last_error_ = why;
    ++service_.stats_.sessions_ended[std::string(closeCodeName(code))];
    if (tell_peer) {
      sendClose(code, why);
    }
    ++attempt_;
    dropClient();
    const bool was_up = out_ == Out::Up;
    out_ = Out::Idle;
    rib_out_.clear();
    end_of_table_pending_ = false;
    table_.reset();
    hold_timer_->disable();
    if (inbound_) {
      service_.inbound_owner_.erase(*inbound_);
      if (service_.close_inbound_) {
        service_.close_inbound_(*inbound_, "peering session ended: " + why);
      }
      inbound_.reset();
    }
    if (session_up_) {
      session_up_ = false;
      if (!removed_) {
        service_.loop_.submit(control::ev::PeerSessionDown{info_.name, code, service_.now()});
      }
    }
    if (was_up) {
      backoff_ = service_.options_.backoff_initial;
    }
    scheduleRedial();
  }

  void remove(state::CloseCode code, const std::string& reason) {
    sendClose(code, reason);
    removed_ = true;
    reconnect_timer_->disable();
    reset(code, reason, false);
  }

  void shutdown() {
    sendClose(state::CloseCode::AdminShutdown, "node shutting down");
    reconnect_timer_->disable();
    ++attempt_;
    dropClient();
    out_ = Out::Idle;
  }

  void queue(std::vector<state::UpdateItem> items) {
    rib_out_.pushAll(std::move(items));
    if (out_ == Out::Up && !flush_posted_) {
      // Sent at the end of this turn of the loop: a burst of changes leaves as one update.
      flush_posted_ = true;
      std::weak_ptr<PeerLink> weak = weak_from_this();
      service_.dispatcher_.post([weak] {
        if (auto self = weak.lock()) {
          self->flush_posted_ = false;
          self->flush();
        }
      });
    }
  }

  PeerSessionView view() const {
    PeerSessionView v;
    v.name = info_.name;
    v.outbound_up = out_ == Out::Up;
    v.session_up = session_up_;
    v.advertised = rib_out_.advertised();
    v.queued = rib_out_.queued();
    v.hold_time = hold_;
    v.last_error = last_error_;
    return v;
  }

private:
  enum class Out { Idle, Connecting, Opening, Up };

  PeeringService::Impl& service_;
  state::PeerInfo info_;

  // Outbound.
  Out out_ = Out::Idle;
  uint64_t attempt_ = 0; // callbacks of an older attempt are ignored
  rpcnet::RpcClientPtr client_;
  rpc::Value ibgp_; // the peer's IBGP client object
  AdjRibOut rib_out_{control::kMaxUpdateItems};
  // Update calls sent and not answered yet. Calls are delivered and applied in order (Cap'n
  // Web's E-order, then the peer's event queue), so several may be in flight: the next batch
  // is on the wire while the peer applies the last one.
  int updates_in_flight_ = 0;
  bool end_of_table_pending_ = false; // to send once the queue is empty
  bool flush_posted_ = false;
  // The walk of our table for this session, waiting to be asked for its next step.
  std::optional<control::TableCursor> table_;
  milliseconds backoff_;
  event::TimerPtr reconnect_timer_;
  event::TimerPtr keepalive_timer_;

  // Inbound.
  std::optional<uint64_t> inbound_;
  bool session_up_ = false;
  uint64_t session_ = 0; // the current (or last) session's number
  milliseconds hold_{0};
  MonotonicTime last_heard_{};
  event::TimerPtr hold_timer_;

  bool removed_ = false;
  std::string last_error_;
};

// --- Impl: the RPC surface.

rpc::Value PeeringService::Impl::ibgpClient(uint64_t connection, std::string_view token) {
  const int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                               dispatcher_.timeSource().systemTime().time_since_epoch())
                               .count();
  auth::VerifyResult claims = tokens_.verify(token, now_unix);
  if (!claims) {
    refuse(auth::reasonName(claims.error().reason));
    logger_.warn("peering: getIBGPClient refused: {}", claims.error().toString());
    return failure("invalid token: " + claims.error().message);
  }
  if (claims->role != auth::Role::Peer) {
    refuse("wrong_role");
    return failure(fmt::format("token role '{}' may not peer (a 'peer' token is needed)",
                               auth::toString(claims->role)));
  }
  auto key = std::make_pair(connection, claims->subject);
  auto it = clients_.find(key);
  if (it == clients_.end()) {
    it = clients_.emplace(key, makeClient(connection, claims->subject)).first;
  }
  return rpc::object({{"success", true}, {"client", it->second}});
}

rpc::Value PeeringService::Impl::makeClient(uint64_t connection, const std::string& subject) {
  std::weak_ptr<Impl> weak = weak_from_this();
  using Handler =
      rpc::Promise<rpc::Value> (Impl::*)(uint64_t, const std::string&, const rpc::Args&);
  auto fn = [weak, connection, subject](Handler handler) {
    return rpc::makeFunctionStub([weak, connection, subject, handler](rpc::Args args) {
      auto self = weak.lock();
      if (!self) {
        return rpc::Promise<rpc::Value>::resolved(failure("the node is shutting down"));
      }
      return ((*self).*handler)(connection, subject, args);
    });
  };
  // `update` carries the routes: it also reads its argument off the wire in place, or straight
  // from the message text when it is in the common spelling (rpc/text_data.h), in one pass
  // when in the tight one (updateCallFromText()).
  rpc::Stub update = rpc::makeFunctionStub(
      [weak, connection, subject](rpc::Args args) {
        auto self = weak.lock();
        if (!self) {
          return rpc::Promise<rpc::Value>::resolved(failure("the node is shutting down"));
        }
        return self->onUpdate(connection, subject, args);
      },
      [weak, connection,
       subject](const rpc::WireArgs& args) -> std::optional<rpc::Promise<rpc::Value>> {
        auto self = weak.lock();
        if (!self) {
          return std::nullopt; // evaluated, then answered as above
        }
        return self->onUpdateRaw(connection, subject, args);
      },
      [weak, connection,
       subject](const rpc::TextCall& call) -> std::optional<rpc::Promise<rpc::Value>> {
        auto self = weak.lock();
        if (!self) {
          return std::nullopt; // parsed and evaluated, then answered as above
        }
        return self->onUpdateText(connection, subject, call);
      });
  return rpc::object({{"open", fn(&Impl::onOpen)},
                      {"close", fn(&Impl::onClose)},
                      {"update", std::move(update)},
                      {"keepalive", fn(&Impl::onKeepalive)}});
}

namespace {

// The caller's peerInfo, checked against the token's subject.
Result<state::PeerInfo> readPeerInfo(const rpc::ValueData& info) {
  return peerInfoFromValue(info.value());
}
Result<state::PeerInfo> readPeerInfo(const rpc::WireData& info) { return peerInfoFromWire(info); }
Result<state::PeerInfo> readPeerInfo(const rpc::TextData& info) { return peerInfoFromText(info); }

// `arg`: the call's first argument (rpc::ValueData or rpc::WireData).
template <class Data>
Result<state::PeerInfo> callerInfo(const Data& arg, const std::string& subject,
                                   std::string& reason) {
  const Data info = arg.find("peerInfo");
  if (!info.present()) {
    reason = "invalid_request";
    return invalidArgument("peerInfo: required");
  }
  Result<state::PeerInfo> parsed = readPeerInfo(info);
  if (!parsed) {
    reason = "invalid_request";
    return parsed.error();
  }
  if (parsed->name != subject) {
    reason = "subject_mismatch";
    return permissionDenied(fmt::format(
        "peerInfo.name '{}' does not match the token's subject '{}'", parsed->name, subject));
  }
  return parsed;
}

} // namespace

rpc::Promise<rpc::Value> PeeringService::Impl::onOpen(uint64_t connection,
                                                      const std::string& subject,
                                                      const rpc::Args& args) {
  using R = rpc::Promise<rpc::Value>;
  std::string reason;
  Result<state::PeerInfo> info = callerInfo(rpc::ValueData(args[0]), subject, reason);
  if (!info) {
    refuse(reason);
    return R::resolved(failure(info.error().message));
  }
  auto link = links_.find(subject);
  if (link == links_.end() || loop_.state().findPeer(subject) == nullptr) {
    refuse("unknown_peer");
    return R::resolved(
        failure(fmt::format("No state change: '{}' is not a peer of this node", subject)));
  }
  milliseconds hold = options_.hold_time;
  if (std::optional<double> offered = numberMember(args[0], "holdTime")) {
    if (!(*offered >= 0 && *offered <= 86'400'000)) {
      refuse("invalid_request");
      return R::resolved(failure("holdTime: must be 0-86400000 ms"));
    }
    const milliseconds theirs(static_cast<int64_t>(*offered));
    hold = (theirs.count() == 0 || hold.count() == 0) ? milliseconds(0) : std::min(hold, theirs);
  }
  std::optional<milliseconds> graceful;
  if (std::optional<double> gr = numberMember(args[0], "gracefulRestartTime")) {
    if (*gr > 0 && *gr <= 3'600'000) {
      graceful = milliseconds(static_cast<int64_t>(*gr));
    }
  }
  link->second->inboundOpened(connection, hold, graceful);
  return R::resolved(success());
}

Result<std::shared_ptr<PeerLink>> PeeringService::Impl::sessionFor(uint64_t connection,
                                                                   const std::string& subject,
                                                                   const rpc::Args& args,
                                                                   std::string& reason) {
  return sessionOf(connection, subject, rpc::ValueData(args[0]), reason);
}

template <class Data>
Result<std::shared_ptr<PeerLink>>
PeeringService::Impl::sessionOf(uint64_t connection, const std::string& subject, const Data& arg,
                                std::string& reason) {
  Result<state::PeerInfo> info = callerInfo(arg, subject, reason);
  if (!info) {
    return info.error();
  }
  auto link = links_.find(subject);
  if (link == links_.end() || !link->second->openOn(connection)) {
    reason = "session_not_established";
    return failedPrecondition(fmt::format(
        "no established session with '{}' on this connection: call open first", subject));
  }
  link->second->heard();
  return link->second;
}

rpc::Promise<rpc::Value> PeeringService::Impl::onUpdate(uint64_t connection,
                                                        const std::string& subject,
                                                        const rpc::Args& args) {
  return handleUpdate(connection, subject, rpc::ValueData(args[0]));
}

std::optional<rpc::Promise<rpc::Value>>
PeeringService::Impl::onUpdateRaw(uint64_t connection, const std::string& subject,
                                  const rpc::WireArgs& args) {
  return handleUpdate(connection, subject, args[0]);
}

namespace {

Result<std::vector<state::UpdateItem>> readUpdateBatch(const rpc::ValueData& update) {
  return updateBatchFromValue(update.value(), control::kMaxUpdateItems);
}
Result<std::vector<state::UpdateItem>> readUpdateBatch(const rpc::WireData& update) {
  return updateBatchFromWire(update, control::kMaxUpdateItems);
}
Result<std::vector<state::UpdateItem>> readUpdateBatch(const rpc::TextData& update) {
  return updateBatchFromText(update, control::kMaxUpdateItems);
}

} // namespace

template <class Data>
rpc::Promise<rpc::Value> PeeringService::Impl::handleUpdate(uint64_t connection,
                                                            const std::string& subject,
                                                            const Data& arg) {
  using R = rpc::Promise<rpc::Value>;
  std::string reason;
  Result<std::shared_ptr<PeerLink>> link = sessionOf(connection, subject, arg, reason);
  if (!link) {
    refuse(reason);
    return R::resolved(failure(link.error().message));
  }
  const Data update = arg.find("update");
  if (!update.present()) {
    refuse("invalid_update");
    return R::resolved(failure("update: required"));
  }
  if (const Data updates = update.find("updates");
      updates.isArray() && updates.size() > control::kMaxUpdateItems) {
    refuse("oversize_batch");
    return R::resolved(failure(fmt::format("{} items in one update (at most {})", updates.size(),
                                           control::kMaxUpdateItems)));
  }
  Result<std::vector<state::UpdateItem>> items = readUpdateBatch(update);
  if (!items) {
    refuse("invalid_update");
    return R::resolved(failure(items.error().message));
  }
  return submitUpdate(subject, std::move(*items), arg.find("endOfRib").boolean().value_or(false));
}

std::optional<rpc::Promise<rpc::Value>>
PeeringService::Impl::onUpdateText(uint64_t connection, const std::string& subject,
                                   const rpc::TextCall& call) {
  std::optional<UpdateCallText> fast = updateCallFromText(
      call.args, call.max_depth, control::kMaxUpdateItems, call.tape, peer_info_text_);
  if (!fast) {
    if (!call.index()) {
      return std::nullopt;
    }
    return handleUpdate(connection, subject, call.tape[0]);
  }
  // The caller is checked as for any update (from its peerInfo).
  std::string reason;
  Result<std::shared_ptr<PeerLink>> link = sessionOf(connection, subject, fast->caller, reason);
  if (!link) {
    refuse(reason);
    return rpc::Promise<rpc::Value>::resolved(failure(link.error().message));
  }
  stats_.update_items_read_in_one_pass += fast->items.size();
  return submitUpdate(subject, std::move(fast->items), fast->end_of_rib);
}

rpc::Promise<rpc::Value> PeeringService::Impl::submitUpdate(const std::string& subject,
                                                            std::vector<state::UpdateItem> items,
                                                            bool end_of_table) {
  using R = rpc::Promise<rpc::Value>;
  const std::size_t count = items.size();
  auto [promise, resolver] = R::make();
  std::weak_ptr<Impl> weak = weak_from_this();
  if (count == 0) {
    if (end_of_table) {
      loop_.submit(control::ev::PeerEndOfTable{subject});
    }
    resolver.resolve(success());
    return promise;
  }
  loop_.submit(control::ev::PeerUpdate{subject, std::move(items)},
               [weak, resolver = resolver, count](const control::PipelineResult& result) {
                 // Loops are dropped item by item (normal filtering); any other rejection
                 // refused the whole batch.
                 for (const control::Rejection& r : result.rejections) {
                   if (r.reason != "loop_detected") {
                     resolver.resolve(failure(r.message));
                     return;
                   }
                 }
                 if (auto self = weak.lock()) {
                   ++self->stats_.updates_received;
                   self->stats_.update_items_received += count;
                 }
                 resolver.resolve(success());
               });
  if (end_of_table) {
    loop_.submit(control::ev::PeerEndOfTable{subject}); // after the items: one queue
  }
  return promise;
}

rpc::Promise<rpc::Value> PeeringService::Impl::onKeepalive(uint64_t connection,
                                                           const std::string& subject,
                                                           const rpc::Args& args) {
  using R = rpc::Promise<rpc::Value>;
  std::string reason;
  Result<std::shared_ptr<PeerLink>> link = sessionFor(connection, subject, args, reason);
  if (!link) {
    refuse(reason);
    return R::resolved(failure(link.error().message));
  }
  ++stats_.keepalives_received;
  return R::resolved(success());
}

rpc::Promise<rpc::Value> PeeringService::Impl::onClose(uint64_t connection,
                                                       const std::string& subject,
                                                       const rpc::Args& args) {
  using R = rpc::Promise<rpc::Value>;
  std::string reason;
  Result<std::shared_ptr<PeerLink>> link = sessionFor(connection, subject, args, reason);
  if (!link) {
    refuse(reason);
    return R::resolved(failure(link.error().message));
  }
  auto code = state::CloseCode::Normal;
  if (std::optional<double> c = numberMember(args[0], "code"); c && *c >= 1 && *c <= 5) {
    code = static_cast<state::CloseCode>(static_cast<int>(*c));
  }
  std::string why = "the peer closed the session";
  if (const rpc::Value* r = args[0].find("reason"); r != nullptr && r->is<std::string>()) {
    why += ": " + *r->as<std::string>();
  }
  // Answered first; the connection is closed after this turn.
  std::weak_ptr<PeerLink> weak = *link;
  dispatcher_.post([weak, code, why] {
    if (auto l = weak.lock()) {
      l->reset(code, why, false);
    }
  });
  return R::resolved(success());
}

void PeeringService::Impl::connectionClosed(uint64_t connection) {
  for (auto it = clients_.lower_bound({connection, std::string()});
       it != clients_.end() && it->first.first == connection;) {
    it = clients_.erase(it);
  }
  auto owner = inbound_owner_.find(connection);
  if (owner == inbound_owner_.end()) {
    return;
  }
  auto link = links_.find(owner->second);
  inbound_owner_.erase(owner);
  if (link != links_.end()) {
    link->second->inboundLost(connection);
  }
}

// --- PeeringService.

PeeringService::PeeringService(event::Dispatcher& dispatcher, control::ControlLoop& loop,
                               const auth::TokenAuthority& tokens, state::PeerInfo self,
                               PeeringOptions options, Logger& logger)
    : impl_(std::make_shared<Impl>(dispatcher, loop, tokens, std::move(self), std::move(options),
                                   logger)) {}

PeeringService::~PeeringService() {
  impl_->shut_down_ = true;
  impl_->links_.clear();
}

void PeeringService::setInboundCloser(
    std::function<void(uint64_t connection, const std::string& reason)> f) {
  impl_->close_inbound_ = std::move(f);
}

void PeeringService::connect(const state::PeerInfo& info) {
  auto it = impl_->links_.find(info.name);
  if (it == impl_->links_.end()) {
    auto link = std::make_shared<PeerLink>(*impl_, info);
    impl_->links_.emplace(info.name, link);
    link->dial();
    return;
  }
  it->second->update(info);
}

void PeeringService::send(const std::string& peer, std::vector<state::UpdateItem> items) {
  auto it = impl_->links_.find(peer);
  if (it == impl_->links_.end()) {
    impl_->logger_.warn("peering: {} items for unknown peer {} dropped", items.size(), peer);
    return;
  }
  it->second->queue(std::move(items));
}

void PeeringService::endOfTable(const std::string& peer, uint64_t session) {
  auto it = impl_->links_.find(peer);
  if (it != impl_->links_.end()) {
    it->second->markEndOfTable(session);
  }
}

void PeeringService::continueTable(const std::string& peer, control::TableCursor cursor) {
  auto it = impl_->links_.find(peer);
  if (it != impl_->links_.end()) {
    it->second->continueTable(std::move(cursor));
  }
}

void PeeringService::remove(const std::string& peer, state::CloseCode code,
                            const std::string& reason) {
  auto it = impl_->links_.find(peer);
  if (it == impl_->links_.end()) {
    return;
  }
  std::shared_ptr<PeerLink> link = it->second;
  impl_->links_.erase(it);
  link->remove(code, reason);
}

void PeeringService::shutdown() {
  impl_->shut_down_ = true;
  for (auto& [name, link] : impl_->links_) {
    link->shutdown();
  }
}

rpc::Value PeeringService::ibgpClient(uint64_t connection, std::string_view token) {
  return impl_->ibgpClient(connection, token);
}

void PeeringService::connectionClosed(uint64_t connection) { impl_->connectionClosed(connection); }

const PeeringStats& PeeringService::stats() const { return impl_->stats_; }

std::vector<PeerSessionView> PeeringService::sessions() const {
  std::vector<PeerSessionView> out;
  out.reserve(impl_->links_.size());
  for (const auto& [name, link] : impl_->links_) {
    out.push_back(link->view());
  }
  return out;
}

} // namespace catalyst::peering
