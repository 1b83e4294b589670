// A small pool of persistent worker threads. A parallel region splits work into `tasks` pieces, claimed first
// come first served by the calling thread and the workers, so T threads means T-1 workers (and a worker that
// is slow to wake costs nothing: the caller takes its piece). Workers spin briefly after a region (back-to-back
// calls from JS are common) and then sleep on a condition variable.
#pragma once
#include <functional>

namespace pixelllm {

// Threads to use by default: min(2, usable CPUs), overridden by env PIXELLLM_THREADS, capped at usable CPUs.
int default_thread_count();
// CPUs this process may run on (sched affinity where available, else hardware_concurrency).
int usable_cpu_count();

class ThreadPool {
 public:
  static ThreadPool& instance();

  int threads() const;
  // Clamped to [1, usable CPUs] so the pool never oversubscribes the machine.
  void set_threads(int n);

  // Runs fn(0..tasks-1) on up to threads() threads and returns when all are done. If another thread is
  // already inside a parallel region (e.g. two worker_threads calling the addon), or this call is nested in
  // one, the tasks run serially on the calling thread instead.
  void run(int tasks, const std::function<void(int)>& fn);

 private:
  ThreadPool();
  struct State;
  State* s_;  // deliberately never freed: workers may still be parked at process exit
};

}  // namespace pixelllm
