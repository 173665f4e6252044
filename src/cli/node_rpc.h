#pragma once

// The CLI's Cap'n Web calls to a node's management clients (peering.md §2): one HTTP batch per
// call, POSTed to http://HOST:PORT/rpc. Nothing here prints.

#include <functional>
#include <string>
#include <string_view>

#include "catalyst/common/result.h"
#include "catalyst/rpc/value.h"

#include "cli/status_command.h"

namespace catalyst::cli {

// The management factories of a node's main object.
inline constexpr std::string_view kNetworkClient = "getNetworkClient";
inline constexpr std::string_view kDataChannelClient = "getDataChannelClient";

// What a command calls: `factory(token).client.method(arg)`. The answer object when it says
// `success: true`; otherwise the one-line reason (the node's `error`, or why the call failed).
using ManagementCall = std::function<Result<rpc::Value>(std::string_view factory,
                                                        std::string_view method, rpc::Value arg)>;

// The reason given when a command that needs a token has none.
inline constexpr std::string_view kNoTokenMessage =
    "this command needs an admin token: pass --token TOKEN or set CATALYST_TOKEN (on the node's "
    "host: catalyst-node token mint --subject NAME --role admin)";

// Makes the call over one Cap'n Web HTTP batch to `global.orchestrator_url` (http://HOST:PORT
// or ws://HOST:PORT/rpc; the batch goes to http://HOST:PORT/rpc) with `global.token`, waiting
// at most `global.timeout`. The factory's answer, the method's answer and the batch are pulled
// in the same request. Errors (one line each):
//   - no token: kNoTokenMessage; a bad URL: "--orchestrator-url: invalid URL ...";
//   - no connection: "cannot reach http://HOST:PORT/rpc: Connection refused";
//   - no answer in time: "POST http://HOST:PORT/rpc: no response within 5s";
//   - an HTTP error status: "POST http://HOST:PORT/rpc: RPC request failed: 500 ...";
//   - the factory refused the token, or the method answered `success: false`: its `error`;
//   - the call itself was rejected: "the node rejected getX().client.m(): <name>: <message>".
Result<rpc::Value> callManagement(const GlobalOptions& global, std::string_view factory,
                                  std::string_view method, rpc::Value arg);

// callManagement bound to `global` (copied).
ManagementCall managementCall(GlobalOptions global);

// Interprets one answer of a management method: `{success: true, ...}` is returned as is,
// `{success: false, error}` becomes its error (FailedPrecondition), anything else an
// InvalidArgument naming `what`.
Result<rpc::Value> checkAnswer(const rpc::Value& answer, std::string_view what);

// A Cap'n Web value as one line of JSON, as JavaScript's JSON.stringify writes it: `undefined`
// members are left out (and are null in arrays), numbers in their shortest form ("3", "2.5"),
// non-finite numbers as null; other non-JSON values (bigints, dates, bytes, errors, stubs) as
// strings (the decimal digits, or their debug text).
std::string toJsonText(const rpc::Value& value);

} // namespace catalyst::cli
