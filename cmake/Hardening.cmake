# Compiler warnings and hardening flags, always on for host code.
set(PCL_WARNINGS -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wpointer-arith -Wvla -Wcast-qual -Wundef
    -Wno-unused-parameter)
if(PCL_WERROR)
  list(APPEND PCL_WARNINGS -Werror)
endif()
add_compile_options(${PCL_WARNINGS})
add_compile_options(-fstack-protector-strong -fstack-clash-protection -fPIE
                    -fno-strict-overflow -fno-delete-null-pointer-checks)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_compile_options(-fcf-protection=full)
endif()
# _FORTIFY_SOURCE needs optimisation; debug builds get -O1 for it.
add_compile_definitions(_GNU_SOURCE)
add_compile_options($<$<CONFIG:Debug>:-O1> -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed)

if(PCL_SANITIZE)
  # A sanitizer build widens every seccomp filter for the sanitizer runtime (lib/sandbox):
  # never a release build.
  if(CMAKE_BUILD_TYPE STREQUAL "Release")
    message(FATAL_ERROR "PCL_SANITIZE is refused in Release builds")
  endif()
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # Every program gets lib/sandbox/sanitizer_hooks.c: no leak check at exit under a
  # seccomp filter, where it cannot run.
  add_library(pcl_sanitizer_hooks OBJECT ${PROJECT_SOURCE_DIR}/lib/sandbox/sanitizer_hooks.c)
  link_libraries(pcl_sanitizer_hooks)
endif()
if(BUILD_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BUILD_FUZZ needs clang (CC=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
