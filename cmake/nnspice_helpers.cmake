# nnspice_library(name SOURCES ... DEPS ...): one library per top-level folder,
# public headers under <folder>/include/nnspice/<folder>/, private sources in src/.
function(nnspice_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(nnspice_${name} STATIC ${ARG_SOURCES})
  add_library(nnspice::${name} ALIAS nnspice_${name})
  target_include_directories(nnspice_${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(nnspice_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  nnspice_warnings(nnspice_${name})
  install(TARGETS nnspice_${name} EXPORT nnspiceTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

function(nnspice_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
endfunction()

if(NNSPICE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Fuzzing (tests/fuzz, docs/reliability.md): every library gets libFuzzer's coverage instrumentation and
# ASan + UBSan; only the fuzz executables link the libFuzzer runtime (-fsanitize=fuzzer).
if(NNSPICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NNSPICE_FUZZ needs clang (libFuzzer); configure with the 'fuzz' preset or CXX=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
