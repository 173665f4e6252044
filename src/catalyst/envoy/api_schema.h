#pragma once

// Envoy's v3 API, as the build compiled it from the protos of the pinned npm package
// (deps/envoy-api): a descriptor set embedded in the binary, loaded into a protobuf
// DescriptorPool. It checks proto3 JSON strictly (the check Envoy itself applies to JSON
// config: unknown fields, enum names, durations, nested `@type`s) and converts between JSON and
// the binary encoding. No generated message classes: the pool is all the schema there is, which
// keeps the binary small. Protobuf stays behind this header.

#include <memory>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"

namespace google::protobuf {
class DescriptorPool;
} // namespace google::protobuf

namespace catalyst::envoy {

inline constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";

class ApiSchema {
public:
  // Loads the embedded descriptor set. Fails only if the build embedded a broken one.
  static Result<ApiSchema> load();

  ApiSchema(ApiSchema&&) noexcept;
  ApiSchema& operator=(ApiSchema&&) noexcept;
  ~ApiSchema();

  // True when the pool knows the message (a full name such as
  // "envoy.config.cluster.v3.Cluster", or a type URL).
  bool knows(std::string_view type) const;

  // Parses `json` as the message `type` (full name or type URL) with nothing ignored: an unknown
  // field, a bad enum name, a malformed duration or an unknown `@type` in a nested Any fails
  // with InvalidArgument naming the path of the first problem.
  Status check(std::string_view type, std::string_view json) const;

  // The binary encoding of `json` (checked as above).
  Result<std::string> toBinary(std::string_view type, std::string_view json) const;

  // The binary encoding of `json`, as toBinary() gives it but several times faster where it
  // can: JSON the fast path covers (json_to_message.h) goes through protobuf's reflection; the
  // rest, and every error, through toBinary(). The bytes may order fields differently than
  // toBinary()'s; they decode to the same message.
  Result<std::string> encode(std::string_view type, std::string_view json) const;

  // `binary` re-encoded canonically (fields in number order, proto3 default values left out, map
  // entries sorted): two encodings of one message give the same bytes.
  Result<std::string> canonical(std::string_view type, std::string_view binary) const;

  // The proto3 JSON of a binary message (fields with default values left out).
  Result<std::string> toJson(std::string_view type, std::string_view binary) const;

  // The pool itself, for code that builds or reads messages with protobuf's reflection
  // (DynamicMessageFactory), as the xDS server does. Immutable and thread-safe; lives as long
  // as this schema.
  const google::protobuf::DescriptorPool& pool() const;

private:
  struct Impl;
  explicit ApiSchema(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace catalyst::envoy
