// Runs one piece of work per item on at most `jobs` threads.  Each thread
// builds its own state (its connections) with make_state, so no connection is
// ever shared between threads; the work function reports its own failures.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace tenancy::orchestration {

template <typename Item, typename State>
void for_each_parallel(const std::vector<Item>& items, int jobs, const std::function<State()>& make_state,
                       const std::function<void(const Item&, State&)>& work) {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        State state = make_state();
        for (std::size_t i = next++; i < items.size(); i = next++)
            work(items[i], state);
    };
    const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(std::max(jobs, 1)), items.size());
    if (threads <= 1) {
        if (!items.empty())
            worker();
        return;
    }
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t)
        pool.emplace_back(worker);
    for (std::thread& t : pool)
        t.join();
}

}  // namespace tenancy::orchestration
