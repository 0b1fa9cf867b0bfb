// Naming and scheduling of the pipeline's worker threads.
//
// Stages on the latency-critical path (collector, candle processor, gateway, HTTP) run at the
// default priority. Stages whose output is not waited for by a live client (indicators, alerts,
// quality, deliveries, the loaders) call name_background_thread(): on a busy machine the kernel
// then gives the critical path the core first and the background stage the rest, instead of
// sharing it equally (measured: bench/load/e2e_load --analytics, docs/benchmarks.md).
// Thread-safety: each call affects only the calling thread.
#pragma once

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tickflow {

// Nice value of background stages (Linux: per thread; 10 ≈ a tenth of a default thread's share
// under contention, and all of an idle core).
inline constexpr int kBackgroundNice = 10;

// Names the calling thread (`top -H`, perf; at most 15 characters).
inline void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

// Names the calling thread and lowers its scheduling priority to kBackgroundNice. Failure to
// lower it (a sandbox forbidding setpriority) is harmless and ignored.
inline void name_background_thread(const char* name) {
  name_this_thread(name);
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  (void)::setpriority(PRIO_PROCESS, tid, kBackgroundNice);
}

}  // namespace tickflow
