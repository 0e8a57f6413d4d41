#include "move_schema_copy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tenancy/errors.hpp"

extern char** environ;

namespace tenancy::orchestration {
namespace {

struct Outcome {
    int exit_code = -1;  // -1: did not exit normally (or could not start)
    std::string output;  // stdout and stderr together
    std::string spawn_error;
};

// Runs a program with `args` (no shell), its output captured.
Outcome run(const std::string& program, const std::vector<std::string>& args) {
    Outcome outcome;
    int out[2];
    if (pipe(out) != 0) {
        outcome.spawn_error = std::string("pipe: ") + std::strerror(errno);
        return outcome;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<std::string> argv_strings{program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_strings)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        outcome.spawn_error = std::strerror(rc);
        return outcome;
    }
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(out[0], buffer, sizeof buffer);
        if (n > 0)
            outcome.output.append(buffer, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
        outcome.exit_code = WEXITSTATUS(status);
    return outcome;
}

// A temporary file removed when this goes out of scope.
struct TempFile {
    std::string path;
    TempFile() {
        const char* dir = std::getenv("TMPDIR");
        std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/tenancy-move-XXXXXX";
        std::vector<char> name(pattern.begin(), pattern.end());
        name.push_back('\0');
        const int fd = mkstemp(name.data());
        if (fd < 0)
            raise_error(ErrorInfo{"58000", std::string("cannot create a temporary file: ") + std::strerror(errno), "",
                                  "Set TMPDIR to a writable directory."});
        close(fd);
        path = name.data();
    }
    ~TempFile() { unlink(path.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
};

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

}  // namespace

std::string pg_program(const std::string& bindir, const std::string& name) {
    std::string dir = bindir;
    if (dir.empty())
        if (const char* env = std::getenv("TENANCY_PG_BINDIR"))
            dir = env;
    return dir.empty() ? name : dir + "/" + name;
}

std::string program_version(const std::string& program) {
    const Outcome o = run(program, {"--version"});
    if (o.exit_code != 0)
        raise_error(ErrorInfo{"TN023", "cannot run " + program + ": " + (o.spawn_error.empty() ? trimmed(o.output) : o.spawn_error),
                              "Moves copy the tenant's schema with pg_dump and pg_restore.",
                              "Install the PostgreSQL client programs (postgresql-client-15), put them in PATH or "
                              "set TENANCY_PG_BINDIR to their directory."});
    return trimmed(o.output);
}

void copy_schema(const std::string& bindir, const ConnectOptions& source, const ConnectOptions& target,
                 const std::string& schema) {
    TempFile dump;
    // The schema's name in double quotes: pg_dump reads --schema as a
    // pattern, and a quoted name matches exactly that schema.
    const Outcome dumped = run(pg_program(bindir, "pg_dump"),
                               {"--schema-only", "--format=custom", "--schema=\"" + schema + "\"",
                                "--no-publications", "--no-subscriptions", "--file=" + dump.path,
                                "--dbname=" + source.conninfo});
    if (dumped.exit_code != 0)
        raise_error(ErrorInfo{"58000", "pg_dump of schema " + schema + " failed: " +
                                           (dumped.spawn_error.empty() ? trimmed(dumped.output) : dumped.spawn_error),
                              "", "Nothing was restored on the target; fix the cause and resume the move."});
    const Outcome restored = run(pg_program(bindir, "pg_restore"),
                                 {"--single-transaction", "--exit-on-error", "--dbname=" + target.conninfo, dump.path});
    if (restored.exit_code != 0)
        raise_error(ErrorInfo{"58000", "pg_restore of schema " + schema + " on the target failed: " +
                                           (restored.spawn_error.empty() ? trimmed(restored.output) : restored.spawn_error),
                              "It ran in one transaction: nothing of the schema was restored.",
                              "Objects the schema needs outside it (extensions, types, tables it refers to) must "
                              "exist on the target too; fix the cause and resume the move."});
}

}  // namespace tenancy::orchestration
