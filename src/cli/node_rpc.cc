#include "cli/node_rpc.h"

#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "catalyst/common/time_source.h"
#include "catalyst/event/dispatcher.h"
#include "catalyst/rpc/json_writer.h"
#include "catalyst/rpc/promise.h"
#include "catalyst/rpc/target.h"
#include "catalyst/rpcnet/client.h"

#include "cli/http_client.h"

namespace catalyst::cli {
namespace {

// The largest answer the CLI reads (a route list of a big node): the most a node itself reads.
constexpr std::size_t kMaxAnswerBytes = std::size_t{32} << 20;

// Appends `value` as JSON.stringify would write it (undefined members left out).
void appendJson(std::string& out, const rpc::Value& value) {
  if (const auto* b = value.as<bool>()) {
    out += *b ? "true" : "false";
  } else if (const auto* d = value.as<double>()) {
    if (!std::isfinite(*d)) {
      out += "null";
    } else if (*d == 0) {
      out += "0"; // also for -0, as JSON.stringify writes it
    } else {
      rpc::json::appendNumber(out, *d);
    }
  } else if (const auto* s = value.as<std::string>()) {
    rpc::json::appendString(out, *s);
  } else if (const auto* a = value.as<rpc::Array>()) {
    out.push_back('[');
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i != 0) {
        out.push_back(',');
      }
      appendJson(out, (*a)[i]); // undefined is null in arrays
    }
    out.push_back(']');
  } else if (const auto* o = value.as<rpc::Object>()) {
    out.push_back('{');
    bool first = true;
    for (const rpc::Member& member : *o) {
      if (member.value.isUndefined()) {
        continue;
      }
      if (!first) {
        out.push_back(',');
      }
      first = false;
      rpc::json::appendString(out, member.key);
      out.push_back(':');
      appendJson(out, member.value);
    }
    out.push_back('}');
  } else if (value.isNull() || value.isUndefined()) {
    out += "null";
  } else if (const auto* big = value.as<rpc::BigInt>()) {
    rpc::json::appendString(out, big->decimal);
  } else {
    rpc::json::appendString(out, value.debugString());
  }
}

// At most 200 characters of `text`, for one line.
std::string excerptOf(std::string text) {
  if (text.size() > 200) {
    text.resize(200);
    text += "...";
  }
  return text;
}

// The text of a rejection: "TypeError: 'x' is not a function." or the value's debug text.
std::string rejectionText(const rpc::Value& error) {
  if (const auto* e = error.as<rpc::ErrorValue>()) {
    return e->name.empty() || e->name == "Error" ? e->message : e->name + ": " + e->message;
  }
  return error.debugString();
}

// The batch's own failure, as one line naming the URL once.
std::string batchFailure(const std::string& url, const std::string& message) {
  // transport::postBatch: "connect HOST:PORT: <why>", "resolve HOST: <why>", "RPC request
  // failed: 500 Internal Server Error", "RPC request to URL: <why>", "RPC response from URL...".
  for (std::string_view prefix : {"connect ", "resolve "}) {
    if (message.rfind(prefix, 0) == 0) {
      const std::size_t colon = message.find(": ");
      const std::string why = colon == std::string::npos ? message : message.substr(colon + 2);
      return fmt::format("cannot reach {}: {}", url, why);
    }
  }
  if (message.rfind("RPC request to ", 0) == 0 || message.rfind("RPC response from ", 0) == 0) {
    return message;
  }
  return fmt::format("POST {}: {}", url, message);
}

} // namespace

std::string toJsonText(const rpc::Value& value) {
  std::string out;
  appendJson(out, value);
  return out;
}

Result<rpc::Value> checkAnswer(const rpc::Value& answer, std::string_view what) {
  const rpc::Value* success = answer.find("success");
  if (success == nullptr || !success->is<bool>()) {
    return invalidArgument(
        fmt::format("unexpected answer to {}: {}", what, excerptOf(answer.debugString())));
  }
  if (*success->as<bool>()) {
    return answer;
  }
  const rpc::Value* error = answer.find("error");
  if (error != nullptr && error->is<std::string>() && !error->as<std::string>()->empty()) {
    return failedPrecondition(*error->as<std::string>());
  }
  return failedPrecondition(fmt::format("{} failed (the node gave no reason)", what));
}

Result<rpc::Value> callManagement(const GlobalOptions& global, std::string_view factory,
                                  std::string_view method, rpc::Value arg) {
  if (global.token.empty()) {
    return invalidArgument(std::string(kNoTokenMessage));
  }
  auto url = parseUrl(global.orchestrator_url);
  if (!url) {
    return invalidArgument("--orchestrator-url: " + url.error().message);
  }
  const std::string rpc_url = url->httpOrigin() + "/rpc";
  const std::string what = fmt::format("{}().client.{}()", factory, method);

  RealTimeSource time;
  event::DispatcherPtr dispatcher = event::makeDispatcher(time);
  event::Dispatcher* loop = dispatcher.get();
  std::optional<Result<rpc::Value>> outcome;
  {
    // A node's tables can be large: accept answers up to the largest message a node reads.
    rpc::SessionOptions session;
    session.max_message_bytes = kMaxAnswerBytes;
    transport::BatchOptions limits;
    // Our own timer below ends the wait at --timeout with our message; the request's limit is
    // only a backstop, a little later, so that it never cuts a long --timeout short.
    limits.timeout = global.timeout + std::chrono::seconds(1);
    limits.max_response_bytes = kMaxAnswerBytes;
    rpcnet::BatchClient batch(*dispatcher, rpc_url, session, limits);
    const rpc::Stub factory_result = batch.main().call(factory, rpc::Array{global.token});
    rpc::Promise<rpc::Value> factory_answer = rpc::pull(factory_result);
    rpc::Promise<rpc::Value> answer =
        rpc::pull(factory_result.get("client").call(method, rpc::Array{std::move(arg)}));
    rpc::Promise<bool> sent = batch.send();

    // Each settlement stops the loop so that the condition below is looked at again; callbacks
    // that come after this block (the session rejecting what is left) do nothing.
    auto waiting = std::make_shared<bool>(true);
    auto timed_out = std::make_shared<bool>(false);
    auto wake = [waiting, loop] {
      if (*waiting) {
        loop->exit();
      }
    };
    factory_answer.then([wake](const rpc::Settled<rpc::Value>&) { wake(); });
    answer.then([wake](const rpc::Settled<rpc::Value>&) { wake(); });
    sent.then([wake](const rpc::Settled<bool>&) { wake(); });
    event::TimerPtr timer = dispatcher->createTimer([wake, timed_out] {
      *timed_out = true;
      wake();
    });
    timer->enable(global.timeout);
    auto settled = [&] { return sent.settled() && factory_answer.settled() && answer.settled(); };
    while (!settled() && !*timed_out) {
      dispatcher->run();
    }
    *waiting = false;

    if (!sent.settled() || !sent.outcome().ok()) {
      if (!sent.settled()) {
        outcome = unavailable(
            fmt::format("POST {}: no response within {}", rpc_url, formatSeconds(global.timeout)));
      } else {
        outcome = unavailable(batchFailure(rpc_url, rejectionText(sent.outcome().error)));
      }
    } else if (!factory_answer.settled() || !answer.settled()) {
      outcome = unavailable(fmt::format("POST {}: the response did not answer {}", rpc_url, what));
    } else if (!factory_answer.outcome().ok()) {
      outcome = failedPrecondition(fmt::format("the node rejected {}(): {}", factory,
                                               rejectionText(factory_answer.outcome().error)));
    } else if (Result<rpc::Value> refused =
                   checkAnswer(*factory_answer.outcome().value, std::string(factory) + "()");
               !refused) {
      outcome = refused.error(); // the token was refused: the factory says why
    } else if (!answer.outcome().ok()) {
      outcome = failedPrecondition(
          fmt::format("the node rejected {}: {}", what, rejectionText(answer.outcome().error)));
    } else {
      outcome = checkAnswer(*answer.outcome().value, what);
    }
  }
  dispatcher->poll(); // what the session's end queued, before the dispatcher goes
  return std::move(*outcome);
}

ManagementCall managementCall(GlobalOptions global) {
  return [global = std::move(global)](std::string_view factory, std::string_view method,
                                      rpc::Value arg) {
    return callManagement(global, factory, method, std::move(arg));
  };
}

} // namespace catalyst::cli
