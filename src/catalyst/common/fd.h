#pragma once

#include <utility>

namespace catalyst {

// An open file descriptor with one owner; closed when the owner goes.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor held (if any) and holds `fd`.
  void reset(int fd = -1);
  int release() { return std::exchange(fd_, -1); }
  // Closes now and reports whether close(2) succeeded (it can report a failed write).
  bool close();

private:
  int fd_ = -1;
};

} // namespace catalyst
