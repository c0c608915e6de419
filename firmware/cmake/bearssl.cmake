# Fetch Debian's `bearssl` source package with Debian's own tools and build the parts the
# token needs as a static library for the MCU (target pcl_fw_bearssl).
#
# The machine's apt configuration is reused read-only: the Debian mirror URL and suite come
# from /etc/apt/sources.list(.d); a private sources list, state and cache live under the
# build directory, so /etc/apt is never modified. InRelease is checked against Debian's
# archive keyring, and apt/dpkg-source check the .dsc hashes.
# Input trust: the downloaded package is trusted only as far as Debian's signature.

set(PCL_BEARSSL_DIR ${CMAKE_BINARY_DIR}/bearssl-src CACHE PATH "Unpacked Debian bearssl source")

function(pcl_bearssl_find_mirror out_uri out_suite)
  set(uri "")
  set(suite "")
  file(GLOB deb822 /etc/apt/sources.list.d/*.sources)
  foreach(f IN LISTS deb822)
    file(STRINGS ${f} lines)
    set(cur_uri "")
    foreach(l IN LISTS lines)
      if(l MATCHES "^URIs:[ \t]*([^ \t]+)")
        set(cur_uri ${CMAKE_MATCH_1})
      elseif(l MATCHES "^Suites:[ \t]*([^ \t]+)")
        set(cur_suite ${CMAKE_MATCH_1})
        if(uri STREQUAL "" AND cur_uri MATCHES "/debian/?$")
          set(uri ${cur_uri})
          set(suite ${cur_suite})
        endif()
      endif()
    endforeach()
  endforeach()
  if(uri STREQUAL "" AND EXISTS /etc/apt/sources.list)
    file(STRINGS /etc/apt/sources.list lines REGEX "^deb[ \t]")
    foreach(l IN LISTS lines)
      if(l MATCHES "^deb[ \t]+(\\[[^]]*\\][ \t]+)?([^ \t]+/debian/?)[ \t]+([^ \t]+)" AND uri STREQUAL "")
        set(uri ${CMAKE_MATCH_2})
        set(suite ${CMAKE_MATCH_3})
      endif()
    endforeach()
  endif()
  if(uri STREQUAL "")
    message(FATAL_ERROR "bearssl: no Debian mirror found in /etc/apt/sources.list(.d)")
  endif()
  set(${out_uri} ${uri} PARENT_SCOPE)
  set(${out_suite} ${suite} PARENT_SCOPE)
endfunction()

function(pcl_bearssl_fetch)
  if(EXISTS ${PCL_BEARSSL_DIR}/inc/bearssl.h)
    return()
  endif()
  find_program(APT_GET apt-get REQUIRED)
  find_program(DPKG_SOURCE dpkg-source REQUIRED)
  pcl_bearssl_find_mirror(uri suite)
  set(apt ${CMAKE_BINARY_DIR}/bearssl-apt)
  file(REMOVE_RECURSE ${apt})
  file(MAKE_DIRECTORY ${apt}/lists/partial ${apt}/cache/archives/partial ${apt}/dl)
  set(keyring /usr/share/keyrings/debian-archive-keyring.gpg)
  if(EXISTS ${keyring})
    set(opts "[signed-by=${keyring}] ")
  else()
    set(opts "")
  endif()
  file(WRITE ${apt}/sources.list "deb-src ${opts}${uri} ${suite} main\n")
  set(aptopts -o Dir::Etc::SourceList=${apt}/sources.list -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists=${apt}/lists -o Dir::Cache=${apt}/cache
              -o APT::Sandbox::User=root -qq)
  message(STATUS "bearssl: apt-get source from ${uri} ${suite} (private list in ${apt})")
  execute_process(COMMAND ${APT_GET} ${aptopts} update RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bearssl: apt-get update of ${apt}/sources.list failed (${rc})")
  endif()
  execute_process(COMMAND ${APT_GET} ${aptopts} source --download-only bearssl
                  WORKING_DIRECTORY ${apt}/dl RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bearssl: apt-get source --download-only bearssl failed (${rc})")
  endif()
  file(GLOB dsc ${apt}/dl/bearssl_*.dsc)
  list(LENGTH dsc n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "bearssl: expected one .dsc in ${apt}/dl, found '${dsc}'")
  endif()
  file(REMOVE_RECURSE ${PCL_BEARSSL_DIR})
  execute_process(COMMAND ${DPKG_SOURCE} -x ${dsc} ${PCL_BEARSSL_DIR}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${PCL_BEARSSL_DIR}/inc/bearssl.h)
    message(FATAL_ERROR "bearssl: dpkg-source -x ${dsc} failed (${rc})")
  endif()
  get_filename_component(name ${dsc} NAME_WE)
  message(STATUS "bearssl: unpacked ${dsc} into ${PCL_BEARSSL_DIR}")
endfunction()

pcl_bearssl_fetch()

# Only what the token uses: SHA-256, HMAC, HKDF, HMAC-DRBG, AES (constant-time) CBC/CTR/GCM,
# P-256 (m31 and i31/i15 generic prime curve) ECDSA sign and verify, key generation.
set(bs ${PCL_BEARSSL_DIR}/src)
set(PCL_BEARSSL_SOURCES
  ${bs}/hash/sha2small.c ${bs}/hash/ghash_ctmul.c ${bs}/hash/dig_oid.c ${bs}/hash/dig_size.c
  ${bs}/mac/hmac.c ${bs}/mac/hmac_ct.c ${bs}/kdf/hkdf.c ${bs}/rand/hmac_drbg.c
  ${bs}/symcipher/aes_ct.c ${bs}/symcipher/aes_ct_enc.c ${bs}/symcipher/aes_ct_dec.c
  ${bs}/symcipher/aes_ct_cbcenc.c ${bs}/symcipher/aes_ct_cbcdec.c
  ${bs}/symcipher/aes_ct_ctr.c ${bs}/symcipher/aes_common.c
  ${bs}/aead/gcm.c
  ${bs}/ec/ec_p256_m31.c ${bs}/ec/ec_p256_m15.c ${bs}/ec/ec_prime_i31.c ${bs}/ec/ec_prime_i15.c
  ${bs}/ec/ec_secp256r1.c ${bs}/ec/ec_secp384r1.c ${bs}/ec/ec_secp521r1.c ${bs}/ec/ec_keygen.c ${bs}/ec/ec_pubkey.c
  ${bs}/ec/ecdsa_atr.c ${bs}/ec/ecdsa_rta.c
  ${bs}/ec/ecdsa_i31_bits.c ${bs}/ec/ecdsa_i31_sign_asn1.c ${bs}/ec/ecdsa_i31_sign_raw.c
  ${bs}/ec/ecdsa_i31_vrfy_asn1.c ${bs}/ec/ecdsa_i31_vrfy_raw.c
  ${bs}/ec/ecdsa_i15_bits.c ${bs}/ec/ecdsa_i15_sign_asn1.c ${bs}/ec/ecdsa_i15_sign_raw.c
  ${bs}/ec/ecdsa_i15_vrfy_asn1.c ${bs}/ec/ecdsa_i15_vrfy_raw.c
  ${bs}/codec/ccopy.c ${bs}/codec/dec32be.c ${bs}/codec/enc32be.c ${bs}/codec/dec32le.c
  ${bs}/codec/enc32le.c ${bs}/codec/dec64be.c ${bs}/codec/enc64be.c
)
file(GLOB PCL_BEARSSL_INT ${bs}/int/i31_*.c ${bs}/int/i15_*.c ${bs}/int/i32_div32.c)
list(APPEND PCL_BEARSSL_SOURCES ${PCL_BEARSSL_INT})

add_library(pcl_fw_bearssl STATIC ${PCL_BEARSSL_SOURCES})
target_include_directories(pcl_fw_bearssl SYSTEM PUBLIC ${PCL_BEARSSL_DIR}/inc)
target_include_directories(pcl_fw_bearssl PRIVATE ${bs})
# Third-party code: built as Debian ships it, without our -Werror set.
target_compile_options(pcl_fw_bearssl PRIVATE -O2 -w)
