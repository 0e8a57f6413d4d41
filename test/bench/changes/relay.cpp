// A socket relay that adds network delay (test/bench/changes/run.sh; not a
// test).  tc netem is not available on the benchmark machines, so round
// trips over a real network are simulated here: every chunk of bytes is
// held for DELAY microseconds (one way) before it is passed on, in order,
// without holding back the chunks behind it.
//
//   changes_relay LISTEN_SOCKET TARGET_SOCKET DELAY_US
//
// Both are Unix socket paths (for PostgreSQL: DIR/.s.PGSQL.PORT).  Runs
// until killed.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int unix_socket(const std::string& path, bool listen_on) {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    const auto* raw = reinterpret_cast<const sockaddr*>(&address);
    if (listen_on) {
        unlink(path.c_str());
        if (bind(fd, raw, sizeof address) != 0 || listen(fd, 64) != 0) {
            std::perror("changes_relay: bind/listen");
            std::exit(1);
        }
    } else if (connect(fd, raw, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Moves bytes from `from` to `to`, each chunk `delay` after it arrived.
void pump(int from, int to, std::chrono::microseconds delay) {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<Clock::time_point, std::string>> queue;
    bool closed = false;

    std::thread writer([&] {
        for (;;) {
            std::unique_lock<std::mutex> lock(mutex);
            ready.wait(lock, [&] { return closed || !queue.empty(); });
            if (queue.empty())
                break;
            auto [due, chunk] = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            std::this_thread::sleep_until(due);
            for (std::size_t sent = 0; sent < chunk.size();) {
                const ssize_t n = write(to, chunk.data() + sent, chunk.size() - sent);
                if (n <= 0)
                    return;
                sent += static_cast<std::size_t>(n);
            }
        }
        shutdown(to, SHUT_WR);
    });

    std::vector<char> buffer(65536);
    for (;;) {
        const ssize_t n = read(from, buffer.data(), buffer.size());
        if (n <= 0)
            break;
        std::lock_guard<std::mutex> lock(mutex);
        queue.emplace_back(Clock::now() + delay, std::string(buffer.data(), static_cast<std::size_t>(n)));
        ready.notify_one();
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        closed = true;
        ready.notify_one();
    }
    writer.join();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: changes_relay LISTEN_SOCKET TARGET_SOCKET DELAY_US\n");
        return 2;
    }
    const std::string target = argv[2];
    const std::chrono::microseconds delay(std::stol(argv[3]));
    const int listener = unix_socket(argv[1], true);
    for (;;) {
        const int client = accept(listener, nullptr, nullptr);
        if (client < 0)
            continue;
        std::thread([client, target, delay] {
            const int server = unix_socket(target, false);
            if (server < 0) {
                close(client);
                return;
            }
            std::thread upstream(pump, client, server, delay);
            pump(server, client, delay);
            upstream.join();
            close(client);
            close(server);
        }).detach();
    }
}
