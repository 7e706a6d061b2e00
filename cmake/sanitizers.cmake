# Sanitizer and fuzzing builds, for every target of the project (library, CLI, unit tests,
# fuzz targets). Included from the top-level CMakeLists.txt before any target is made; the
# flags are directory-scoped compile and link options, so they reach every subdirectory.
#
#   -DETCD_PKI_SANITIZE=address  AddressSanitizer + UndefinedBehaviorSanitizer (no recovery: the
#                                first report aborts) + LeakSanitizer (part of ASan on Linux; on
#                                when detect_leaks=1), frame pointers for readable stacks, and
#                                libstdc++'s cheap precondition checks (_GLIBCXX_ASSERTIONS:
#                                bounds of operator[] on string, string_view, vector ...).
#                                scripts/sanitize.sh builds this in build-asan/.
#   -DETCD_PKI_SANITIZE=thread   ThreadSanitizer (scripts/sanitize.sh: build-tsan/).
#   -DETCD_PKI_FUZZ=ON           clang only: everything compiled with
#                                -fsanitize=fuzzer-no-link,address,undefined, plus the libFuzzer
#                                targets of fuzz/ linked with -fsanitize=fuzzer
#                                (scripts/fuzz.sh: build-fuzz/).
#
# OpenSSL itself is not instrumented: ASan sees only what our code does with its buffers, and
# TSan sees OpenSSL's locks (intercepted pthread calls) but not its atomics (tests/tsan.supp).

set(_etcd_pki_san_compile "")
set(_etcd_pki_san_link "")       # also what an installed sanitized library asks of its users
set(_etcd_pki_san_link_own "")   # only for this project's own executables
set(_etcd_pki_san_defs "")

if(ETCD_PKI_FUZZ AND NOT ETCD_PKI_SANITIZE STREQUAL "")
  message(FATAL_ERROR "ETCD_PKI_FUZZ already builds with ASan+UBSan; leave ETCD_PKI_SANITIZE empty")
endif()

if(ETCD_PKI_SANITIZE STREQUAL "address")
  set(_etcd_pki_san_compile -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # float-cast-overflow: clang's "undefined" group has it, GCC's does not (the library casts
    # floating point durations to integers). -Wmaybe-uninitialized is unreliable under
    # -fsanitize (false positives in libstdc++'s <regex>); the normal build keeps it.
    list(APPEND _etcd_pki_san_compile -fsanitize=float-cast-overflow -Wno-maybe-uninitialized)
  endif()
  set(_etcd_pki_san_link -fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC links ASan and UBSan as two shared runtimes, and UBSan then ignores log_path: its
    # reports go to stderr only, where a test that discards the CLI's stderr loses them
    # (scripts/sanitize.sh fails on the log files). A static UBSan runtime honours log_path.
    set(_etcd_pki_san_link_own -static-libubsan)
  endif()
  set(_etcd_pki_san_defs _GLIBCXX_ASSERTIONS)
elseif(ETCD_PKI_SANITIZE STREQUAL "thread")
  set(_etcd_pki_san_compile -fsanitize=thread -fno-omit-frame-pointer)
  set(_etcd_pki_san_link -fsanitize=thread)
elseif(NOT ETCD_PKI_SANITIZE STREQUAL "")
  message(FATAL_ERROR "ETCD_PKI_SANITIZE must be empty, \"address\" or \"thread\", not \"${ETCD_PKI_SANITIZE}\"")
endif()

if(ETCD_PKI_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ETCD_PKI_FUZZ needs clang (libFuzzer), e.g. -DCMAKE_CXX_COMPILER=clang++-14; "
                        "this is ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}")
  endif()
  # The targets in fuzz/ add -fsanitize=fuzzer at link time (libFuzzer's main).
  set(_etcd_pki_san_compile -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                            -fno-omit-frame-pointer)
  set(_etcd_pki_san_link -fsanitize=address,undefined)
  set(_etcd_pki_san_defs _GLIBCXX_ASSERTIONS)
endif()

if(_etcd_pki_san_compile)
  message(STATUS "etcd-pki: sanitizer flags: ${_etcd_pki_san_compile}")
  add_compile_options(${_etcd_pki_san_compile})
  add_link_options(${_etcd_pki_san_link} ${_etcd_pki_san_link_own})
  if(_etcd_pki_san_defs)
    add_compile_definitions(${_etcd_pki_san_defs})
  endif()
  # The library is static: whatever links an installed sanitized build (tests/consumer) needs the
  # sanitizer runtime too. Set once every target exists.
  function(_etcd_pki_sanitizer_install_interface)
    if(TARGET etcd_pki)
      target_link_options(etcd_pki INTERFACE "$<INSTALL_INTERFACE:${_etcd_pki_san_link}>")
    endif()
  endfunction()
  cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _etcd_pki_sanitizer_install_interface)
endif()
