// Termination signals (SIGINT, SIGTERM) for the long-running commands: blocked in every
// thread and received synchronously by the main thread, so shutdown runs in normal code.
#pragma once

#include "core/time.h"

namespace tickflow::app {

// Call before starting any thread.
void block_termination_signals();
// Waits up to `timeout` for SIGINT/SIGTERM; true if one arrived.
bool wait_for_signal(DurationNs timeout);

}  // namespace tickflow::app
