#include "support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include <fmt/core.h>

extern char** environ;

namespace tenancy::test {

std::string unique_slug(std::string_view prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}-{:012x}", prefix, rng() & 0xffffffffffffULL);
}

Client connect() { return Client(std::string()); }

std::string describe(const RunResult& r) {
    return "exit " + std::to_string(r.exit_code) + (r.signal ? " (signal " + std::to_string(r.signal) + ")" : "") +
           "\nstdout:\n" + r.out + "stderr:\n" + r.err;
}

TenantId make_tenant(Client& client, std::string_view prefix) {
    NewTenant t;
    t.slug = unique_slug(prefix);
    return client.create_tenant(t);
}

namespace {

// A pipe whose ends are closed on destruction.
struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (pipe(fd) != 0)
            throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    ~Pipe() {
        close_end(0);
        close_end(1);
    }
    void close_end(int i) {
        if (fd[i] >= 0)
            close(fd[i]);
        fd[i] = -1;
    }
};

std::vector<std::string> child_environment(
    const std::map<std::string, std::optional<std::string>>& overrides) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        if (!overrides.count(entry.substr(0, entry.find('='))))
            env.push_back(entry);
    }
    for (const auto& [name, value] : overrides)
        if (value)
            env.push_back(name + "=" + *value);
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& s : strings)
        result.push_back(s.data());
    result.push_back(nullptr);
    return result;
}

}  // namespace

RunResult run_tenancyctl(const std::vector<std::string>& args,
                         const std::map<std::string, std::optional<std::string>>& env,
                         const std::string& input) {
    Pipe in, out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.fd[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], STDERR_FILENO);
    for (Pipe* p : {&in, &out, &err}) {
        posix_spawn_file_actions_addclose(&actions, p->fd[0]);
        posix_spawn_file_actions_addclose(&actions, p->fd[1]);
    }

    std::vector<std::string> argv_strings{TENANCYCTL_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<std::string> env_strings = child_environment(env);
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<char*> envp = c_strings(env_strings);

    pid_t pid = 0;
    const int rc = posix_spawn(&pid, TENANCYCTL_PATH, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));

    in.close_end(0);
    out.close_end(1);
    err.close_end(1);
    // Inputs here are tiny (an API key), far below the pipe buffer size.
    if (!input.empty() && write(in.fd[1], input.data(), input.size()) < 0)
        throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    in.close_end(1);

    // Read both streams together so neither can fill up and block the child.
    RunResult result;
    pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_streams = 2;
    while (open_streams > 0) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_streams;
            }
        }
    }

    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    if (WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        result.signal = WTERMSIG(status);
    return result;
}

pid_t spawn_tenancyctl(const std::vector<std::string>& args, const std::string& input) {
    char path[] = "/tmp/tenancyctl-input.XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0)
        throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
    const bool written = write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size());
    lseek(fd, 0, SEEK_SET);
    unlink(path);
    if (!written) {
        close(fd);
        throw std::runtime_error("could not write the input file");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDIN_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> argv_strings{TENANCYCTL_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv = c_strings(argv_strings);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, TENANCYCTL_PATH, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fd);
    if (rc != 0)
        throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    return pid;
}

}  // namespace tenancy::test
