# SPDX-License-Identifier: Apache-2.0
# Find every library berth uses through pkg-config. A missing one stops the
# configure with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR
    "pkg-config not found: install the Debian package 'pkg-config' "
    "(or run scripts/setup, which installs everything)")
endif()

# berth_require(<prefix> <pkg-config module> <Debian package>)
# Defines the imported target PkgConfig::<prefix>.
function(berth_require prefix module debian)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR
      "berth needs ${module} (pkg-config module '${module}') but it was not "
      "found: install the Debian package '${debian}' "
      "(apt-get install ${debian}), or run scripts/setup")
  endif()
  message(STATUS "Found ${module} ${${prefix}_VERSION}")
endfunction()

berth_require(CURL libcurl libcurl4-openssl-dev)
berth_require(JANSSON jansson libjansson-dev)
berth_require(CRYPTO libcrypto libssl-dev)
berth_require(NFS libnfs libnfs-dev)
berth_require(CARES libcares libc-ares-dev)
berth_require(YAML yaml-0.1 libyaml-dev)
berth_require(EXPAT expat libexpat1-dev)
berth_require(MHD libmicrohttpd libmicrohttpd-dev)
if(BERTH_BUILD_TESTS)
  berth_require(CMOCKA cmocka libcmocka-dev)
endif()
find_package(Threads REQUIRED)
