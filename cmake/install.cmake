# What `make install` and `make deb` put on a machine, and where.
#
#   PREFIX/bin/locktrace                        the command
#   PREFIX/libexec/locktrace/liblocktrace.so    the recorder (LD_PRELOAD shim)
#   PREFIX/libexec/locktrace/locktrace          -> ../../bin/locktrace
#   PREFIX/share/man/man{1,5,7}/                locktrace(1), locktrace-format(5),
#                                               locktrace-bundle(5), liblocktrace(7)
#   PREFIX/share/doc/locktrace/                 README.md and docs/
#
# The shim is not a library anyone links against: it is loaded only by path,
# by `locktrace run` (LD_PRELOAD), so it stays off the linker's search path
# and out of ldconfig's cache, in the FHS's place for files that programs run
# for themselves: one subdirectory of libexec, as valgrind keeps its preload
# libraries.  (Under lib/, Debian packaging would also run ldconfig on install
# and removal, for nothing.)  A fixed libexec/locktrace keeps the path
# relative to bin/ the same for every PREFIX, so `locktrace run` finds the shim
# relative to its own executable (cmd_run.cpp) wherever the tree was installed
# or moved (DESTDIR).
#
# The link next to the shim lets the watchdog, which runs the `locktrace` next
# to liblocktrace.so when LOCKTRACE_DECODER is unset, find the command when a
# user preloads the installed shim by hand.
#
# Test programs, benchmarks and the zoo are never installed.
include(GNUInstallDirs)
set(LOCKTRACE_SHIM_INSTALL_DIR ${CMAKE_INSTALL_LIBEXECDIR}/locktrace)

install(TARGETS locktrace RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS liblocktrace LIBRARY DESTINATION ${LOCKTRACE_SHIM_INSTALL_DIR})

file(RELATIVE_PATH decoder_from_shim /${LOCKTRACE_SHIM_INSTALL_DIR} /${CMAKE_INSTALL_BINDIR}/locktrace)
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/install-links)
file(CREATE_LINK ${decoder_from_shim} ${CMAKE_BINARY_DIR}/install-links/locktrace SYMBOLIC)
install(FILES ${CMAKE_BINARY_DIR}/install-links/locktrace DESTINATION ${LOCKTRACE_SHIM_INSTALL_DIR})

foreach(page locktrace.1 locktrace-format.5 locktrace-bundle.5 liblocktrace.7)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  install(FILES ${CMAKE_SOURCE_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()

install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md" PATTERN "*.png")

# What the command knows about its own release and layout: the version for
# --version, and where the shim is relative to the command once installed.
file(RELATIVE_PATH shim_from_bindir /${CMAKE_INSTALL_BINDIR} /${LOCKTRACE_SHIM_INSTALL_DIR}/liblocktrace.so)
configure_file(${CMAKE_SOURCE_DIR}/cmake/locktrace_build.h.in ${CMAKE_BINARY_DIR}/generated/locktrace_build.h @ONLY)
target_include_directories(locktrace PRIVATE ${CMAKE_BINARY_DIR}/generated)

# `make deb`: a Debian package of the same tree, installed under /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME locktrace)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(LOCKTRACE_MAINTAINER "locktrace maintainers <maintainers@localhost>" CACHE STRING
    "Maintainer field of the Debian package (whoever builds and ships it)")
set(CPACK_PACKAGE_CONTACT ${LOCKTRACE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "record every lock transition of a program, then explain who held and who waited")
# The summary above is the synopsis line; this is the long description.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"locktrace diagnoses hangs and lock misuse in unmodified C, C++ and Rust
programs. `locktrace run` starts a program with an LD_PRELOAD recorder that
writes every pthread mutex, rwlock, condition variable, semaphore and futex
transition to a trace file that survives SIGKILL and can be read while the
process is hung; `locktrace report` names deadlocks, lost wake-ups and
misuse with the stacks involved.")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps (dpkg-dev) computes Depends
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # locktrace_VERSION_ARCH.deb, ARCH from dpkg
# Binaries are stripped in the package (as Debian ships them); `make install` keeps the debug info.
set(CPACK_STRIP_FILES ON)
include(CPack)
