// A network-delay relay for the benchmarks (not a test).  tc netem is not
// available on the project's machines, so the round trip of a real network
// is simulated here: the relay listens on a Unix socket, connects each client
// to the server's socket, and holds every chunk of bytes for DELAY_US
// microseconds before passing it on, in each direction.  Chunks are delayed
// independently (a pipelined stream is shifted by the delay, not slowed by
// it), so one round trip costs 2 x DELAY_US more, like a network with that
// one-way latency and ample bandwidth.
//
//   relay LISTEN_SOCKET TARGET_SOCKET DELAY_US
//
// Two threads per connection, one per direction; each waits with ppoll for
// the next chunk to read or the next one due, with 1 ns timer slack so that
// sleeps end on time.  Runs until killed; built by test/bench/run.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <thread>
#include <vector>

namespace {

using Nanos = long long;

Nanos now()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Nanos{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Chunk {
    Nanos due;
    std::vector<char> bytes;
};

bool write_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// Copies from `from` to `to`, each chunk `delay` late; returns at EOF or error.
void forward(int from, int to, Nanos delay)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    std::deque<Chunk> pending;
    bool open = true;
    while (open || !pending.empty()) {
        timespec timeout{};
        timespec *wait = nullptr;  // no chunk pending: wait for input only
        if (!pending.empty()) {
            Nanos left = pending.front().due - now();
            if (left < 0)
                left = 0;
            timeout.tv_sec = left / 1000000000;
            timeout.tv_nsec = left % 1000000000;
            wait = &timeout;
        }
        pollfd p{from, static_cast<short>(open ? POLLIN : 0), 0};
        int ready = ppoll(&p, 1, wait, nullptr);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            std::vector<char> buffer(65536);
            ssize_t n = read(from, buffer.data(), buffer.size());
            if (n > 0) {
                buffer.resize(static_cast<size_t>(n));
                pending.push_back(Chunk{now() + delay, std::move(buffer)});
            } else if (n == 0 || errno != EINTR) {
                open = false;
            }
        }
        Nanos t = now();
        while (!pending.empty() && pending.front().due <= t) {
            if (!write_all(to, pending.front().bytes.data(), pending.front().bytes.size())) {
                pending.clear();
                open = false;
                break;
            }
            pending.pop_front();
        }
    }
    shutdown(to, SHUT_WR);
    shutdown(from, SHUT_RD);
}

int unix_socket(const std::string &path, sockaddr_un &address)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || path.size() >= sizeof(address.sun_path)) {
        std::perror("socket");
        std::exit(1);
    }
    address = sockaddr_un{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    return fd;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s LISTEN_SOCKET TARGET_SOCKET DELAY_US\n", argv[0]);
        return 2;
    }
    const std::string listen_path = argv[1], target_path = argv[2];
    const Nanos delay = std::atoll(argv[3]) * 1000;
    signal(SIGPIPE, SIG_IGN);

    sockaddr_un address{};
    int listener = unix_socket(listen_path, address);
    unlink(listen_path.c_str());
    if (bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 || listen(listener, 256) != 0) {
        std::perror("bind/listen");
        return 1;
    }
    for (;;) {
        int client = accept(listener, nullptr, nullptr);
        if (client < 0) {
            if (errno == EINTR)
                continue;
            std::perror("accept");
            return 1;
        }
        sockaddr_un target{};
        int server = unix_socket(target_path, target);
        if (connect(server, reinterpret_cast<sockaddr *>(&target), sizeof(target)) != 0) {
            std::perror("connect");
            close(client);
            close(server);
            continue;
        }
        // Each direction closes its write side when done; the last one to
        // finish closes both descriptors.
        std::thread([client, server, delay] {
            std::thread back(forward, server, client, delay);
            forward(client, server, delay);
            back.join();
            close(client);
            close(server);
        }).detach();
    }
}
