#pragma once

// The interop API of test/interop/API.md in C++: the same object the JavaScript test server
// serves, so the same scenarios run against either.

#include <memory>

#include "catalyst/rpc/target.h"

namespace catalyst::test {

class InteropApi : public rpc::Target {
public:
  InteropApi() : disposed_(std::make_shared<int>(0)) {}
  // Counts disposals into `disposed`, shared with other instances (one per session).
  explicit InteropApi(std::shared_ptr<int> disposed) : disposed_(std::move(disposed)) {}

  rpc::Promise<rpc::Value> call(std::string_view method, rpc::Args args) override;

  // Counters disposed so far (their last reference released).
  int disposed() const { return *disposed_; }

private:
  rpc::Promise<rpc::Value> subscribe(rpc::Stub cb);
  rpc::Promise<rpc::Value> callTwice(rpc::Stub cb);
  rpc::Promise<rpc::Value> nameOf(rpc::Stub user);

  std::shared_ptr<int> disposed_;
};

} // namespace catalyst::test
