#include "catalyst/envoy/api_schema.h"

#include <map>
#include <mutex>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/type.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include "catalyst/envoy/json_to_message.h"

// The descriptor set the build compiled (envoy_descriptors.S embeds the file).
extern "C" const char catalyst_envoy_descriptor_set[];
extern "C" const char catalyst_envoy_descriptor_set_end[];

namespace catalyst::envoy {

namespace pb = google::protobuf;

namespace {

// Protobuf's JSON converter asks its resolver for every message and enum type it meets, on every
// call, and the pool's resolver builds a google.protobuf.Type from the descriptor each time.
// The types of a pool never change: build each once.
class CachingTypeResolver final : public pb::util::TypeResolver {
public:
  explicit CachingTypeResolver(std::unique_ptr<pb::util::TypeResolver> inner)
      : inner_(std::move(inner)) {}

  pb::util::Status ResolveMessageType(const std::string& type_url, pb::Type* type) override {
    return resolve(types_, type_url, type, [this](const std::string& url, pb::Type* out) {
      return inner_->ResolveMessageType(url, out);
    });
  }

  pb::util::Status ResolveEnumType(const std::string& type_url, pb::Enum* enum_type) override {
    return resolve(enums_, type_url, enum_type, [this](const std::string& url, pb::Enum* out) {
      return inner_->ResolveEnumType(url, out);
    });
  }

private:
  template <class T, class Resolve>
  pb::util::Status resolve(std::map<std::string, std::unique_ptr<T>, std::less<>>& cache,
                           const std::string& type_url, T* out, const Resolve& inner) {
    std::lock_guard lock(mutex_);
    auto it = cache.find(type_url);
    if (it == cache.end()) {
      auto resolved = std::make_unique<T>();
      pb::util::Status st = inner(type_url, resolved.get());
      if (!st.ok()) {
        return st; // unknown types are not cached: they are errors, and rare
      }
      it = cache.emplace(type_url, std::move(resolved)).first;
    }
    out->CopyFrom(*it->second);
    return pb::util::Status();
  }

  std::unique_ptr<pb::util::TypeResolver> inner_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<pb::Type>, std::less<>> types_;
  std::map<std::string, std::unique_ptr<pb::Enum>, std::less<>> enums_;
};

} // namespace

struct ApiSchema::Impl {
  pb::DescriptorPool pool;
  std::unique_ptr<pb::util::TypeResolver> resolver;
  // Prototypes of the pool's messages for the fast encoder (GetPrototype is thread-safe).
  mutable pb::DynamicMessageFactory factory{&pool};

  std::string typeUrl(std::string_view type) const {
    if (type.starts_with(kTypeUrlPrefix)) {
      return std::string(type);
    }
    return fmt::format("{}{}", kTypeUrlPrefix, type);
  }
};

ApiSchema::ApiSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiSchema::ApiSchema(ApiSchema&&) noexcept = default;
ApiSchema& ApiSchema::operator=(ApiSchema&&) noexcept = default;
ApiSchema::~ApiSchema() = default;

Result<ApiSchema> ApiSchema::load() {
  pb::FileDescriptorSet set;
  const auto size =
      static_cast<int>(catalyst_envoy_descriptor_set_end - catalyst_envoy_descriptor_set);
  if (!set.ParseFromArray(catalyst_envoy_descriptor_set, size)) {
    return failedPrecondition("the embedded Envoy descriptor set does not parse");
  }
  auto impl = std::make_unique<Impl>();
  // --include_imports lists every file after its dependencies, so one pass builds them all.
  for (const pb::FileDescriptorProto& file : set.file()) {
    if (impl->pool.BuildFile(file) == nullptr) {
      return failedPrecondition(
          fmt::format("the embedded Envoy descriptor set: {} does not build", file.name()));
    }
  }
  impl->resolver = std::make_unique<CachingTypeResolver>(
      std::unique_ptr<pb::util::TypeResolver>(pb::util::NewTypeResolverForDescriptorPool(
          std::string(kTypeUrlPrefix.substr(0, kTypeUrlPrefix.size() - 1)), &impl->pool)));
  return ApiSchema(std::move(impl));
}

bool ApiSchema::knows(std::string_view type) const {
  std::string_view name = type;
  if (name.starts_with(kTypeUrlPrefix)) {
    name.remove_prefix(kTypeUrlPrefix.size());
  }
  return impl_->pool.FindMessageTypeByName(std::string(name)) != nullptr;
}

const pb::DescriptorPool& ApiSchema::pool() const { return impl_->pool; }

Status ApiSchema::check(std::string_view type, std::string_view json) const {
  Result<std::string> binary = toBinary(type, json);
  if (!binary) {
    return binary.error();
  }
  return {};
}

Result<std::string> ApiSchema::toBinary(std::string_view type, std::string_view json) const {
  if (!knows(type)) {
    return invalidArgument(fmt::format("unknown message type {}", type));
  }
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = false;
  std::string binary;
  const pb::util::Status st = pb::util::JsonToBinaryString(
      impl_->resolver.get(), impl_->typeUrl(type), std::string(json), &binary, options);
  if (!st.ok()) {
    return invalidArgument(fmt::format("{}: {}", type, st.message().as_string()));
  }
  return binary;
}

Result<std::string> ApiSchema::encode(std::string_view type, std::string_view json) const {
  std::string_view name = type;
  if (name.starts_with(kTypeUrlPrefix)) {
    name.remove_prefix(kTypeUrlPrefix.size());
  }
  const pb::Descriptor* descriptor = impl_->pool.FindMessageTypeByName(std::string(name));
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  if (descriptor != nullptr && !ec) {
    std::unique_ptr<pb::Message> message(impl_->factory.GetPrototype(descriptor)->New());
    std::string binary;
    if (detail::JsonToMessage(impl_->pool, impl_->factory).fill(value, *message) &&
        message->SerializeToString(&binary)) {
      return binary;
    }
  }
  return toBinary(type, json);
}

namespace {

std::string deterministic(const pb::Message& message) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

// Re-encodes every Any inside `message` canonically (an Any's value is opaque bytes to the
// serializer, so two encodings of one message can differ there).
bool canonicalizeAnys(pb::Message& message, const pb::DescriptorPool& pool,
                      pb::MessageFactory& factory) {
  const pb::Reflection* r = message.GetReflection();
  const pb::Descriptor* d = message.GetDescriptor();
  if (d->full_name() == "google.protobuf.Any") {
    const pb::FieldDescriptor* url = d->FindFieldByName("type_url");
    const pb::FieldDescriptor* value = d->FindFieldByName("value");
    const std::string type_url = r->GetString(message, url);
    const pb::Descriptor* inner =
        pool.FindMessageTypeByName(type_url.substr(type_url.rfind('/') + 1));
    if (inner == nullptr) {
      return false;
    }
    std::unique_ptr<pb::Message> unpacked(factory.GetPrototype(inner)->New());
    if (!unpacked->ParseFromString(r->GetString(message, value)) ||
        !canonicalizeAnys(*unpacked, pool, factory)) {
      return false;
    }
    r->SetString(&message, value, deterministic(*unpacked));
    return true;
  }
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(message, f); ++i) {
        if (!canonicalizeAnys(*r->MutableRepeatedMessage(&message, f, i), pool, factory)) {
          return false;
        }
      }
    } else if (!canonicalizeAnys(*r->MutableMessage(&message, f, &factory), pool, factory)) {
      return false;
    }
  }
  return true;
}

} // namespace

Result<std::string> ApiSchema::canonical(std::string_view type, std::string_view binary) const {
  std::string_view name = type;
  if (name.starts_with(kTypeUrlPrefix)) {
    name.remove_prefix(kTypeUrlPrefix.size());
  }
  const pb::Descriptor* descriptor = impl_->pool.FindMessageTypeByName(std::string(name));
  if (descriptor == nullptr) {
    return invalidArgument(fmt::format("unknown message type {}", type));
  }
  std::unique_ptr<pb::Message> message(impl_->factory.GetPrototype(descriptor)->New());
  if (!message->ParseFromArray(binary.data(), static_cast<int>(binary.size())) ||
      !canonicalizeAnys(*message, impl_->pool, impl_->factory)) {
    return invalidArgument(fmt::format("{}: the bytes do not parse", type));
  }
  return deterministic(*message);
}

Result<std::string> ApiSchema::toJson(std::string_view type, std::string_view binary) const {
  if (!knows(type)) {
    return invalidArgument(fmt::format("unknown message type {}", type));
  }
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  const pb::util::Status st = pb::util::BinaryToJsonString(
      impl_->resolver.get(), impl_->typeUrl(type), std::string(binary), &json, options);
  if (!st.ok()) {
    return invalidArgument(fmt::format("{}: {}", type, st.message().as_string()));
  }
  return json;
}

} // namespace catalyst::envoy
