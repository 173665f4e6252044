#include "catalyst/dataplane/socket_address.h"

#include <array>
#include <cstring>
#include <functional>

#include <arpa/inet.h>
#include <netdb.h>

namespace catalyst::dataplane {

SocketAddress::SocketAddress(const sockaddr* address, socklen_t size) {
  size_ = size > sizeof(storage_) ? static_cast<socklen_t>(sizeof(storage_)) : size;
  std::memcpy(&storage_, address, size_);
}

std::optional<SocketAddress> SocketAddress::fromLiteral(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  SocketAddress address(found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  address.setPort(port);
  return address;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

void SocketAddress::setPort(uint16_t port) {
  if (family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

std::string SocketAddress::hostString() const {
  std::array<char, NI_MAXHOST> host{};
  if (size_ == 0 || ::getnameinfo(get(), size_, host.data(), static_cast<socklen_t>(host.size()),
                                  nullptr, 0, NI_NUMERICHOST) != 0) {
    return "?";
  }
  return host.data();
}

bool SocketAddress::operator==(const SocketAddress& other) const {
  if (family() != other.family()) {
    return false;
  }
  if (family() == AF_INET) {
    const auto& a = *reinterpret_cast<const sockaddr_in*>(&storage_);
    const auto& b = *reinterpret_cast<const sockaddr_in*>(&other.storage_);
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (family() == AF_INET6) {
    const auto& a = *reinterpret_cast<const sockaddr_in6*>(&storage_);
    const auto& b = *reinterpret_cast<const sockaddr_in6*>(&other.storage_);
    return a.sin6_port == b.sin6_port && a.sin6_scope_id == b.sin6_scope_id &&
           std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof(a.sin6_addr)) == 0;
  }
  return size_ == other.size_ && std::memcmp(&storage_, &other.storage_, size_) == 0;
}

std::size_t SocketAddress::hash() const {
  std::size_t h = std::hash<uint16_t>{}(port());
  auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  if (family() == AF_INET) {
    mix(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr);
  } else if (family() == AF_INET6) {
    const auto& a = *reinterpret_cast<const sockaddr_in6*>(&storage_);
    mix(std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(&a.sin6_addr), sizeof(a.sin6_addr))));
    mix(a.sin6_scope_id);
  }
  return h;
}

} // namespace catalyst::dataplane
