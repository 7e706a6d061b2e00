#include "tls_dial.hpp"

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

#include "etcd_pki/hosts.hpp"
#include "ossl.hpp"

namespace etcd_pki::detail {

namespace {

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// SIGPIPE blocked on this thread while it uses the socket: OpenSSL writes with write(2), and a
// write to a connection the other side has closed would otherwise end the process. A SIGPIPE
// raised meanwhile (thread-directed) is consumed; the process's signal handling is left alone.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    timespec zero{0, 0};
    if (!was_pending_)
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// "connection refused": strerror as Go's syscall package spells it (lower case first letter).
std::string go_errno(int e) {
  std::string s = std::strerror(e);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Waits until `fd` is ready for `events` or the deadline passes (false).
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (rc > 0 || (rc < 0 && errno != EINTR)) return true;  // ready, or an error the next call reports
  }
}

// "127.0.0.1:2379", "[::1]:2379"; `ip` gets the address alone.
std::string address_of(const sockaddr* a, socklen_t len, std::string* ip = nullptr) {
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (getnameinfo(a, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) return "?";
  if (ip) *ip = host;
  return a->sa_family == AF_INET6 ? "[" + std::string(host) + "]:" + serv : std::string(host) + ":" + serv;
}

std::string local_address(int fd, std::string& ip) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return "?";
  return address_of(reinterpret_cast<sockaddr*>(&local), len, &ip);
}

// The first address of the host that accepts a TCP connection before the deadline; an invalid
// Socket (and out.error) when none does. Go's texts: "dial tcp ADDR: connect: connection refused".
Socket connect_tcp(const DialRequest& r, Clock::time_point deadline, Dialled& out) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (parse_ip(r.host) ? AI_NUMERICHOST : 0);
  addrinfo* raw = nullptr;
  if (int rc = getaddrinfo(r.host.c_str(), std::to_string(r.port).c_str(), &hints, &raw); rc != 0) {
    out.error = "dial tcp: lookup " + r.host + ": " + gai_strerror(rc);
    return Socket();
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(raw, freeaddrinfo);
  for (addrinfo* a = list.get(); a; a = a->ai_next) {
    Socket s(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    out.address = address_of(a->ai_addr, a->ai_addrlen);
    if (s.get() < 0) {
      out.error = "dial tcp " + out.address + ": socket: " + go_errno(errno);
      continue;
    }
    int err = ::connect(s.get(), a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      if (!wait_for(s.get(), POLLOUT, deadline)) {
        out.timed_out = true;
        out.error = "dial tcp " + out.address + ": i/o timeout";
        return Socket();
      }
      socklen_t len = sizeof err;
      if (getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0) return s;
    out.error = "dial tcp " + out.address + ": connect: " + go_errno(err);
  }
  return Socket();
}

// What one SSL call came to.
struct Io {
  int rc = 0;
  int ssl_error = SSL_ERROR_NONE;
  int sys_errno = 0;
  bool timed_out = false;
};

// Runs `op` (SSL_connect, SSL_write, SSL_read) until it succeeds, fails, or the deadline passes.
template <class Op>
Io drive(SSL* ssl, int fd, Clock::time_point deadline, Op op) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    Io io;
    io.rc = op();
    if (io.rc > 0) return io;
    io.sys_errno = errno;
    io.ssl_error = SSL_get_error(ssl, io.rc);
    if (io.ssl_error != SSL_ERROR_WANT_READ && io.ssl_error != SSL_ERROR_WANT_WRITE) return io;
    if (!wait_for(fd, io.ssl_error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
      io.timed_out = true;
      return io;
    }
  }
}

// Why an SSL call failed, as Go says it where it can: the other side's alert ("remote error: tls:
// bad certificate"), "EOF", "connection reset by peer"; else OpenSSL's reasons. Clears the queue.
std::string failure_text(const Io& io, int& alert) {
  for (unsigned long e; (e = ERR_peek_error()) != 0; ERR_get_error()) {
    int reason = ERR_GET_REASON(e);
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
      alert = reason - SSL_AD_REASON_OFFSET;
      ERR_clear_error();
      return "remote error: tls: " + go_alert_text(alert);
    }
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ERR_clear_error();
      return "EOF";
    }
    break;
  }
  if (io.ssl_error == SSL_ERROR_ZERO_RETURN || (io.ssl_error == SSL_ERROR_SYSCALL && io.sys_errno == 0 && !ERR_peek_error()))
    return "EOF";
  if (io.ssl_error == SSL_ERROR_SYSCALL && io.sys_errno != 0) return go_errno(io.sys_errno);
  std::string queue = ossl::take_error_queue();
  return queue.empty() ? "TLS error " + std::to_string(io.ssl_error) : queue;
}

// A context presenting `id` (none when it is nullopt or cannot be loaded: out.identity_error).
ossl::SslCtx client_context(const std::optional<TlsIdentity>& id, Dialled& out) {
  auto ctx = ossl::check<ossl::SslCtx>(SSL_CTX_new(TLS_client_method()), "SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // judged afterwards, with etcd's rules
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);  // a response may end at a bare close
  if (!id) return ctx;
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), id->cert_file.c_str()) == 1 &&
      SSL_CTX_use_PrivateKey_file(ctx.get(), id->key_file.c_str(), SSL_FILETYPE_PEM) == 1 &&
      SSL_CTX_check_private_key(ctx.get()) == 1) {
    out.presented = id->cert_file;
    return ctx;
  }
  out.identity_error = "cannot use " + id->cert_file + " and " + id->key_file + ": " + ossl::take_error_queue();
  return client_context(std::nullopt, out);
}

// The handshake; on success the served chain, version and cipher are in `out`.
bool handshake(SSL* ssl, int fd, Clock::time_point deadline, Dialled& out) {
  Io io = drive(ssl, fd, deadline, [&] { return SSL_connect(ssl); });
  if (io.rc != 1) {
    out.timed_out = io.timed_out;
    out.error = io.timed_out ? "the TLS handshake did not complete (i/o timeout)" : failure_text(io, out.alert);
    return false;
  }
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl))
    for (int i = 0; i < sk_X509_num(chain); ++i) out.chain.push_back(Certificate::from_native(sk_X509_value(chain, i)));
  out.tls_version = SSL_get_version(ssl);
  out.cipher = SSL_get_cipher_name(ssl);
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Whether `got` holds a whole HTTP/1.1 response: the headers, and the body their Content-Length
// or chunked encoding announces (without either, the body ends at the close).
bool response_complete(const std::string& got) {
  auto end = got.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string headers = lower(got.substr(0, end + 2));
  if (auto cl = headers.find("\r\ncontent-length:"); cl != std::string::npos)
    return got.size() >= end + 4 + std::strtoull(headers.c_str() + cl + 17, nullptr, 10);
  if (headers.find("\r\ntransfer-encoding: chunked") != std::string::npos) return got.ends_with("0\r\n\r\n");
  return false;
}

// One GET and its response (the status and body), or why there was none.
void request(SSL* ssl, int fd, const DialRequest& r, Clock::time_point deadline, Dialled& out) {
  std::string host = parse_ip(r.host) && r.host.find(':') != std::string::npos ? "[" + r.host + "]" : r.host;
  std::string req = "GET " + r.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(r.port) +
                    "\r\nUser-Agent: etcd-pki\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  Io io = drive(ssl, fd, deadline, [&] { return SSL_write(ssl, req.data(), static_cast<int>(req.size())); });
  std::string got;
  char buf[4096];
  while (io.rc > 0 && !response_complete(got) && got.size() < 64 * 1024) {
    io = drive(ssl, fd, deadline, [&] { return SSL_read(ssl, buf, sizeof buf); });
    if (io.rc > 0) got.append(buf, static_cast<size_t>(io.rc));
  }
  if (got.rfind("HTTP/", 0) == 0 && got.find(' ') != std::string::npos) {
    out.http_status = std::atoi(got.c_str() + got.find(' ') + 1);
    auto end = got.find("\r\n\r\n");
    out.http_body = end == std::string::npos ? "" : got.substr(end + 4);
    out.reached = DialStage::done;
    return;
  }
  out.timed_out = io.timed_out;
  out.error = io.timed_out ? "no response to GET " + r.path + " (i/o timeout)"
              : io.rc > 0  ? "not an HTTP response to GET " + r.path
                           : failure_text(io, out.alert);
}

}  // namespace

Dialled dial_tls(const DialRequest& r) {
  ossl::ClearErrors clear;
  SigpipeBlock no_sigpipe;
  Dialled out;
  Socket s = connect_tcp(r, Clock::now() + r.timeout, out);
  if (s.get() < 0) return out;
  std::string local_ip;
  out.local_address = local_address(s.get(), local_ip);
  out.reached = DialStage::handshake;
  ossl::SslCtx ctx = client_context(r.identity ? r.identity(local_ip) : std::nullopt, out);
  ossl::Ssl ssl = ossl::check<ossl::Ssl>(SSL_new(ctx.get()), "SSL_new");
  ossl::check(SSL_set_fd(ssl.get(), s.get()), "SSL_set_fd");
  if (!parse_ip(r.host)) SSL_set_tlsext_host_name(ssl.get(), r.host.c_str());
  if (!handshake(ssl.get(), s.get(), Clock::now() + r.timeout, out)) return out;
  out.reached = DialStage::request;
  request(ssl.get(), s.get(), r, Clock::now() + r.timeout, out);
  ERR_clear_error();
  return out;
}

std::string go_alert_text(int alert) {
  static const std::map<int, std::string> kText = {
      {0, "close notify"},          {10, "unexpected message"},
      {20, "bad record MAC"},       {40, "handshake failure"},
      {42, "bad certificate"},      {43, "unsupported certificate"},
      {44, "revoked certificate"},  {45, "expired certificate"},
      {46, "unknown certificate"},  {47, "illegal parameter"},
      {48, "unknown certificate authority"}, {49, "access denied"},
      {50, "error decoding message"}, {51, "error decrypting message"},
      {70, "protocol version not supported"}, {71, "insufficient security level"},
      {80, "internal error"},       {86, "inappropriate fallback"},
      {90, "user canceled"},        {109, "missing extension"},
      {110, "unsupported extension"}, {112, "unrecognized name"},
      {116, "certificate required"}, {120, "no application protocol"},
  };
  auto it = kText.find(alert);
  return it != kText.end() ? it->second : "alert(" + std::to_string(alert) + ")";
}

}  // namespace etcd_pki::detail
