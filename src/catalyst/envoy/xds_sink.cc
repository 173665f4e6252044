#include "catalyst/envoy/xds_sink.h"

#include <fmt/format.h>

namespace catalyst::envoy {

XdsSink::XdsSink(XdsServerOptions options, Logger& logger)
    : options_(std::move(options)), logger_(logger) {}

Status XdsSink::start() {
  Result<ApiSchema> schema = ApiSchema::load();
  if (!schema) {
    return schema.error();
  }
  schema_.emplace(std::move(*schema));
  server_ = std::make_unique<XdsServer>(*schema_, options_, logger_);
  return server_->start();
}

Status XdsSink::publish(const Snapshot& snapshot) {
  XdsSnapshot xds;
  xds.sets = {snapshot.clusters, snapshot.listeners};
  return server_->setSnapshot("", std::move(xds));
}

void XdsSink::addStats(dataplane::EnvoyStats& stats) const {
  if (!server_) {
    return;
  }
  const XdsStats s = server_->stats();
  stats.streams = s.streams.size();
  stats.acks = s.acks;
  stats.nacks = s.nacks;
  stats.bad_requests = s.bad_requests;
  for (const XdsStreamStatus& stream : s.streams) {
    for (const XdsTypeStatus& t : stream.types) {
      if (t.nack_message) {
        stats.last_nack =
            fmt::format("{} {}: {}", t.type_url, t.nack_version.value_or(""), *t.nack_message);
      }
    }
  }
}

void XdsSink::stop() {
  if (server_) {
    server_->stop();
  }
}

} // namespace catalyst::envoy
