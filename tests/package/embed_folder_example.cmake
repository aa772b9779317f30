# The installed package from a consumer's side (ctest package_embed_folder): installs this build of
# Lumen into a fresh prefix, configures tools/examples/embed_folder against it with
# find_package(lumen), builds it, and runs it on a folder of images of several formats.
#   cmake -DLUMEN_SOURCE_DIR=... -DLUMEN_BUILD_DIR=... -DWORK_DIR=... -DCXX_COMPILER=...
#         [-DCUDNN_ROOT=... -DNCCL_ROOT=...] -P embed_folder_example.cmake
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${what} failed (${code}):\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/images)
run("installing Lumen" ${CMAKE_COMMAND} --install ${LUMEN_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
set(hints)
foreach(root CUDNN_ROOT NCCL_ROOT)
  if(${root})
    list(APPEND hints -D${root}=${${root}})
  endif()
endforeach()
run("configuring the example against the installed package"
    ${CMAKE_COMMAND} -S ${LUMEN_SOURCE_DIR}/tools/examples/embed_folder -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=Release ${hints})
run("building the example" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
foreach(image gray.png rgb.png gray.jpg cmyk.jpg alpha.webp)
  file(COPY ${LUMEN_SOURCE_DIR}/tests/fuzz/corpus/${image} DESTINATION ${WORK_DIR}/images)
endforeach()
run("running the example" ${WORK_DIR}/build/embed_folder input_dir=${WORK_DIR}/images
    model.name=resnet-9 model.width=0.25 collate.input_size=32 device=cpu)
if(NOT run_output MATCHES "embedded 5 images of .* with a 128-dimensional resnet-9")
  message(FATAL_ERROR "unexpected output of the example:\n${run_output}")
endif()
message(STATUS "${run_output}")
file(REMOVE_RECURSE ${WORK_DIR})
