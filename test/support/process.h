#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace catalyst::test {

// A child process started the way a user starts it (argv + environment), with stdout and stderr
// going to files the test can read. Killed (SIGKILL) when destroyed if still running.
class Process {
public:
  // `env` is added to (and overrides) the test's own environment.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&&) = delete;
  Process& operator=(Process&&) = delete;

  int pid() const { return pid_; }
  void signal(int sig) const;

  // The exit code (or 128 + signal) once the process has ended, polling until `timeout`;
  // nullopt if it is still running then.
  std::optional<int> waitFor(std::chrono::milliseconds timeout);

  std::string output() const; // stdout so far
  std::string errors() const; // stderr so far

private:
  int pid_ = -1;
  std::optional<int> status_;
  std::string dir_;
};

// Runs `argv` to completion (at most `timeout`) and returns {exit code, stdout, stderr}.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t freePort();

// A blocking HTTP/1.1 GET to 127.0.0.1:port; nullopt when nothing answers.
struct HttpReply {
  int status = 0;
  std::string body;
};
std::optional<HttpReply> httpGet(uint16_t port, const std::string& path);

// A fresh empty directory under the system's temp dir, removed when destroyed.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  const std::string& path() const { return path_; }
  // Writes `content` to path()/name and returns its full path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string path_;
};

// Polls `pred` until it holds or `timeout` passes; returns whether it held.
template <class Pred> bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    struct timespec ts {
      0, 5'000'000
    };
    nanosleep(&ts, nullptr); // poll step, not a wait for the condition
  }
  return true;
}

} // namespace catalyst::test
