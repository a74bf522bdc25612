#pragma once
// nlohmann/json without exceptions or <filesystem>: every parse goes through
// parse(..., nullptr, false) + is_discarded(), and callers check types before
// each access, because a throw point compiled with -fno-exceptions aborts.
#ifndef JSON_HAS_FILESYSTEM
#define JSON_HAS_FILESYSTEM 0
#endif
#ifndef JSON_HAS_EXPERIMENTAL_FILESYSTEM
#define JSON_HAS_EXPERIMENTAL_FILESYSTEM 0
#endif
#define JSON_NO_IO 1
#include <cerrno>  // wasi-libc: nlohmann uses errno without including it
#include <nlohmann/json.hpp>
