# SPDX-License-Identifier: Apache-2.0
# Warnings, sanitizers and the feature-test macro shared by every target.
add_compile_definitions(_GNU_SOURCE)
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes
                    -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
                    -fno-common)
# Record only the shared libraries a program really uses, so that e.g.
# berth-peers does not map libcurl, libnfs and GnuTLS it never calls.
add_link_options(-Wl,--as-needed)
if(BERTH_WERROR)
  add_compile_options(-Werror)
endif()

if(BERTH_SANITIZE)
  string(REPLACE "," ";" _berth_sanitizers "${BERTH_SANITIZE}")
  foreach(_san IN LISTS _berth_sanitizers)
    if(NOT _san MATCHES "^(address|undefined|leak|thread)$")
      message(FATAL_ERROR "BERTH_SANITIZE: unknown sanitizer '${_san}'")
    endif()
  endforeach()
  add_compile_options(-fsanitize=${BERTH_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${BERTH_SANITIZE})
endif()

# Fuzzing (scripts/fuzz): coverage instrumentation for everything, so that
# libFuzzer sees into libberth, not only into the targets; the targets
# themselves link -fsanitize=fuzzer (tests/fuzz/CMakeLists.txt).
if(BERTH_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BERTH_FUZZ needs clang (CC=clang); scripts/fuzz "
                        "configures it")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
