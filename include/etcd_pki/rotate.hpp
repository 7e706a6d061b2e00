#pragma once
// Replacing the CA of a running cluster with no outage (rotate-ca), in three steps on a cluster
// output folder. etcd reads its trust files (trusted-ca-file, peer-trusted-ca-file) only at start
// but its own certificate and key on every new connection, and a trust file may hold several CAs:
//
//   begin    a new CA in OUT/ca.next (a new key, same subject; or the same key, renewed); every
//            trust file (each member's, OUT/clients/ca.pem) becomes new + what it held. One write.
//            Then: restart each member, one at a time.
//   reissue  every leaf (server, peer, client) re-issued by the new CA, same subject, SANs and
//            usages, a new key; each pair swapped together as renew does (no restart). One write.
//   finish   ca/ moves to OUT/.retired/ca-<UTC>/ (never read again), ca.next/ becomes ca/, every
//            trust file holds the new CA only, every member's CRL copy the new CA's CRL. One write,
//            then ca.next/ is removed. Then: restart each member, one at a time.
//
// Where a folder is comes from its files alone (rotation_status), so a step that was cut off is
// seen and can be run again. Each step refuses to run out of order (Errc::usage, naming the step
// that comes next) and runs verify on the folder before (an error stops it: Errc::input) and after.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "etcd_pki/duration.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/request.hpp"
#include "etcd_pki/verify.hpp"

namespace etcd_pki {

enum class RotationStep {
  none,                // no rotation under way (no ca.next/): begin comes next
  begun,               // ca.next/ made, every trust file holds both CAs; leaves still from the old CA
  reissued,            // every leaf is issued by the new CA (with the same key: chains to it): finish comes next
  finish_interrupted,  // finish wrote ca/ (it is ca.next/'s CA) but was cut off before removing ca.next/
  inconsistent,        // files that no step leaves (a trust file without the new CA, a leaf of a third CA)
};
const char* to_string(RotationStep step);  // "none", "begun", "reissued", "finish-interrupted", "inconsistent"

struct RotationStatus {
  std::string dir;
  RotationStep step = RotationStep::none;
  bool same_key = false;  // ca.next/'s CA has ca/'s key
  std::string ca_cert, next_ca_cert;  // next_ca_cert "" when there is no ca.next/
  // Trust files by content: the new CA only, new + others, no new CA.
  std::vector<std::string> trust_new, trust_both, trust_old;
  // Leaf certificates (with their key) by issuer: the new CA, the old one, another.
  std::vector<std::string> leaves_new, leaves_old, leaves_other;
  std::vector<std::string> retired;  // earlier rotations' CA folders (OUT/.retired/ca-*)
  std::vector<std::string> left;     // what is left to do, one line each
  std::string next;                  // the next command or action
};

// Errc::usage when `dir` is not a cluster output folder with a ca/ folder.
RotationStatus rotation_status(const std::string& dir);
std::string render_text(const RotationStatus& status);

struct RotateOptions {
  bool same_key = false;          // begin: renew the CA certificate with its key (only its expiry is the problem)
  std::optional<Seconds> expiry;  // begin: the new CA's validity; default: the CSR's ca.expiry, else the old CA's own lifetime
  // begin: the new CA's subject, key and ca block (a CA CSR JSON); default: the old CA's subject
  // and key type. With same_key its key block is not used.
  std::optional<Request> ca_request;
  Passphrase passphrase;          // an encrypted CA key's; the new key is encrypted with it when the old one is
  std::optional<TimePoint> now;
  unsigned threads = 0;           // key generation workers; 0 = all cores
  // Called with verify's report on the folder before each step ("before") and after it ("after").
  std::function<void(const VerifyReport& report, const char* when)> on_verify;
};

struct RotateResult {
  std::vector<std::string> written;   // files written (begin, finish) or pairs re-issued (reissue)
  std::vector<std::string> warnings;  // renew's, and verify's errors after the step
  std::string retired;                // finish: where the old CA went
  std::string next;                   // what to do now ("restart each member, one at a time; then ...")
};

RotateResult rotate_begin(const std::string& dir, const RotateOptions& options = {});
RotateResult rotate_reissue(const std::string& dir, const RotateOptions& options = {});
RotateResult rotate_finish(const std::string& dir, const RotateOptions& options = {});

// Errc::usage naming `command` when a rotation is under way in `dir` (it has a ca.next/): what
// cluster and renew do, which would otherwise sign with the CA being replaced.
void refuse_mid_rotation(const std::string& dir, const std::string& command);

}  // namespace etcd_pki
