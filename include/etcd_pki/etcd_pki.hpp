#pragma once
// The whole library: request -> key -> CSR -> profile -> signer -> certificate -> bundle.
#include "etcd_pki/bundle.hpp"
#include "etcd_pki/certificate.hpp"
#include "etcd_pki/csr.hpp"
#include "etcd_pki/duration.hpp"
#include "etcd_pki/error.hpp"
#include "etcd_pki/hosts.hpp"
#include "etcd_pki/key.hpp"
#include "etcd_pki/pipeline.hpp"
#include "etcd_pki/profile.hpp"
#include "etcd_pki/request.hpp"
#include "etcd_pki/signer.hpp"
#include "etcd_pki/version.hpp"
