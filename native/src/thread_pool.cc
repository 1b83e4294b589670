#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define PIXELLLM_PAUSE() _mm_pause()
#else
#define PIXELLLM_PAUSE() std::this_thread::yield()
#endif

namespace pixelllm {

int usable_cpu_count() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

int default_thread_count() {
  const int cpus = usable_cpu_count();
  int n = std::min(2, cpus);
  if (const char* env = std::getenv("PIXELLLM_THREADS")) {
    const int v = std::atoi(env);
    if (v > 0) n = std::min(v, cpus);
  }
  return n;
}

// Waking a sleeping thread costs a futex syscall plus an inter-processor interrupt; under a hypervisor the
// caller was measured stuck ~55 µs in that syscall, and the kernel tends to wake the worker onto the caller's
// CPU (wake-affine), where it then competes with the caller. Hence:
//  - the caller never waits for a worker that has not started: tasks are claimed first come, first served,
//    and the caller only waits for tasks that are actually running elsewhere;
//  - a notify is only sent to a thread that has announced it is asleep (`sleepers` / `caller_waiting`, with
//    seq_cst so that either the sleeper sees the new state or the notifier sees the sleeper);
//  - spinning threads yield every 128 pauses (~3 µs) so a spinner never starves a thread sharing its CPU.
constexpr auto kWorkerSpin = std::chrono::microseconds(200);
constexpr int kCallerSpinPauses = 20000;  // ~0.5 ms at ~25 ns per pause

// The claim word: region number (32 bits) | task count (16) | next unclaimed task (16). Claiming with one CAS
// on it means a task is only ever taken by a thread that saw the right region, and a claimed, unfinished task
// keeps the caller (and therefore `fn`) in that region.
constexpr unsigned kMaxTasks = 0xFFFF;
inline uint64_t pack_claim(uint32_t region, uint32_t tasks, uint32_t next) {
  return (uint64_t(region) << 32) | (uint64_t(tasks) << 16) | next;
}
inline uint32_t claim_region(uint64_t c) { return uint32_t(c >> 32); }
inline uint32_t claim_tasks(uint64_t c) { return uint32_t(c >> 16) & 0xFFFF; }
inline uint32_t claim_next(uint64_t c) { return uint32_t(c) & 0xFFFF; }

struct ThreadPool::State {
  std::mutex region;  // held by the caller for the whole of a parallel region, and while resizing

  std::mutex m;
  std::condition_variable wake;  // idle workers sleep here
  std::condition_variable done;  // the caller sleeps here if running tasks take long
  std::vector<std::thread> workers;
  std::atomic<int> nthreads{1};  // workers.size() + 1, readable without taking `region`
  std::atomic<bool> stop{false};
  std::atomic<int> sleepers{0};
  std::atomic<bool> caller_waiting{false};

  std::atomic<uint64_t> claim{0};
  std::atomic<const std::function<void(int)>*> fn{nullptr};
  std::atomic<int> unfinished{0};  // tasks of the current region not yet completed

  // Claims and runs tasks of region `r` until none are left.
  void run_tasks(uint32_t r) {
    uint64_t c = claim.load();
    while (claim_region(c) == r && claim_next(c) < claim_tasks(c)) {
      if (!claim.compare_exchange_weak(c, c + 1)) continue;
      (*fn.load())(static_cast<int>(claim_next(c)));
      if (unfinished.fetch_sub(1) == 1 && caller_waiting.load()) {
        std::lock_guard<std::mutex> lock(m);
        done.notify_one();
      }
      c = claim.load();
    }
  }

  bool woken(uint32_t seen) const { return claim_region(claim.load()) != seen || stop.load(); }

  // `seen` is the region number at creation, read by start() rather than by the new thread: a region
  // published before the thread first runs must still count as new for it.
  void worker_loop(uint32_t seen) {
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + kWorkerSpin;
      for (int spins = 1; !woken(seen); ++spins) {
        PIXELLLM_PAUSE();
        if (spins % 128 == 0) {
          if (std::chrono::steady_clock::now() > spin_until) break;
          std::this_thread::yield();
        }
      }
      if (!woken(seen)) {
        std::unique_lock<std::mutex> lock(m);
        sleepers.fetch_add(1);
        wake.wait(lock, [&] { return woken(seen); });
        sleepers.fetch_sub(1);
      }
      if (stop.load()) return;
      seen = claim_region(claim.load());
      run_tasks(seen);
    }
  }

  void start(int nworkers) {
    stop.store(false);
    nthreads.store(nworkers + 1);
    const uint32_t r = claim_region(claim.load());
    for (int i = 0; i < nworkers; ++i) workers.emplace_back([this, r] { worker_loop(r); });
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(m);
      stop.store(true);
    }
    wake.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }
};

ThreadPool::ThreadPool() : s_(new State) { s_->start(default_thread_count() - 1); }

ThreadPool& ThreadPool::instance() {
  static ThreadPool* pool = new ThreadPool();  // leaked on purpose, see header
  return *pool;
}

int ThreadPool::threads() const { return s_->nthreads.load(); }

void ThreadPool::set_threads(int n) {
  n = std::max(1, std::min(n, usable_cpu_count()));
  std::lock_guard<std::mutex> lock(s_->region);
  if (static_cast<int>(s_->workers.size()) + 1 == n) return;
  s_->shutdown();
  s_->start(n - 1);
}

void ThreadPool::run(int tasks, const std::function<void(int)>& fn) {
  // A region started from inside a region (which the drivers avoid) runs serially rather than deadlock.
  thread_local bool in_region = false;
  std::unique_lock<std::mutex> region(s_->region, std::defer_lock);
  if (!in_region) region.try_lock();
  const int nworkers = region.owns_lock() ? static_cast<int>(s_->workers.size()) : 0;
  if (tasks <= 1 || nworkers == 0 || tasks > static_cast<int>(kMaxTasks)) {
    for (int t = 0; t < tasks; ++t) fn(t);
    return;
  }
  in_region = true;
  const uint32_t r = claim_region(s_->claim.load()) + 1;
  s_->fn.store(&fn);
  s_->unfinished.store(tasks);
  s_->claim.store(pack_claim(r, static_cast<uint32_t>(tasks), 0));  // publishes the region
  if (s_->sleepers.load() > 0) {
    std::lock_guard<std::mutex> lock(s_->m);
    s_->wake.notify_all();
  }
  s_->run_tasks(r);
  // Only tasks already running on a worker remain; they started at most a task's length ago.
  for (int spins = 1; spins < kCallerSpinPauses && s_->unfinished.load() != 0; ++spins) {
    PIXELLLM_PAUSE();
    if (spins % 128 == 0) std::this_thread::yield();
  }
  if (s_->unfinished.load() != 0) {
    std::unique_lock<std::mutex> lock(s_->m);
    s_->caller_waiting.store(true);
    s_->done.wait(lock, [&] { return s_->unfinished.load() == 0; });
    s_->caller_waiting.store(false);
  }
  in_region = false;
}

}  // namespace pixelllm
