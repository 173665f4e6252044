#pragma once

// Internal to ApiSchema: proto3 JSON (as a Boost.JSON DOM) -> a message of the descriptor pool,
// through protobuf's reflection. Several times faster than protobuf's own JSON parser, which
// resolves types through a google.protobuf.Type view on every call. It covers the JSON the
// renderer and the tests write: messages, repeated and map fields, scalars, enums by name or
// number, Duration, Any, the wrapper types and Empty. Anything else (Struct, Timestamp, bytes,
// a oneof set twice, an unknown field, a value of the wrong kind) returns false, and the caller
// falls back to protobuf's parser, whose answer (and error message) is then authoritative.

#include <boost/json/value.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

namespace catalyst::envoy::detail {

class JsonToMessage {
public:
  JsonToMessage(const google::protobuf::DescriptorPool& pool,
                google::protobuf::MessageFactory& factory)
      : pool_(pool), factory_(factory) {}

  // Fills `message` (empty) from `json`; false when the fast path does not apply or the JSON
  // is not valid for the type.
  bool fill(const boost::json::value& json, google::protobuf::Message& message) const;

private:
  bool fillObject(const boost::json::object& object, google::protobuf::Message& message) const;
  bool fillWellKnown(const boost::json::value& json, google::protobuf::Message& message,
                     bool& handled) const;
  bool setField(google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                const boost::json::value& json) const;
  bool addField(google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field,
                const boost::json::value& json) const;

  const google::protobuf::DescriptorPool& pool_;
  google::protobuf::MessageFactory& factory_;
};

} // namespace catalyst::envoy::detail
