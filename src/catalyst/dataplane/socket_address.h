#pragma once

// An IPv4 or IPv6 socket address, as the socket calls take it. Internal to the data plane.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <sys/socket.h>

namespace catalyst::dataplane {

class SocketAddress {
public:
  SocketAddress() = default;
  // From what a socket call filled in (sockaddr_in or sockaddr_in6).
  SocketAddress(const sockaddr* address, socklen_t size);

  // An IP literal ("10.0.0.1", "::1", "fe80::1%eth0") and a port; nullopt when `host` is not one.
  static std::optional<SocketAddress> fromLiteral(const std::string& host, uint16_t port);

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const { return size_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void setPort(uint16_t port);
  // The address without the port: "10.0.0.1", "::1".
  std::string hostString() const;

  // The family, port and address (and an IPv6 scope) are compared; nothing else.
  bool operator==(const SocketAddress& other) const;
  std::size_t hash() const;

private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

struct SocketAddressHash {
  std::size_t operator()(const SocketAddress& address) const noexcept { return address.hash(); }
};

} // namespace catalyst::dataplane
