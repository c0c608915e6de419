# Helpers shared by every module: unit tests, fuzz harnesses, subdirectory discovery.

# Highest accepted `systemd-analyze security` exposure of udev/portcullisd.service, checked
# offline (tests/unit/pkg) and on the unit loaded by a running systemd (tests/integration/pkg).
set(PCL_UNIT_MAX_EXPOSURE 2.7)

# pcl_add_subdirs(): add every immediate subdirectory that has a CMakeLists.txt,
# so a new module never has to edit its parent's list.
function(pcl_add_subdirs)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child}
       AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()

# pcl_add_unit_test(NAME SOURCES src... LIBS lib...): a cmocka test registered with CTest.
function(pcl_add_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} cmocka)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300)
endfunction()

# pcl_add_fuzzer(NAME SOURCES src... LIBS lib... CORPUS dir): a libFuzzer harness.
# With BUILD_FUZZ it is built and registered as a short CTest run (label fuzz)
# over a scratch copy of its seed corpus; PCL_FUZZ_SECONDS sets the time.
set(PCL_FUZZ_SECONDS 5 CACHE STRING "Seconds each fuzz harness runs under CTest")
function(pcl_add_fuzzer name)
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT BUILD_FUZZ)
    return()
  endif()
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}.corpus)
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -E env
                   sh -c "mkdir -p '${work}' && exec \"$0\" -max_total_time=${PCL_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 '${work}' '${F_CORPUS}'"
                   $<TARGET_FILE:${name}>)
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()

# pcl_add_integration_test(NAME COMMAND cmd... [TIMEOUT s] [LABELS l...]):
# runs against the staged install (build/stage: sbin/portcullisd, bin/portcullis)
# with PCL_PREFIX, PCL_BUILD_DIR, PCL_SOURCE_DIR and PYTHON (Debian's python3) set.
# The longest tests, started first: CTest orders by COST when it has no timings of its own
# (a fresh clone, as in CI), so a kernel test under QEMU runs beside the short ones
# instead of after them. Rough seconds on two cores.
set(PCL_TEST_COSTS kernel_media:300 kernel_gate:120 approval_umockdev:90 approval_nomedia:35
    gate_nomedia:35 gate_umockdev:30
    pkg_dpkg_install_purge:110 kernel_usbredir:95 pkg_systemd_unit_boot:90 xfer_bpf_kernel:70
    xfer_fs_vfat:60 usb_hash_parity:45 audit_crash:35)

# NO_LOOP_DEVICES: a test of a module in PCL_LOOP_DEVICE_DIRS whose tests attach no loop
# device (pcl_add_pytest_groups) runs without the lock, beside the others.
function(pcl_add_integration_test name)
  cmake_parse_arguments(T "NO_LOOP_DEVICES" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT BUILD_TESTS)
    return()
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${T_COMMAND})
  set_tests_properties(${name} PROPERTIES
    LABELS "integration;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    FIXTURES_REQUIRED stage
    ENVIRONMENT "PCL_PREFIX=${CMAKE_BINARY_DIR}/stage;PCL_BUILD_DIR=${CMAKE_BINARY_DIR};PCL_SOURCE_DIR=${CMAKE_SOURCE_DIR};PYTHON=/usr/bin/python3;PYTHONDONTWRITEBYTECODE=1")
  foreach(pair ${PCL_TEST_COSTS})
    if(pair MATCHES "^${name}:([0-9]+)$")
      set_property(TEST ${name} PROPERTY COST ${CMAKE_MATCH_1})
    endif()
  endforeach()
  # A test of the kernel label runs in the test bed's guest, with the guest's own loop
  # devices: it needs no lock on the host's.
  get_filename_component(module ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  if(module IN_LIST PCL_LOOP_DEVICE_DIRS AND NOT "kernel" IN_LIST T_LABELS
     AND NOT T_NO_LOOP_DEVICES)
    set_property(TEST ${name} APPEND PROPERTY RESOURCE_LOCK loop-devices)
  endif()
endfunction()

# One module's pytest files as two CTest tests under umockdev, split test by test
# (tests/integration/pcl_loop_groups.py): MEDIA_NAME runs the tests that attach loop devices
# (the `medium` fixture or the `loop_devices` mark) and takes the lock; OTHER_NAME runs the
# rest beside the others, two at a time, with a losetup that refuses, so that a test
# attaching a loop device unmarked fails instead of running outside the lock. TESTS must
# name every test_*.py of the directory exactly once, so that no file silently drops out.
function(pcl_add_pytest_groups)
  cmake_parse_arguments(G "" "MEDIA_NAME;OTHER_NAME;TIMEOUT" "TESTS;MEDIA_TESTS;OTHER_TESTS"
                        ${ARGN})
  if(NOT BUILD_TESTS)
    return()
  endif()
  if(G_MEDIA_TESTS OR G_OTHER_TESTS)
    message(FATAL_ERROR "${CMAKE_CURRENT_SOURCE_DIR}: pcl_add_pytest_groups splits test by "
                        "test: list every file under TESTS (MEDIA_TESTS/OTHER_TESTS are gone)")
  endif()
  file(GLOB found RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/test_*.py)
  set(listed ${G_TESTS})
  foreach(f ${found})
    set(n 0)
    foreach(l ${listed})
      if(l STREQUAL f)
        math(EXPR n "${n} + 1")
      endif()
    endforeach()
    if(NOT n EQUAL 1)
      message(FATAL_ERROR "${CMAKE_CURRENT_SOURCE_DIR}/${f}: listed ${n} times in "
                          "pcl_add_pytest_groups (must be once)")
    endif()
  endforeach()
  foreach(f ${listed})
    if(NOT f IN_LIST found)
      message(FATAL_ERROR "${CMAKE_CURRENT_SOURCE_DIR}/${f}: listed but not there")
    endif()
  endforeach()
  list(TRANSFORM listed PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
  set(pytest umockdev-wrapper /usr/bin/python3 -m pytest -q -p no:cacheprovider
      -p pcl_loop_groups)
  pcl_add_integration_test(${G_MEDIA_NAME} COMMAND ${pytest} ${listed} TIMEOUT ${G_TIMEOUT})
  # Two at a time (python3-pytest-xdist): each test has its own simulated PC, daemon and
  # directories, and they spend most of their time waiting on the daemon's timers.
  pcl_add_integration_test(${G_OTHER_NAME} NO_LOOP_DEVICES
    COMMAND ${pytest} -n 2 ${listed} TIMEOUT ${G_TIMEOUT})
  set_property(TEST ${G_MEDIA_NAME} APPEND PROPERTY ENVIRONMENT "PCL_LOOP_GROUP=loop")
  set_property(TEST ${G_OTHER_NAME} APPEND PROPERTY ENVIRONMENT "PCL_LOOP_GROUP=none")
  set_property(TEST ${G_MEDIA_NAME} ${G_OTHER_NAME} APPEND PROPERTY ENVIRONMENT
               "PYTHONPATH=${PROJECT_SOURCE_DIR}/tests/integration")
endfunction()
