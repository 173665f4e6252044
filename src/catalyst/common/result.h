#pragma once

#include <string>
#include <utility>

#include <boost/system/result.hpp>

namespace catalyst {

// An expected failure: a machine-readable kind plus a message for people.
// `message` is complete on its own ("routes[2].name: must match ^[a-z0-9]...").
struct Error {
  enum class Kind {
    InvalidArgument,    // the input was malformed or out of bounds
    NotFound,           // the thing named does not exist
    AlreadyExists,      // the thing named exists already
    Unavailable,        // a resource (port, socket, file) could not be had
    PermissionDenied,   // the caller may not do this (token, role, identity)
    FailedPrecondition, // not now: the system is not in the state the call needs
    Internal,           // a fault of ours; should not happen
  };

  Kind kind = Kind::Internal;
  std::string message;

  bool operator==(const Error&) const = default;
};

inline Error invalidArgument(std::string message) {
  return Error{Error::Kind::InvalidArgument, std::move(message)};
}
inline Error notFound(std::string message) {
  return Error{Error::Kind::NotFound, std::move(message)};
}
inline Error alreadyExists(std::string message) {
  return Error{Error::Kind::AlreadyExists, std::move(message)};
}
inline Error unavailable(std::string message) {
  return Error{Error::Kind::Unavailable, std::move(message)};
}
inline Error permissionDenied(std::string message) {
  return Error{Error::Kind::PermissionDenied, std::move(message)};
}
inline Error failedPrecondition(std::string message) {
  return Error{Error::Kind::FailedPrecondition, std::move(message)};
}

// Result<T>: a T, or the Error that prevented it. Expected failures (bad input, network,
// files) travel this way; exceptions are kept for start-up and for throwing libraries.
template <class T> using Result = boost::system::result<T, Error>;

// Result<void> for operations that return nothing.
using Status = boost::system::result<void, Error>;

} // namespace catalyst

namespace boost::system {
// boost::system::result asks the error type how to throw when value() is called on an error.
// Our code never calls value() unchecked; this keeps misuse loud.
[[noreturn]] void throw_exception_from_error(const catalyst::Error& e,
                                             const boost::source_location& loc);
} // namespace boost::system
