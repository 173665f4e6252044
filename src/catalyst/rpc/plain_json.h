#pragma once

// Plain data between rpc::Value and JSON, for records kept in files or shown over HTTP
// (the run-time files, /api/state). Not the Cap'n Web encoding: arrays are not escaped, and only
// plain values map (null, booleans, numbers, strings, arrays, objects).

#include <boost/json/value.hpp>

#include "catalyst/rpc/value.h"

namespace catalyst::rpc {

// Object members that are undefined are left out; any other non-plain value (stub, error,
// bigint, date, bytes, undefined) becomes null. Whole numbers are written as integers.
boost::json::value toPlainJson(const Value& value);

// Every JSON number becomes a double.
Value fromPlainJson(const boost::json::value& json);

} // namespace catalyst::rpc
