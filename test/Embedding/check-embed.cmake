# Installs slr into a scratch prefix, builds examples/embed against it and
# checks the program lowers slr.linear.
set(prefix ${SLR_BINARY_DIR}/embed-test/install)
set(build ${SLR_BINARY_DIR}/embed-test/build)
file(REMOVE_RECURSE ${SLR_BINARY_DIR}/embed-test)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${SLR_BINARY_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -G Ninja -S ${SLR_SOURCE_DIR}/examples/embed -B ${build}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${build})
run(${build}/embed-slr)
if(NOT last_output MATCHES "linalg.generic" OR last_output MATCHES "slr.linear")
  message(FATAL_ERROR "embed-slr did not lower slr.linear:\n${last_output}")
endif()
# A CPU-only consumer links SLR::SLRToLinalg, not the GPU kernel generator.
run(${SLR_NM} -C ${build}/embed-slr)
if(last_output MATCHES "slr::buildSLRLinearKernels|ConvertSLRToGPU")
  message(FATAL_ERROR "embed-slr links the GPU kernel generator")
endif()
message(STATUS "embedding example OK")
