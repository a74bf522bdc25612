# Link flags for the gateway module. Both toolchains produce the same ABI:
# the exports listed in wasm/exports.txt, a reactor (call _initialize once),
# no exceptions, LTO, NDEBUG.
file(STRINGS ${CMAKE_SOURCE_DIR}/wasm/exports.txt GW_EXPORTS REGEX "^[a-z_0-9]+$")
# A changed export list (an ABI version) reconfigures the build.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/wasm/exports.txt)

# The module is optimised for size (-Oz), except the byte-level loops every
# request runs through (JSON reading, SHA-256), which stay at -O3. (JSON
# writing and SSE framing went back to -Oz when the cache and the usage
# ledger brought the module to the 150 KB limit.) Nothing in the core may
# call printf, strtod or std::stable_sort: each links several KB (see
# docs/BENCHMARKS.md, "Module size"). Measured: all -O3 was 210 KB gzip;
# all -Oz 124 KB and ~18% slower per request; -O3 for the whole request path
# ~145 KB; this split ~126 KB and within ~3% of that. Identical constants
# are merged (nothing compares the addresses of constants). The clang link
# also merges identical functions and inlines across files only where that
# shrinks the code (LTO's inline threshold -25; each file was already
# inlined at its own level): -1.5 KB gzip, no measurable cost per request.
# Emscripten's link grows with either, so it keeps the defaults.
set(GW_SPEED_OPTIMIZED_SOURCES
  core/src/json_tape.cc core/src/sha256.cc)
list(TRANSFORM GW_SPEED_OPTIMIZED_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/)

function(gw_wasm_link target)
  set_source_files_properties(${GW_SPEED_OPTIMIZED_SOURCES} TARGET_DIRECTORY gw_core PROPERTIES COMPILE_OPTIONS -O3)
  set_target_properties(${target} PROPERTIES SUFFIX ".wasm")
  target_compile_options(gw_core PUBLIC -Oz -flto -DNDEBUG -fno-exceptions -fno-rtti -fvisibility=hidden
    -fmerge-all-constants)
  target_compile_options(${target} PRIVATE -Oz -flto -DNDEBUG -fno-exceptions -fno-rtti)
  if(EMSCRIPTEN)
    set(exports "")
    foreach(name ${GW_EXPORTS})
      list(APPEND exports "_${name}")
    endforeach()
    list(JOIN exports "," export_list)
    target_link_options(${target} PRIVATE -Oz -flto -sSTANDALONE_WASM=1 -sMALLOC=emmalloc
      -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1048576 -sTOTAL_STACK=131072 -sDISABLE_EXCEPTION_CATCHING=1
      -sFILESYSTEM=0 -sERROR_ON_UNDEFINED_SYMBOLS=1 --no-entry "-sEXPORTED_FUNCTIONS=[${export_list},__initialize]"
      -Wl,--export=_initialize)
  else()
    set(export_flags "")
    foreach(name ${GW_EXPORTS})
      list(APPEND export_flags "-Wl,--export=${name}")
    endforeach()
    target_link_options(${target} PRIVATE -Oz -flto -Wl,-mllvm,-enable-merge-functions -Wl,-mllvm,-inline-threshold=-25 -mexec-model=reactor -Wl,--strip-all -Wl,--gc-sections
      -Wl,-z,stack-size=131072 -Wl,--initial-memory=1048576 ${export_flags})
  endif()
endfunction()
