// A program that only knows the installed package: makes a CA and a server certificate in memory.
#include <etcd_pki/etcd_pki.hpp>

#include <iostream>

int main() {
  using namespace etcd_pki;
  Request ca_req = Request::default_ca();
  Bundle ca = make_ca(ca_req);
  Signer signer(*ca.certificate, *ca.key);
  Request req;
  req.subject.common_name = "etcd-1";
  req.hosts = {"etcd-1", "127.0.0.1"};
  Bundle leaf = issue(req, signer, Policy::builtin().profile("server"));
  const Certificate& cert = *leaf.certificate;
  std::cout << cert.subject_string() << " " << cert.sans().to_string() << "\n";
  return cert.sans().ip.size() == 1 && cert.subject().common_name == "etcd-1" ? 0 : 1;
}
