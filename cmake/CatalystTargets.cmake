# Helpers that give every target of the project the same flags.

set(CATALYST_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 at -O3 reports false -Wrestrict errors inside std::string concatenation
  # (GCC bug 105329); the code it points at is libstdc++'s own.
  list(APPEND CATALYST_WARNINGS -Wno-restrict)
endif()

function(catalyst_apply_options target)
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CXX>:${CATALYST_WARNINGS}>")
  if(CATALYST_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
  if(CATALYST_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${CATALYST_SANITIZE}
                                              -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${CATALYST_SANITIZE})
  endif()
endfunction()

# catalyst_library(<module> SOURCES ... [DEPS ...])
# Defines catalyst_<module> (alias catalyst::<module>), with src/ as its include root.
function(catalyst_library module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(catalyst_${module} STATIC ${ARG_SOURCES})
  add_library(catalyst::${module} ALIAS catalyst_${module})
  target_include_directories(catalyst_${module} PUBLIC ${PROJECT_SOURCE_DIR}/src
                                                       ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(catalyst_${module} PUBLIC ${ARG_DEPS})
  catalyst_apply_options(catalyst_${module})
endfunction()

# catalyst_executable(<name> SOURCES ... [DEPS ...])
function(catalyst_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  catalyst_apply_options(${name})
endfunction()

# catalyst_test(<name> SOURCES ... [DEPS ...] [LABELS ...])
# A GoogleTest binary whose tests are registered with ctest one by one, labelled (default: unit).
function(catalyst_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/test-bin)
  catalyst_apply_options(${name})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${name}." PROPERTIES LABELS
                       "${ARG_LABELS}")
endfunction()

# catalyst_benchmark(<name> SOURCES ... [DEPS ...])
# A Google Benchmark binary; ctest runs it once, briefly, as a smoke test (label: bench).
function(catalyst_benchmark name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench-bin)
  catalyst_apply_options(${name})
  # The smoke run covers the small cases only; the figures come from release runs.
  add_test(NAME ${name}_smoke COMMAND ${name} --benchmark_min_time=0.01
                                          "--benchmark_filter=/1000(/|$)")
  set_tests_properties(${name}_smoke PROPERTIES LABELS bench)
endfunction()
