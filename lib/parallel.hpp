#pragma once
// Private: a worker pool sized to the hardware for independent jobs (key generation).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace etcd_pki::detail {

// The threads for `count` jobs: `threads` (0 = all cores), at most one per job, at least one.
inline unsigned worker_count(unsigned threads, size_t count) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  return std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(1, count)));
}

// Runs work(0..count-1) on `threads` threads (0 = all cores). The first exception stops the
// remaining jobs and is rethrown. `progress(done, count)` is called from the workers.
inline void parallel_for(size_t count, unsigned threads, const std::function<void(size_t)>& work,
                         const std::function<void(size_t, size_t)>& progress = {}) {
  threads = worker_count(threads, count);
  std::atomic<size_t> next{0}, done{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < count;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next = count;
      }
      size_t d = ++done;
      if (progress) progress(d, count);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace etcd_pki::detail
