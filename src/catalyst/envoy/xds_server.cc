#include "catalyst/envoy/xds_server.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <grpc/grpc.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include "catalyst/common/assert.h"

namespace catalyst::envoy {

namespace pb = google::protobuf;

namespace {

// Envoy's types are a dozen; a client naming more is broken or hostile (each costs memory).
constexpr std::size_t kMaxTypesPerStream = 32;

// Listeners and clusters are served whole in the state of the world; other types only as named.
bool servedWhole(std::string_view type_url) {
  return type_url == kListenerTypeUrl || type_url == kClusterTypeUrl;
}

// A DiscoveryRequest, as far as the server reads it.
struct Request {
  std::string version_info;
  std::string node_id;
  std::vector<std::string> resource_names; // sorted, unique
  std::string type_url;
  std::string response_nonce;
  std::optional<std::string> error_message; // set iff the request carries error_detail (NACK)
};

const pb::FieldDescriptor* field(const pb::Descriptor* message, const char* name) {
  const pb::FieldDescriptor* f = message->FindFieldByName(name);
  CATALYST_RELEASE_ASSERT(f != nullptr, "the embedded Envoy API lacks a field the xDS server uses");
  return f;
}

// The xDS messages as dynamic messages of the schema's pool: no generated classes, and field
// numbers come from the protos, never from this file.
class Protos {
public:
  explicit Protos(const pb::DescriptorPool& pool) : factory_(&pool) {
    const pb::Descriptor* request = find(pool, "envoy.service.discovery.v3.DiscoveryRequest");
    const pb::Descriptor* response = find(pool, "envoy.service.discovery.v3.DiscoveryResponse");
    request_ = factory_.GetPrototype(request);
    response_ = factory_.GetPrototype(response);
    req_version_ = field(request, "version_info");
    req_node_ = field(request, "node");
    node_id_ = field(req_node_->message_type(), "id");
    req_names_ = field(request, "resource_names");
    req_type_url_ = field(request, "type_url");
    req_nonce_ = field(request, "response_nonce");
    req_error_ = field(request, "error_detail");
    error_message_ = field(req_error_->message_type(), "message");
    resp_version_ = field(response, "version_info");
    resp_resources_ = field(response, "resources");
    resp_type_url_ = field(response, "type_url");
    resp_nonce_ = field(response, "nonce");
    any_type_url_ = field(resp_resources_->message_type(), "type_url");
    any_value_ = field(resp_resources_->message_type(), "value");
  }

  // nullopt when `bytes` is not a DiscoveryRequest.
  std::optional<Request> parseRequest(const std::string& bytes) const {
    std::unique_ptr<pb::Message> msg(request_->New());
    if (!msg->ParseFromString(bytes)) {
      return std::nullopt;
    }
    const pb::Reflection* r = msg->GetReflection();
    Request req;
    req.version_info = r->GetString(*msg, req_version_);
    if (r->HasField(*msg, req_node_)) {
      const pb::Message& node = r->GetMessage(*msg, req_node_);
      req.node_id = node.GetReflection()->GetString(node, node_id_);
    }
    const int names = r->FieldSize(*msg, req_names_);
    req.resource_names.reserve(static_cast<std::size_t>(names));
    for (int i = 0; i < names; ++i) {
      req.resource_names.push_back(r->GetRepeatedString(*msg, req_names_, i));
    }
    std::sort(req.resource_names.begin(), req.resource_names.end());
    req.resource_names.erase(std::unique(req.resource_names.begin(), req.resource_names.end()),
                             req.resource_names.end());
    req.type_url = r->GetString(*msg, req_type_url_);
    req.response_nonce = r->GetString(*msg, req_nonce_);
    if (r->HasField(*msg, req_error_)) {
      const pb::Message& error = r->GetMessage(*msg, req_error_);
      req.error_message = error.GetReflection()->GetString(error, error_message_);
    }
    return req;
  }

  // A DiscoveryResponse without resources. A response is this plus the fragments of its
  // resources: concatenated encodings of one message merge, and repeated fields append
  // (protobuf's encoding guide), so each resource is encoded once and shared by every response.
  std::string responseHeader(const std::string& version, const std::string& type_url,
                             const std::string& nonce) const {
    std::unique_ptr<pb::Message> msg(response_->New());
    const pb::Reflection* r = msg->GetReflection();
    r->SetString(msg.get(), resp_version_, version);
    r->SetString(msg.get(), resp_type_url_, type_url);
    r->SetString(msg.get(), resp_nonce_, nonce);
    return msg->SerializeAsString();
  }

  // A DiscoveryResponse holding only resources = [Any{type_url, binary}].
  std::string resourceFragment(const std::string& type_url, std::string binary) const {
    std::unique_ptr<pb::Message> msg(response_->New());
    pb::Message* any = msg->GetReflection()->AddMessage(msg.get(), resp_resources_);
    const pb::Reflection* r = any->GetReflection();
    r->SetString(any, any_type_url_, type_url);
    r->SetString(any, any_value_, std::move(binary));
    return msg->SerializeAsString();
  }

private:
  static const pb::Descriptor* find(const pb::DescriptorPool& pool, const char* name) {
    const pb::Descriptor* d = pool.FindMessageTypeByName(name);
    CATALYST_RELEASE_ASSERT(d != nullptr, "the embedded Envoy API lacks the xDS messages");
    return d;
  }

  pb::DynamicMessageFactory factory_; // GetPrototype is thread-safe; prototypes are immutable
  const pb::Message* request_ = nullptr;
  const pb::Message* response_ = nullptr;
  const pb::FieldDescriptor* req_version_ = nullptr;
  const pb::FieldDescriptor* req_node_ = nullptr;
  const pb::FieldDescriptor* node_id_ = nullptr;
  const pb::FieldDescriptor* req_names_ = nullptr;
  const pb::FieldDescriptor* req_type_url_ = nullptr;
  const pb::FieldDescriptor* req_nonce_ = nullptr;
  const pb::FieldDescriptor* req_error_ = nullptr;
  const pb::FieldDescriptor* error_message_ = nullptr;
  const pb::FieldDescriptor* resp_version_ = nullptr;
  const pb::FieldDescriptor* resp_resources_ = nullptr;
  const pb::FieldDescriptor* resp_type_url_ = nullptr;
  const pb::FieldDescriptor* resp_nonce_ = nullptr;
  const pb::FieldDescriptor* any_type_url_ = nullptr;
  const pb::FieldDescriptor* any_value_ = nullptr;
};

using BytesConstSharedPtr = std::shared_ptr<const std::string>;

// A slice over shared bytes without copying them: the slice keeps a reference until gRPC
// releases it (gRPC's C interface takes a destroy function and a void* to hand it).
void releaseBytes(void* holder) { delete static_cast<BytesConstSharedPtr*>(holder); }

grpc::Slice sliceOf(const BytesConstSharedPtr& bytes) {
  auto* holder = new BytesConstSharedPtr(bytes);
  return {const_cast<char*>(bytes->data()), bytes->size(), &releaseBytes, holder};
}

struct EncodedResource {
  BytesConstSharedPtr fragment; // see Protos::resourceFragment
  // What it was encoded from (its name is the resource's): a later snapshot holding the same
  // (immutable) resource reuses the fragment without looking anything up.
  ResourceConstSharedPtr source;
  const std::string& name() const { return source->name; }
};

struct EncodedSet {
  std::string type_url;
  std::string version;
  std::vector<EncodedResource> resources;
};

struct EncodedSnapshot {
  std::vector<EncodedSet> sets; // in push order

  const EncodedSet* find(std::string_view type_url) const {
    for (const EncodedSet& set : sets) {
      if (set.type_url == type_url) {
        return &set;
      }
    }
    return nullptr;
  }
};

using EncodedSnapshotConstSharedPtr = std::shared_ptr<const EncodedSnapshot>;

} // namespace

class XdsServer::Impl {
public:
  class Stream;

  Impl(const ApiSchema& schema, XdsServerOptions options, Logger& logger)
      : schema_(schema), options_(std::move(options)), logger_(logger), protos_(schema.pool()) {}

  Status start();
  uint16_t port() const { return port_; }
  Status setSnapshot(const std::string& node_id, XdsSnapshot snapshot);
  XdsStats stats() const;
  void stop();

  // For streams, on gRPC's threads.
  const Protos& protos() const { return protos_; }
  Logger& logger() { return logger_; }
  void attach(Stream& stream, const std::string& node_id); // the stream's first request
  void onDone(Stream& stream);                             // before the stream deletes itself
  void countAck() { ++acks_; }
  void countNack() { ++nacks_; }
  void countBadRequest() { ++bad_requests_; }

private:
  // Every method reaches the service; only ADS gets a stream.
  class Service final : public grpc::CallbackGenericService {
  public:
    explicit Service(Impl& impl) : impl_(impl) {}
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

  private:
    Impl& impl_;
  };

  EncodedSnapshotConstSharedPtr resolveLocked(const std::string& node_id) const;

  const ApiSchema& schema_;
  const XdsServerOptions options_;
  Logger& logger_;
  const Protos protos_;

  std::mutex lifecycle_mu_; // start() and stop()
  // A generic service registers with one grpc::Server only, even one that failed to start: a
  // new one per start() attempt. It outlives its server (declared first, destroyed last).
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  bool stopped_ = false;
  uint16_t port_ = 0;

  // Encoded resources by type URL and digest, while some snapshot holds them.
  std::mutex cache_mu_;
  std::map<std::string, std::weak_ptr<const std::string>> cache_;

  // Lock order: mu_, then a stream's own mutex. Any thread other than a stream's reactions that
  // touches a stream holds mu_; a stream deletes itself only after removing itself under mu_.
  mutable std::mutex mu_;
  std::condition_variable streams_done_; // streams_ emptied (stop() waits for it)
  std::map<std::string, EncodedSnapshotConstSharedPtr> snapshots_;
  std::map<uint64_t, Stream*> streams_;
  uint64_t last_stream_id_ = 0;
  bool stopping_ = false;

  std::atomic<uint64_t> acks_{0};
  std::atomic<uint64_t> nacks_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::atomic<uint64_t> encodings_{0};
};

// One ADS stream. gRPC runs its reactions on its threads, a read and a write reaction possibly
// at once, and setSnapshot() pushes from the caller's thread: mu_ guards the protocol state.
// One read is outstanding until the stream finishes, and at most one write.
class XdsServer::Impl::Stream final : public grpc::ServerGenericBidiReactor {
public:
  Stream(Impl& server, uint64_t id, std::string peer, bool reject)
      : server_(server), id_(id), peer_(std::move(peer)) {
    if (reject) {
      finished_ = true;
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "xDS server stopping"));
      return;
    }
    StartRead(&request_);
  }

  uint64_t id() const { return id_; }

  // Called with the server's mutex held: the node named by the first request, and what it is
  // served.
  void attach(const std::string& node_id, EncodedSnapshotConstSharedPtr snapshot) {
    std::lock_guard lock(mu_);
    node_known_ = true;
    node_id_ = node_id;
    snapshot_ = std::move(snapshot);
  }

  // Called with the server's mutex held, after a snapshot change: `resolve` gives what a node
  // is served now. Pushes the subscribed types whose version differs from the one sent.
  template <class Resolve> void offer(const Resolve& resolve) {
    std::lock_guard lock(mu_);
    if (!node_known_) {
      return;
    }
    EncodedSnapshotConstSharedPtr snapshot = resolve(node_id_);
    if (snapshot == snapshot_) {
      return;
    }
    snapshot_ = std::move(snapshot);
    for (TypeState& t : types_) {
      markIfChangedLocked(t);
    }
    writeNextLocked();
  }

  // Called with the server's mutex held.
  void end(grpc::Status status) {
    std::lock_guard lock(mu_);
    requestFinishLocked(std::move(status));
  }

  // Called with the server's mutex held.
  XdsStreamStatus status() const {
    std::lock_guard lock(mu_);
    XdsStreamStatus s;
    s.id = id_;
    s.node_id = node_id_;
    for (const TypeState& t : types_) {
      s.types.push_back(t.status);
    }
    return s;
  }

  void OnReadDone(bool ok) override {
    if (!ok) { // the client closed its side or went away
      std::lock_guard lock(mu_);
      requestFinishLocked(grpc::Status::OK);
      return;
    }
    std::optional<Request> req = parse();
    if (!req || req->type_url.empty()) {
      server_.countBadRequest();
      const char* what = req ? "a DiscoveryRequest without type_url" : "a malformed request";
      server_.logger().warn("xds: stream {} ({}) sent {}; ending it", id_, peer_, what);
      std::lock_guard lock(mu_);
      requestFinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       fmt::format("{} on the ADS stream", what)));
      return;
    }
    if (first_request_) {
      first_request_ = false;
      server_.attach(*this, req->node_id);
    }
    std::lock_guard lock(mu_);
    if (findTypeLocked(req->type_url) == nullptr && types_.size() >= kMaxTypesPerStream) {
      server_.countBadRequest();
      server_.logger().warn("xds: stream {} ({}) subscribed to over {} types; ending it", id_,
                            peer_, kMaxTypesPerStream);
      requestFinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       "too many resource types on the ADS stream"));
      return;
    }
    handleLocked(*req);
    if (!finish_) {
      StartRead(&request_);
    }
    writeNextLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      requestFinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    }
    finishIfIdleLocked();
    writeNextLocked();
  }

  void OnDone() override {
    server_.onDone(*this);
    delete this; // gRPC's reactor contract: OnDone is the last reaction
  }

private:
  enum class Pending {
    None,
    IfChanged, // the snapshot changed: send unless the version sent is the current one
    Always,    // a subscription or new resource names: send the current version
  };

  struct TypeState {
    XdsTypeStatus status;
    std::vector<std::string> names; // as last requested: sorted, unique
    Pending pending = Pending::None;
  };

  std::optional<Request> parse() {
    grpc::Slice slice;
    if (!request_.DumpToSingleSlice(&slice).ok()) {
      return std::nullopt;
    }
    return server_.protos().parseRequest(
        std::string(reinterpret_cast<const char*>(slice.begin()), slice.size()));
  }

  TypeState* findTypeLocked(std::string_view type_url) {
    for (TypeState& t : types_) {
      if (t.status.type_url == type_url) {
        return &t;
      }
    }
    return nullptr;
  }

  TypeState& typeLocked(const std::string& type_url) {
    if (TypeState* t = findTypeLocked(type_url)) {
      return *t;
    }
    TypeState& t = types_.emplace_back();
    t.status.type_url = type_url;
    return t;
  }

  void markIfChangedLocked(TypeState& t) {
    const EncodedSet* set = snapshot_ ? snapshot_->find(t.status.type_url) : nullptr;
    if (set != nullptr && set->version != t.status.sent_version && t.pending == Pending::None) {
      t.pending = Pending::IfChanged;
    }
  }

  void handleLocked(const Request& req) {
    TypeState& t = typeLocked(req.type_url);
    XdsTypeStatus& s = t.status;
    // A nonce this stream never sent for the type (none sent yet) cannot answer one of our
    // responses: the request subscribes, like one with an empty nonce.
    const bool subscribes = req.response_nonce.empty() || s.sent_nonce.empty();
    if (!subscribes && req.response_nonce != s.sent_nonce) {
      server_.logger().debug("xds: stream {} node {}: stale nonce {} for {} (latest {}), ignored",
                             id_, node_id_, req.response_nonce, req.type_url, s.sent_nonce);
      return;
    }
    const bool names_changed = req.resource_names != t.names;
    t.names = req.resource_names;
    if (subscribes) {
      server_.logger().debug("xds: stream {} node {} subscribes to {} ({} names)", id_, node_id_,
                             req.type_url, t.names.size());
      t.pending = Pending::Always;
    } else if (req.error_message) {
      s.nack_version = s.sent_version;
      s.nack_nonce = req.response_nonce;
      s.nack_message = *req.error_message;
      ++s.nacks;
      server_.countNack();
      server_.logger().warn("xds: node {} rejected {} version {} (nonce {}): {}", node_id_,
                            req.type_url, s.sent_version, req.response_nonce, *req.error_message);
    } else {
      s.acked_version = req.version_info;
      ++s.acks;
      server_.countAck();
      server_.logger().debug("xds: node {} acked {} version {}", node_id_, req.type_url,
                             req.version_info);
    }
    if (names_changed && !subscribes) {
      t.pending = Pending::Always;
    }
    markIfChangedLocked(t);
  }

  // Starts the write of the first pending type, in the snapshot's order, built from the
  // snapshot as it is now (so a version superseded before its write is never sent).
  void writeNextLocked() {
    if (writing_ || finish_ || !snapshot_) {
      return;
    }
    for (const EncodedSet& set : snapshot_->sets) {
      TypeState* t = findTypeLocked(set.type_url);
      if (t == nullptr || t->pending == Pending::None) {
        continue;
      }
      const Pending pending = std::exchange(t->pending, Pending::None);
      if (pending == Pending::IfChanged && set.version == t->status.sent_version) {
        continue;
      }
      startWriteLocked(*t, set);
      return;
    }
    // What is left pending names types the snapshot lacks; a snapshot carrying them is sent
    // then (its version differs from the empty one sent).
    for (TypeState& t : types_) {
      t.pending = Pending::None;
    }
  }

  void startWriteLocked(TypeState& t, const EncodedSet& set) {
    const std::string nonce = std::to_string(++last_nonce_);
    std::vector<grpc::Slice> slices;
    slices.reserve(set.resources.size() + 1);
    slices.emplace_back(server_.protos().responseHeader(set.version, set.type_url, nonce));
    const bool whole = servedWhole(set.type_url) || t.names.empty();
    for (const EncodedResource& r : set.resources) {
      if (whole || std::binary_search(t.names.begin(), t.names.end(), r.name())) {
        slices.push_back(sliceOf(r.fragment));
      }
    }
    response_ = grpc::ByteBuffer(slices.data(), slices.size());
    t.status.sent_version = set.version;
    t.status.sent_nonce = nonce;
    server_.logger().debug("xds: stream {} node {}: sending {} version {} nonce {} ({} resources)",
                           id_, node_id_, set.type_url, set.version, nonce, slices.size() - 1);
    writing_ = true;
    StartWrite(&response_);
  }

  void requestFinishLocked(grpc::Status status) {
    if (!finish_) {
      finish_ = std::move(status);
    }
    finishIfIdleLocked();
  }

  // Finish waits for the outstanding write.
  void finishIfIdleLocked() {
    if (finish_ && !finished_ && !writing_) {
      finished_ = true;
      Finish(*finish_);
    }
  }

  Impl& server_;
  const uint64_t id_;
  const std::string peer_;

  // The read path's own (one read outstanding at a time).
  grpc::ByteBuffer request_;
  bool first_request_ = true;

  mutable std::mutex mu_;
  bool node_known_ = false;
  std::string node_id_;
  EncodedSnapshotConstSharedPtr snapshot_;
  std::vector<TypeState> types_; // in subscription order
  uint64_t last_nonce_ = 0;
  bool writing_ = false;
  grpc::ByteBuffer response_; // the outstanding write's
  std::optional<grpc::Status> finish_;
  bool finished_ = false;
};

grpc::ServerGenericBidiReactor*
XdsServer::Impl::Service::CreateReactor(grpc::GenericCallbackServerContext* ctx) {
  if (ctx->method() != kAdsMethod) {
    return grpc::CallbackGenericService::CreateReactor(ctx); // UNIMPLEMENTED
  }
  std::lock_guard lock(impl_.mu_);
  const uint64_t id = ++impl_.last_stream_id_;
  auto* stream = new Stream(impl_, id, ctx->peer(), impl_.stopping_); // deletes itself in OnDone
  impl_.streams_.emplace(id, stream);
  impl_.logger_.debug("xds: stream {} opened by {}", id, ctx->peer());
  return stream;
}

Status XdsServer::Impl::start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (server_ || stopped_) {
    return failedPrecondition("the xDS server was started already (or stopped)");
  }
  const std::string address = options_.address.find(':') != std::string::npos
                                  ? fmt::format("[{}]:{}", options_.address, options_.port)
                                  : fmt::format("{}:{}", options_.address, options_.port);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  // gRPC sets SO_REUSEPORT by default on Linux, which would let a second server (a second
  // node) share the port silently instead of failing to bind.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  service_ = std::make_unique<Service>(*this);
  builder.RegisterCallbackGenericService(service_.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port <= 0) {
    return unavailable(fmt::format("xDS server: cannot listen on {}", address));
  }
  server_ = std::move(server);
  port_ = static_cast<uint16_t>(port);
  logger_.info("xds: serving ADS on {}:{}", options_.address, port_);
  return {};
}

Status XdsServer::Impl::setSnapshot(const std::string& node_id, XdsSnapshot snapshot) {
  auto encoded = std::make_shared<EncodedSnapshot>();
  EncodedSnapshotConstSharedPtr previous;
  {
    std::lock_guard lock(mu_);
    if (auto it = snapshots_.find(node_id); it != snapshots_.end()) {
      previous = it->second;
    }
  }
  std::size_t total = 0;
  for (const ResourceSet& set : snapshot.sets) {
    total += set.resources.size();
  }
  {
    std::lock_guard lock(cache_mu_);
    // Entries no snapshot holds any more, dropped once they are as many as the live ones.
    if (cache_.size() > 2 * total + 1024) {
      std::erase_if(cache_, [](const auto& entry) { return entry.second.expired(); });
    }
    for (ResourceSet& set : snapshot.sets) {
      if (encoded->find(set.type_url) != nullptr) {
        return invalidArgument(fmt::format("xDS snapshot: {} appears twice", set.type_url));
      }
      EncodedSet& out = encoded->sets.emplace_back();
      out.type_url = set.type_url;
      out.version = set.version;
      out.resources.reserve(set.resources.size());
      // The renderer's sets are sorted by name, so the previous set of the type is walked
      // alongside; an unsorted set only misses this shortcut.
      const EncodedSet* before = previous ? previous->find(set.type_url) : nullptr;
      std::size_t at = 0;
      for (const ResourceConstSharedPtr& r : set.resources) {
        BytesConstSharedPtr fragment;
        if (before != nullptr) {
          while (at < before->resources.size() && before->resources[at].name() < r->name) {
            ++at;
          }
          if (at < before->resources.size() && before->resources[at].source == r) {
            fragment = before->resources[at].fragment;
          }
        }
        if (!fragment) {
          const std::string key =
              fmt::format("{}\n{}", set.type_url, r->digest.empty() ? r->json : r->digest);
          std::weak_ptr<const std::string>& slot = cache_[key];
          fragment = slot.lock();
          if (!fragment) {
            Result<std::string> binary = schema_.encode(set.type_url, r->json);
            if (!binary) {
              return invalidArgument(
                  fmt::format("xDS snapshot: {}: {}", r->name, binary.error().message));
            }
            fragment = std::make_shared<const std::string>(
                protos_.resourceFragment(set.type_url, std::move(*binary)));
            slot = fragment;
            ++encodings_;
          }
        }
        out.resources.push_back(EncodedResource{std::move(fragment), r});
      }
    }
  }
  std::lock_guard lock(mu_);
  snapshots_[node_id] = std::move(encoded);
  for (const auto& [id, stream] : streams_) {
    stream->offer([this](const std::string& node) { return resolveLocked(node); });
  }
  return {};
}

EncodedSnapshotConstSharedPtr XdsServer::Impl::resolveLocked(const std::string& node_id) const {
  auto it = snapshots_.find(node_id);
  if (it == snapshots_.end()) {
    it = snapshots_.find("");
  }
  return it == snapshots_.end() ? nullptr : it->second;
}

void XdsServer::Impl::attach(Stream& stream, const std::string& node_id) {
  std::lock_guard lock(mu_);
  stream.attach(node_id, resolveLocked(node_id));
  logger_.debug("xds: stream {} is node {}", stream.id(), node_id);
}

void XdsServer::Impl::onDone(Stream& stream) {
  std::lock_guard lock(mu_);
  streams_.erase(stream.id());
  logger_.debug("xds: stream {} closed", stream.id());
  if (streams_.empty()) {
    streams_done_.notify_all();
  }
}

XdsStats XdsServer::Impl::stats() const {
  XdsStats s;
  s.acks = acks_;
  s.nacks = nacks_;
  s.bad_requests = bad_requests_;
  s.encodings = encodings_;
  std::lock_guard lock(mu_);
  s.streams_total = last_stream_id_;
  for (const auto& [id, stream] : streams_) {
    s.streams.push_back(stream->status());
  }
  return s;
}

void XdsServer::Impl::stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& [id, stream] : streams_) {
      stream->end(grpc::Status(grpc::StatusCode::UNAVAILABLE, "xDS server stopping"));
    }
  }
  if (server_) {
    // Streams finish as soon as their outstanding write completes; the deadline cancels
    // writes a client never reads. Shutdown returns once every stream is done (OnDone).
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_.reset();
    logger_.info("xds: stopped");
  }
  // Shutdown waits for the reactors already; the streams touch this object until they have
  // removed themselves, so make sure of it.
  std::unique_lock lock(mu_);
  streams_done_.wait(lock, [this] { return streams_.empty(); });
}

XdsServer::XdsServer(const ApiSchema& schema, XdsServerOptions options, Logger& logger)
    : impl_(std::make_unique<Impl>(schema, std::move(options), logger)) {}

XdsServer::~XdsServer() { stop(); }

Status XdsServer::start() { return impl_->start(); }

uint16_t XdsServer::port() const { return impl_->port(); }

Status XdsServer::setSnapshot(const std::string& node_id, XdsSnapshot snapshot) {
  return impl_->setSnapshot(node_id, std::move(snapshot));
}

XdsStats XdsServer::stats() const { return impl_->stats(); }

void XdsServer::stop() { impl_->stop(); }

} // namespace catalyst::envoy
