// PipedChild: forks a child process that reports to the parent through a pipe, for the crash
// tests of the bus and the storage loader (kill -9 at a random acknowledged step, or a child
// that writes a report and exits). Tests only; POSIX.
//
// Thread-safety: use from one thread. Lifecycle: the constructor forks and runs `body(fd)` in the
// child (fd = the write end; the child exits with 0 if body returns); the destructor closes the
// read end and kills and reaps a child that was not waited for.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace tickflow::testing_util {

class PipedChild {
 public:
  template <typename Body>
  explicit PipedChild(Body&& body) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      body(fds[1]);
      _exit(0);
    }
    ::close(fds[1]);
    if (pid_ < 0) {
      ::close(fds[0]);
      return;
    }
    fd_ = fds[0];
  }
  ~PipedChild() {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ > 0) {
      int status = 0;
      kill_and_wait(&status);
    }
  }
  PipedChild(const PipedChild&) = delete;
  PipedChild& operator=(const PipedChild&) = delete;

  // False if the pipe or the fork failed.
  bool started() const { return pid_ > 0 && fd_ >= 0; }

  // Blocks (no sleep) until `n` one-byte acknowledgements arrived or the child closed its end;
  // returns how many arrived.
  int read_acks(int n) {
    int acked = 0;
    char buf[256];
    while (acked < n) {
      const ssize_t r = ::read(fd_, buf, std::min<size_t>(sizeof buf, static_cast<size_t>(n - acked)));
      if (r <= 0) break;
      acked += static_cast<int>(r);
    }
    return acked;
  }

  // Everything the child writes until it closes its end (usually: until it exits).
  std::string read_all() {
    std::string out;
    char buf[512];
    for (ssize_t r; (r = ::read(fd_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(r));
    return out;
  }

  // SIGKILLs the child wherever it is and reaps it; false if waitpid failed.
  bool kill_and_wait(int* status) {
    ::kill(pid_, SIGKILL);
    return wait(status);
  }

  // Reaps the child; false if waitpid failed.
  bool wait(int* status) {
    const bool ok = ::waitpid(pid_, status, 0) == pid_;
    pid_ = -1;
    return ok;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
};

}  // namespace tickflow::testing_util
