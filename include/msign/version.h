/* msign: the library's version, at compile time (these macros) and at run
 * time (msign_version(), the library actually loaded). The soname and ABI
 * rules that go with it are in README.md, "Versions and ABI". */
#ifndef MSIGN_VERSION_H
#define MSIGN_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* see err.h */
#endif

/* The Makefile reads these (file names, msign.pc, soname) and stops when
 * the string is not MAJOR.MINOR.PATCH: change the four together. */
#define MSIGN_VERSION_MAJOR 0
#define MSIGN_VERSION_MINOR 2
#define MSIGN_VERSION_PATCH 0
#define MSIGN_VERSION_STRING "0.2.0"
/* The soname is libmsign.so.MSIGN_ABI: raised by every release that
 * changes or removes a function or a public struct's layout. */
#define MSIGN_ABI 1

/* "MAJOR.MINOR.PATCH" of the library the program runs with, which may be
 * newer than the headers it was compiled with. */
const char *msign_version(void);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif
#endif
