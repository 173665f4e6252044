#include "catalyst/common/fd.h"

#include <unistd.h>

namespace catalyst {

void Fd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

bool Fd::close() {
  const int fd = std::exchange(fd_, -1);
  return fd >= 0 && ::close(fd) == 0;
}

} // namespace catalyst
