// The descriptors an I/O wait is on, and what they are: sockets with their
// peers (unix: the kernel's sock_diag; TCP: /proc/PID/net/tcp and tcp6),
// pipes with their other ends, files; and the parsers of those /proc lines.
#include "live_proc.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <map>
#include <sstream>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace lt {

namespace {

std::string tcp_addr(const std::string& hexaddr, bool v6)
{
    size_t colon = hexaddr.find(':');
    if (colon == std::string::npos) return "";
    std::string a = hexaddr.substr(0, colon);
    unsigned port = unsigned(strtoul(hexaddr.c_str() + colon + 1, nullptr, 16));
    char buf[INET6_ADDRSTRLEN] = {};
    if (!v6 && a.size() == 8) {
        uint32_t v = uint32_t(strtoul(a.c_str(), nullptr, 16));  // the address in memory order, printed as a host word
        inet_ntop(AF_INET, &v, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(port);
    }
    if (v6 && a.size() == 32) {
        uint32_t v[4];
        for (int i = 0; i < 4; i++) v[i] = uint32_t(strtoul(a.substr(size_t(i) * 8, 8).c_str(), nullptr, 16));
        inet_ntop(AF_INET6, v, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(port);
    }
    return "";
}

} // namespace

bool parse_net_tcp_line(const std::string& line, bool v6, TcpRow* row)
{
    std::istringstream in(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
    if (!(in >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) return false;
    if (sl.empty() || sl.back() != ':') return false;
    row->local = tcp_addr(local, v6);
    row->remote = tcp_addr(remote, v6);
    if (row->local.empty() || row->remote.empty()) return false;
    row->state = int(strtol(st.c_str(), nullptr, 16));
    char* end = nullptr;
    row->inode = strtoull(inode.c_str(), &end, 10);
    return end && *end == 0;
}

const TcpRow* tcp_peer(const std::vector<TcpRow>& rows, const TcpRow& r)
{
    for (const TcpRow& o : rows)
        if (&o != &r && o.inode != r.inode && o.local == r.remote && o.remote == r.local && o.inode) return &o;
    return nullptr;
}

bool parse_net_unix_line(const std::string& line, uint64_t* inode, std::string* path)
{
    // Num RefCount Protocol Flags Type St Inode [Path]
    std::istringstream in(line);
    std::string num, ref, proto, flags, type, st, ino;
    if (!(in >> num >> ref >> proto >> flags >> type >> st >> ino)) return false;
    if (num.empty() || num.back() != ':') return false;
    char* end = nullptr;
    *inode = strtoull(ino.c_str(), &end, 10);
    if (!end || *end) return false;
    path->clear();
    in >> *path;
    return true;
}

namespace live {

namespace {

struct SocketTables {
    bool loaded = false;
    std::map<uint64_t, uint64_t> unix_peer;        // inode -> peer inode
    std::map<uint64_t, std::string> unix_path;     // inode -> bound path
    std::vector<std::pair<std::string, TcpRow>> tcp; // ("tcp" / "tcp6", row)
};

void load_unix_peers(SocketTables& s)
{
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return;
    struct {
        nlmsghdr nlh;
        unix_diag_req req;
    } rq{};
    rq.nlh.nlmsg_len = sizeof rq;
    rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    rq.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    rq.req.sdiag_family = AF_UNIX;
    rq.req.udiag_states = ~0u;
    rq.req.udiag_show = UDIAG_SHOW_PEER;
    if (send(nl, &rq, sizeof rq, 0) != ssize_t(sizeof rq)) {
        close(nl);
        return;
    }
    std::vector<char> buf(1 << 16);
    for (int rounds = 0; rounds < 4096; rounds++) {
        ssize_t n = recv(nl, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        bool done = false;
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, size_t(n)); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            auto* m = static_cast<unix_diag_msg*>(NLMSG_DATA(h));
            int len = int(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            for (auto* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4)
                    s.unix_peer[m->udiag_ino] = *static_cast<uint32_t*>(RTA_DATA(a));
        }
        if (done) break;
    }
    close(nl);
}

void load_sockets(int32_t pid, SocketTables& s)
{
    if (s.loaded) return;
    s.loaded = true;
    load_unix_peers(s);
    // The process's network namespace; ours when it is gone (the watchdog's
    // view read after the process ended).
    std::string net = "/proc/" + std::to_string(pid) + "/net/", text, line;
    if (access((net + "unix").c_str(), R_OK) != 0) net = "/proc/self/net/";
    if (slurp(net + "unix", &text)) {
        std::istringstream in(text);
        while (std::getline(in, line)) {
            uint64_t ino;
            std::string path;
            if (parse_net_unix_line(line, &ino, &path) && !path.empty()) s.unix_path[ino] = path;
        }
    }
    for (const char* kind : {"tcp", "tcp6"})
        if (slurp(net + kind, &text)) {
            std::istringstream in(text);
            while (std::getline(in, line)) {
                TcpRow r;
                if (parse_net_tcp_line(line, kind[3] == '6', &r)) s.tcp.emplace_back(kind, r);
            }
        }
}

uint64_t bracket_inode(const std::string& link, const char* prefix)
{
    size_t n = strlen(prefix);
    if (link.compare(0, n, prefix) != 0) return 0;
    return strtoull(link.c_str() + n, nullptr, 10);
}

struct FdTable {
    bool loaded = false;
    std::map<int, std::string> links;   // fd -> readlink text
};

void load_fds(int32_t pid, FdTable& t)
{
    if (t.loaded) return;
    t.loaded = true;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char target[4096];
        ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
        if (n < 0) continue;
        t.links[atoi(e->d_name)] = std::string(target, size_t(n));
        if (t.links.size() > 65536) break;
    }
    closedir(d);
}

// The fds of this process other than `fd` whose link is `link` or names `inode`.
std::string fds_with(const FdTable& fds, int fd, const std::string& link)
{
    std::string out;
    for (const auto& [n, l] : fds.links)
        if (n != fd && l == link) out += (out.empty() ? "fd " : ", fd ") + std::to_string(n);
    return out;
}

std::string describe_fd(int32_t pid, int fd, FdTable& fds, SocketTables& socks)
{
    load_fds(pid, fds);
    auto it = fds.links.find(fd);
    if (it == fds.links.end()) return "fd " + std::to_string(fd) + " (not open, or not readable)";
    const std::string& link = it->second;
    std::string s = "fd " + std::to_string(fd) + ", ";
    if (uint64_t ino = bracket_inode(link, "socket:[")) {
        load_sockets(pid, socks);
        auto peer = socks.unix_peer.find(ino);
        if (peer != socks.unix_peer.end() || socks.unix_path.count(ino)) {
            s += "unix socket " + link;
            auto path = socks.unix_path.find(ino);
            if (path != socks.unix_path.end()) s += " at " + path->second;
            if (peer != socks.unix_peer.end() && peer->second) {
                std::string ends = fds_with(fds, fd, "socket:[" + std::to_string(peer->second) + "]");
                s += ", connected to socket:[" + std::to_string(peer->second) + "]" +
                     (ends.empty() ? " (not open in this process)" : ", which is " + ends + " of this process");
            }
            return s;
        }
        for (const auto& [kind, row] : socks.tcp) {
            if (row.inode != ino) continue;
            s += kind + " socket " + link + " " + row.local + (row.remote.find_first_not_of("0.:[]") == std::string::npos ? " (listening)" : " -> " + row.remote);
            std::vector<TcpRow> rows;
            for (const auto& kr : socks.tcp) rows.push_back(kr.second);
            if (const TcpRow* p = tcp_peer(rows, row)) {
                std::string ends = fds_with(fds, fd, "socket:[" + std::to_string(p->inode) + "]");
                s += ends.empty() ? ", peer socket:[" + std::to_string(p->inode) + "] (not open in this process)"
                                  : ", peer socket:[" + std::to_string(p->inode) + "], which is " + ends + " of this process";
            }
            return s;
        }
        return s + "socket " + link;
    }
    if (bracket_inode(link, "pipe:[")) {
        std::string ends = fds_with(fds, fd, link);
        return s + "pipe " + link + (ends.empty() ? " (other end not open in this process)" : ", other end " + ends + " of this process");
    }
    if (!link.empty() && link[0] == '/') return s + "file " + link;
    return s + link;
}

// The descriptors an I/O wait is on.
void describe_io(int32_t pid, LiveThread& t, FdTable& fds, SocketTables& socks)
{
    auto one = [&](uint64_t fd) { t.fds.push_back({int(fd), describe_fd(pid, int(fd), fds, socks)}); };
    switch (t.nr) {
    case SYS_poll:
    case SYS_ppoll: {
        size_t n = std::min<uint64_t>(t.args[1], 16);
        struct pfd {
            int32_t fd;
            int16_t events, revents;
        } p[16];
        if (n && read_mem(pid, t.args[0], p, n * sizeof p[0]))
            for (size_t i = 0; i < n; i++)
                if (p[i].fd >= 0) one(uint64_t(p[i].fd));
        return;
    }
    case SYS_select:
    case SYS_pselect6: {
        uint64_t nfds = std::min<uint64_t>(t.args[0], 1024);
        uint64_t bits[16] = {};
        for (int set = 1; set <= 2; set++)
            if (t.args[set] && nfds && read_mem(pid, t.args[set], bits, (nfds + 63) / 64 * 8))
                for (uint64_t fd = 0; fd < nfds && t.fds.size() < 16; fd++)
                    if (bits[fd / 64] >> (fd % 64) & 1) one(fd);
        return;
    }
    case SYS_wait4:
    case SYS_waitid:
        return;
    default:
        one(t.args[0]);
    }
}

} // namespace

// The calls that wait for I/O or another process, by number.
bool is_io_call(int64_t nr)
{
    switch (nr) {
    case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64: case SYS_pwrite64:
    case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg: case SYS_sendto: case SYS_sendmsg:
    case SYS_accept: case SYS_accept4: case SYS_connect: case SYS_poll: case SYS_ppoll: case SYS_select:
    case SYS_pselect6: case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_wait4:
    case SYS_waitid: case SYS_flock:
        return true;
    default:
        return false;
    }
}

struct Descriptors::Impl {
    int32_t pid;
    FdTable fds;
    SocketTables socks;
};

Descriptors::Descriptors(int32_t pid) : impl_(new Impl{pid, {}, {}}) {}
Descriptors::Descriptors(int32_t pid, const std::vector<std::pair<int, std::string>>& links)
    : impl_(new Impl{pid, {}, {}})
{
    impl_->fds.loaded = true;
    for (const auto& [fd, link] : links) impl_->fds.links[fd] = link;
}

void Descriptors::describe_listed(LiveThread& t)
{
    for (LiveFd& f : t.fds)
        if (impl_->fds.links.count(f.fd)) f.what = describe_fd(impl_->pid, f.fd, impl_->fds, impl_->socks);
}
Descriptors::~Descriptors() { delete impl_; }

void Descriptors::describe_io(LiveThread& t)
{
    if (t.io_wait()) lt::live::describe_io(impl_->pid, t, impl_->fds, impl_->socks);
}

} // namespace live
} // namespace lt
