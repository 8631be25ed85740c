// `locktrace run [-o FILE] [--stack-depth N] -- PROGRAM ARGS...`
// Runs PROGRAM with liblocktrace.so preloaded (see find_shim), forwards
// signals to it, and exits with its status.
#include "commands.h"
#include "locktrace_build.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <locktrace/format.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lt {

namespace {

struct RunOptions {
    std::string output;
    int stack_depth = -1;
    std::vector<std::string> command;
    std::string watchdog, watchdog_action; // LOCKTRACE_WATCHDOG(_ACTION), see liblocktrace(7)
};

volatile sig_atomic_t g_child = 0;

// A signal typed at the terminal already reaches the whole foreground process
// group, the child included: forward only what was sent to us alone (kill(1)).
void forward_signal(int sig, siginfo_t* si, void*)
{
    if (si && si->si_code == SI_KERNEL) return;
    if (g_child > 0) kill(g_child, sig);
}

std::string self_dir()
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    buf[n] = 0;
    std::string s(buf);
    size_t slash = s.rfind('/');
    return slash == std::string::npos ? "." : s.substr(0, slash);
}

std::string basename_of(const std::string& p)
{
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The recorder expands %p (pid), %e (program name) and %%; see liblocktrace(7).
std::string expand_pattern(const std::string& pattern, pid_t pid, const std::string& prog)
{
    std::string out;
    for (size_t i = 0; i < pattern.size(); i++) {
        char n = i + 1 < pattern.size() ? pattern[i + 1] : 0;
        if (pattern[i] == '%' && n == 'p') {
            out += std::to_string(pid);
            i++;
        } else if (pattern[i] == '%' && n == 'e') {
            std::string e = basename_of(prog);
            for (char& c : e)
                if (c == '/') c = '_';
            out += e;
            i++;
        } else if (pattern[i] == '%' && n == '%') {
            out += '%';
            i++;
        } else {
            out += pattern[i];
        }
    }
    return out;
}

// The recorder never overwrites a file: if the name is taken it inserts .1,
// .2, ... before ".trace".  Pick the newest candidate written since `since`.
std::string find_trace(const std::string& base, time_t since)
{
    size_t ext = base.size() > 6 && base.compare(base.size() - 6, 6, ".trace") == 0 ? base.size() - 6 : base.size();
    std::string best;
    struct timespec best_t {};
    for (int i = 0; i < 1000; i++) {
        std::string cand = i == 0 ? base : base.substr(0, ext) + "." + std::to_string(i) + base.substr(ext);
        struct stat st;
        if (stat(cand.c_str(), &st) != 0) {
            if (i > 0) break;
            continue;
        }
        if (st.st_mtim.tv_sec < since) continue;
        if (best.empty() || st.st_mtim.tv_sec > best_t.tv_sec ||
            (st.st_mtim.tv_sec == best_t.tv_sec && st.st_mtim.tv_nsec > best_t.tv_nsec)) {
            best = cand;
            best_t = st.st_mtim;
        }
    }
    return best;
}

// The recorder is next to this executable in a build tree (build/locktrace,
// build/liblocktrace.so), and where `make install` puts it relative to the
// executable once installed (PREFIX/bin/locktrace,
// PREFIX/libexec/locktrace/liblocktrace.so), so an installed tree works
// wherever it was installed or moved to.  Prints the places tried when
// neither has it.
std::string find_shim()
{
    const std::string dir = self_dir();
    std::string tried;
    for (const std::string& place : {dir + "/liblocktrace.so", dir + "/" LOCKTRACE_SHIM_FROM_BINDIR}) {
        char real[PATH_MAX];
        if (access(place.c_str(), R_OK) == 0 && realpath(place.c_str(), real)) return real;
        tried += "\n  " + place + ": " + strerror(errno);
    }
    fprintf(stderr, "locktrace: cannot find the recorder liblocktrace.so; looked for:%s\n", tried.c_str());
    return "";
}

// The child's side of the fork: the program's environment, then exec.  The
// forwarded signals get their old handlers back first.
[[noreturn]] void exec_traced(const RunOptions& o, const std::string& preload, const std::string& pattern,
                              int path_fd, const int* forwarded, const struct sigaction* old_sa, int nforwarded)
{
    for (int i = 0; i < nforwarded; i++) sigaction(forwarded[i], &old_sa[i], nullptr);
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("LOCKTRACE_OUTPUT", pattern.c_str(), 1);
    if (path_fd >= 0) {
        fcntl(path_fd, F_SETFD, 0); // the program's recorder writes it, then closes it
        setenv("LOCKTRACE_PATH_FD", std::to_string(path_fd).c_str(), 1);
    }
    if (o.stack_depth >= 0) setenv("LOCKTRACE_STACK_DEPTH", std::to_string(o.stack_depth).c_str(), 1);
    if (!o.watchdog.empty()) {
        setenv("LOCKTRACE_WATCHDOG", o.watchdog.c_str(), 1);
        if (!o.watchdog_action.empty()) setenv("LOCKTRACE_WATCHDOG_ACTION", o.watchdog_action.c_str(), 1);
        setenv("LOCKTRACE_DECODER", (self_dir() + "/locktrace").c_str(), 1); // the watchdog runs `report`
    }
    std::vector<char*> argv;
    for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    fprintf(stderr, "locktrace: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

// Where the program's trace went when the name it told is gone: it handed
// the file over to the program it exec'd, which named it after itself (a %e
// pattern); or it ran the command in a child and took no lock itself
// (time(1), a shell), and its own trace was removed at its exit.  Files the
// pattern can name (any pid, any program name) whose header gives `pid` as
// their process (*same) or their parent.
struct FoundTrace {
    std::string path;
    bool same_process;
};

std::vector<FoundTrace> traces_of(const std::string& pattern, pid_t pid, time_t since)
{
    std::string g;
    for (size_t i = 0; i < pattern.size(); i++) {
        char n = i + 1 < pattern.size() ? pattern[i + 1] : 0;
        if (pattern[i] == '%' && (n == 'p' || n == 'e')) {
            g += '*';
            i++;
        } else if (pattern[i] == '%' && n == '%') {
            g += '%';
            i++;
        } else {
            if (strchr("*?[\\", pattern[i])) g += '\\';
            g += pattern[i];
        }
    }
    std::vector<FoundTrace> found;
    glob_t gl{};
    if (glob(g.c_str(), GLOB_NOSORT, nullptr, &gl) == 0) {
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            int fd = open(gl.gl_pathv[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
            if (fd < 0) continue;
            lt_file_header h;
            struct stat st;
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtim.tv_sec >= since &&
                pread(fd, &h, sizeof h, 0) == ssize_t(sizeof h) && h.magic == LT_MAGIC && (h.pid == pid || h.ppid == pid))
                found.push_back({gl.gl_pathv[i], h.pid == pid});
            close(fd);
        }
    }
    globfree(&gl);
    return found;
}

// The path the recorder said it chose (first line on the pipe), or "".
// Non-blocking: a daemon the program started may still hold the pipe.
std::string read_told_path(int fd)
{
    std::string told;
    if (fd < 0) return told;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) told.append(buf, (size_t)n);
    close(fd);
    size_t nl = told.find('\n');
    return nl == std::string::npos ? std::string() : told.substr(0, nl);
}

int run_program(const RunOptions& o)
{
    const std::string lib = find_shim();
    if (lib.empty()) return 127;
    std::string pattern = o.output.empty() ? "locktrace." + basename_of(o.command[0]) + ".%p.trace" : o.output;

    std::string preload = lib;
    if (const char* old = getenv("LD_PRELOAD"); old && *old) preload += std::string(":") + old;

    struct sigaction sa {};
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    const int forwarded[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
    struct sigaction old_sa[4];
    // Install before fork so that no signal falls between fork and the handler;
    // the child resets them before exec.
    for (int i = 0; i < 4; i++) sigaction(forwarded[i], &sa, &old_sa[i]);

    // The recorder writes the path it really chose here (LOCKTRACE_PATH_FD).
    int path_pipe[2] = {-1, -1};
    if (pipe2(path_pipe, O_CLOEXEC) != 0) path_pipe[0] = path_pipe[1] = -1;
    time_t started = time(nullptr) - 1;
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "locktrace: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) exec_traced(o, preload, pattern, path_pipe[1], forwarded, old_sa, 4);
    g_child = pid;
    if (path_pipe[1] >= 0) close(path_pipe[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "locktrace: waitpid: %s\n", strerror(errno));
            return 127;
        }
    }
    g_child = 0;
    for (int i = 0; i < 4; i++) sigaction(forwarded[i], &old_sa[i], nullptr);

    std::string base = expand_pattern(pattern, pid, o.command[0]);
    const std::string told = read_told_path(path_pipe[0]);
    struct stat told_st;
    std::string path = !told.empty() && stat(told.c_str(), &told_st) == 0 ? told : find_trace(base, started);
    int code;
    if (WIFSIGNALED(status)) {
        code = 128 + WTERMSIG(status);
        fprintf(stderr, "locktrace: %s was killed by signal %d (%s)\n", o.command[0].c_str(), WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    } else {
        code = WEXITSTATUS(status);
    }
    std::vector<FoundTrace> found;
    if (path.empty() && !told.empty()) found = traces_of(pattern, pid, started);
    if (!path.empty())
        fprintf(stderr, "locktrace: trace written to %s\n", path.c_str());
    else if (!found.empty())
        for (const FoundTrace& f : found)
            if (f.same_process)
                fprintf(stderr, "locktrace: trace written to %s\n", f.path.c_str());
            else
                fprintf(stderr, "locktrace: %s took no lock; its child's trace written to %s\n",
                        o.command[0].c_str(), f.path.c_str());
    else if (code != 127)
        fprintf(stderr, "locktrace: no trace at %s (the program may not have used any lock, or tracing was off)\n",
                base.c_str());
    return code;
}

} // namespace

CommandRun add_run_command(CLI::App& app)
{
    auto o = std::make_shared<RunOptions>();
    CLI::App* sub = app.add_subcommand("run", "Run a program under the lock recorder (LD_PRELOAD)");
    sub->add_option("-o,--output", o->output,
                    "Trace file to write; %p is replaced by the pid (default locktrace.PROGRAM.%p.trace)");
    sub->add_option("--stack-depth", o->stack_depth, "Return addresses recorded per event; 0 turns stacks off")
        ->check(CLI::Range(0, 1024));
    sub->add_option("--watchdog", o->watchdog,
                    "Report (stderr and TRACE.report.txt) when threads stay blocked this many seconds with no lock progress")
        ->check(CLI::PositiveNumber);
    sub->add_option("--watchdog-action", o->watchdog_action, "After the watchdog's report: report (go on) or abort")
        ->check(CLI::IsMember({"report", "abort"}));
    sub->add_option("command", o->command, "PROGRAM ARGS... (after --)")->required();
    return [o] { return run_program(*o); };
}

} // namespace lt
