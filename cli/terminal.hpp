#pragma once
// The CLI's only terminal dialogue: asking for a CA key's passphrase, without echo, when stdin is
// a terminal and no passphrase was given (--passphrase-file, $ETCD_PKI_CA_PASSPHRASE).
#include <string>

namespace etcd_pki::cli {

// True when stdin is a terminal: only then is anything asked.
bool stdin_is_terminal();

// Prompts on stderr and reads one line from stdin with echo off (echo is restored on return and
// on SIGINT, SIGTERM, SIGHUP, SIGQUIT). `confirm`: asked twice, and two different answers are
// Errc::usage; so is an empty answer or end of input. `source` is the key file named in the prompt.
std::string ask_passphrase(const std::string& source, bool confirm);

}  // namespace etcd_pki::cli
