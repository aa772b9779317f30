# The libraries liblumen links, found the same way by Lumen's own build (CMakeLists.txt) and by a
# consumer's find_package(lumen) (lumenConfig.cmake installs this file beside itself). Each becomes
# an imported target, so that the exported link interface names targets rather than paths of the
# machine Lumen was built on:
#   OpenMP::OpenMP_CXX, lumen::openblas (OpenBLAS's OpenMP build where installed), lumen::turbojpeg,
#   ZLIB::ZLIB, PkgConfig::LUMEN_TIFF (libtiff >= 4.5), PkgConfig::LUMEN_WEBP (libwebp,
#   libwebpdemux), PkgConfig::LUMEN_FFMPEG (libavformat, libavcodec, libswscale, libavutil), and
#   with CUDA: CUDA::cudart, CUDA::cublas, CUDA::cublasLt, CUDNN::cudnn, NCCL::nccl.
# lumen_find_dependencies(<with_cuda>) sets LUMEN_DEPENDENCIES_MISSING to what was not found (each
# with the Debian package that provides it), empty when everything was.
macro(lumen_find_dependencies with_cuda)
  set(LUMEN_DEPENDENCIES_MISSING "")
  find_package(OpenMP QUIET)
  if(NOT TARGET OpenMP::OpenMP_CXX)
    list(APPEND LUMEN_DEPENDENCIES_MISSING "OpenMP for C++ (g++'s libgomp)")
  endif()
  # OpenBLAS built on OpenMP, so that BLAS calls made inside Lumen's OpenMP loops share one thread
  # pool (the pthread build's threads and OpenMP's spinning threads fight over the cores).
  find_library(LUMEN_OPENBLAS_LIBRARY NAMES openblas NAMES_PER_DIR
               PATH_SUFFIXES ${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp openblas-openmp)
  if(LUMEN_OPENBLAS_LIBRARY AND NOT TARGET lumen::openblas)
    add_library(lumen::openblas UNKNOWN IMPORTED)
    set_target_properties(lumen::openblas PROPERTIES IMPORTED_LOCATION "${LUMEN_OPENBLAS_LIBRARY}")
  elseif(NOT LUMEN_OPENBLAS_LIBRARY)
    list(APPEND LUMEN_DEPENDENCIES_MISSING "OpenBLAS (libopenblas-openmp-dev)")
  endif()
  find_library(LUMEN_TURBOJPEG_LIBRARY NAMES turbojpeg)
  if(LUMEN_TURBOJPEG_LIBRARY AND NOT TARGET lumen::turbojpeg)
    add_library(lumen::turbojpeg UNKNOWN IMPORTED)
    set_target_properties(lumen::turbojpeg PROPERTIES
                          IMPORTED_LOCATION "${LUMEN_TURBOJPEG_LIBRARY}")
  elseif(NOT LUMEN_TURBOJPEG_LIBRARY)
    list(APPEND LUMEN_DEPENDENCIES_MISSING "TurboJPEG (libturbojpeg0-dev)")
  endif()
  find_package(ZLIB QUIET)
  if(NOT TARGET ZLIB::ZLIB)
    list(APPEND LUMEN_DEPENDENCIES_MISSING "zlib (zlib1g-dev)")
  endif()
  find_package(PkgConfig QUIET)
  if(NOT PKG_CONFIG_FOUND)
    list(APPEND LUMEN_DEPENDENCIES_MISSING "pkg-config (pkg-config)")
  else()
    if(NOT TARGET PkgConfig::LUMEN_TIFF)
      pkg_check_modules(LUMEN_TIFF QUIET IMPORTED_TARGET libtiff-4>=4.5)
    endif()
    if(NOT TARGET PkgConfig::LUMEN_TIFF)
      list(APPEND LUMEN_DEPENDENCIES_MISSING "libtiff 4.5 or later (libtiff-dev)")
    endif()
    if(NOT TARGET PkgConfig::LUMEN_WEBP)
      pkg_check_modules(LUMEN_WEBP QUIET IMPORTED_TARGET libwebp libwebpdemux)
    endif()
    if(NOT TARGET PkgConfig::LUMEN_WEBP)
      list(APPEND LUMEN_DEPENDENCIES_MISSING "libwebp and libwebpdemux (libwebp-dev)")
    endif()
    if(NOT TARGET PkgConfig::LUMEN_FFMPEG)
      pkg_check_modules(LUMEN_FFMPEG QUIET IMPORTED_TARGET libavformat libavcodec libswscale
                        libavutil)
    endif()
    if(NOT TARGET PkgConfig::LUMEN_FFMPEG)
      list(APPEND LUMEN_DEPENDENCIES_MISSING
           "FFmpeg's libavformat, libavcodec, libswscale, libavutil (libavformat-dev "
           "libavcodec-dev libswscale-dev)")
    endif()
  endif()
  if(${with_cuda})
    find_package(CUDAToolkit QUIET)
    if(NOT TARGET CUDA::cudart OR NOT TARGET CUDA::cublas OR NOT TARGET CUDA::cublasLt)
      list(APPEND LUMEN_DEPENDENCIES_MISSING "the CUDA toolkit (cudart, cuBLAS, cuBLASLt)")
    endif()
    find_package(CUDNN QUIET)
    if(NOT TARGET CUDNN::cudnn)
      list(APPEND LUMEN_DEPENDENCIES_MISSING "cuDNN 9 (set CUDNN_ROOT)")
    endif()
    find_package(NCCL QUIET)
    if(NOT TARGET NCCL::nccl)
      list(APPEND LUMEN_DEPENDENCIES_MISSING "NCCL (set NCCL_ROOT)")
    endif()
  endif()
endmacro()
