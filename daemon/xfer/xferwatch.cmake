# portcullis-xferwatch: watches one approved medium, JSON lines on stdout.
# Included from lib/xfer/CMakeLists.txt (daemon/ has no subdirectory discovery).
add_executable(portcullis-xferwatch ${CMAKE_CURRENT_LIST_DIR}/xferwatch.c)
target_link_libraries(portcullis-xferwatch PRIVATE xfer pcl_sandbox)
install(TARGETS portcullis-xferwatch RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/portcullis)
