#include "terminal.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>

#include "etcd_pki/error.hpp"

namespace etcd_pki::cli {
namespace {

// The terminal's settings while echo is off, for the signal handler to restore.
struct termios saved_termios;
volatile sig_atomic_t echo_off = 0;
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void restore_and_reraise(int sig) {
  if (echo_off) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
  signal(sig, SIG_DFL);
  raise(sig);
}

// Echo off for its lifetime, restored however the read ends.
class NoEcho {
 public:
  NoEcho() {
    if (tcgetattr(STDIN_FILENO, &saved_termios) != 0) return;
    struct sigaction sa {};
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &sa, &old_[i]);
    struct termios quiet = saved_termios;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    quiet.c_lflag |= ECHONL;
    // TCSANOW, not TCSAFLUSH: what was typed ahead (or sent by expect after the prompt) is kept.
    echo_off = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
    active_ = true;
  }
  ~NoEcho() {
    if (!active_) return;
    if (echo_off) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    echo_off = 0;
    for (size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  bool active_ = false;
  struct sigaction old_[std::size(kSignals)] {};
};

// One line from stdin, read byte by byte (nothing beyond the line is consumed); nullopt-like
// `ok` false at end of input before a line ending.
std::string read_secret_line(const std::string& prompt, bool& ok) {
  NoEcho no_echo;  // before the prompt: an answer sent as soon as it shows is not echoed
  std::cerr << prompt << std::flush;
  std::string line;
  ok = false;
  char c;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c == '\n') {
      ok = true;
      break;
    }
    if (c != '\r') line.push_back(c);
  }
  return line;
}

void wipe(std::string& s) {
  volatile char* p = s.data();
  for (size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

}  // namespace

bool stdin_is_terminal() { return isatty(STDIN_FILENO) == 1; }

std::string ask_passphrase(const std::string& source, bool confirm) {
  bool ok = false;
  std::string first = read_secret_line(confirm ? "Passphrase to encrypt the CA key " + source + " with: "
                                               : "Passphrase of the CA key " + source + ": ",
                                       ok);
  if (!ok) {
    wipe(first);
    throw Error(Errc::usage, "no passphrase was typed (end of input)", source);
  }
  if (first.empty()) throw Error(Errc::usage, "the passphrase typed is empty", source);
  if (confirm) {
    std::string again = read_secret_line("The same passphrase again: ", ok);
    bool same = ok && again == first;
    wipe(again);
    if (!same) {
      wipe(first);
      throw Error(Errc::usage, "the two passphrases typed differ; nothing was written", source);
    }
  }
  return first;
}

}  // namespace etcd_pki::cli
