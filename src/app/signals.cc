#include "app/signals.h"

#include <signal.h>

#include <cerrno>

namespace tickflow::app {
namespace {
sigset_t termination_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  return s;
}
}  // namespace

void block_termination_signals() {
  sigset_t s = termination_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool wait_for_signal(DurationNs timeout) {
  sigset_t s = termination_set();
  struct timespec ts;
  ts.tv_sec = timeout / kNsPerSec;
  ts.tv_nsec = timeout % kNsPerSec;
  int r = sigtimedwait(&s, nullptr, &ts);
  return r == SIGINT || r == SIGTERM;
}

}  // namespace tickflow::app
