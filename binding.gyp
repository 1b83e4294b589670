# Builds build/Release/pixelllm_native.node. The core is compiled for the baseline target (generic x86-64,
# never -march=native); the AVX2 and AVX-512 kernels are separate static libraries compiled with their own
# ISA flags and picked at run time by native/src/kernel_select.cc after checking the CPU (the element-wise AVX2
# library by native/src/elementwise.cc). On other architectures those libraries compile to stubs and the scalar
# kernels are used.
{
  "target_defaults": {
    "cflags": ["-O3", "-fPIC", "-fvisibility=hidden"],
    "cflags!": ["-O2", "-fno-omit-frame-pointer"],
    "cflags_cc": ["-std=c++17"],
    "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
    "xcode_settings": {
      "GCC_OPTIMIZATION_LEVEL": "3",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "MACOSX_DEPLOYMENT_TARGET": "10.15"
    },
    "msvs_settings": {"VCCLCompilerTool": {"Optimization": 2, "AdditionalOptions": ["/std:c++17"]}}
  },
  "targets": [
    {
      "target_name": "pixelllm_kernels_avx2",
      "type": "static_library",
      "sources": ["native/src/kernels_avx2.cc"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx2", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX2"]}}
        }]
      ]
    },
    {
      "target_name": "pixelllm_elementwise_avx2",
      "type": "static_library",
      "sources": ["native/src/elementwise_avx2.cc"],
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "cflags": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx2", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX2"]}}
        }]
      ]
    },
    {
      "target_name": "pixelllm_kernels_avx512",
      "type": "static_library",
      "sources": ["native/src/kernels_avx512.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          # -Wno-maybe-uninitialized: GCC 12 warns inside its own avx512fintrin.h shuffle intrinsics.
          "cflags": ["-mavx512f", "-mfma", "-Wno-maybe-uninitialized"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx512f", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX512"]}}
        }]
      ]
    },
    {
      "target_name": "pixelllm_native",
      "dependencies": ["pixelllm_kernels_avx2", "pixelllm_kernels_avx512", "pixelllm_elementwise_avx2"],
      "sources": [
        "native/src/addon.cc",
        "native/src/attention.cc",
        "native/src/conv_taps.cc",
        "native/src/elementwise.cc",
        "native/src/elementwise_scalar.cc",
        "native/src/js_args.cc",
        "native/src/gemm.cc",
        "native/src/gemm_blocked.cc",
        "native/src/gemv.cc",
        "native/src/kernel_select.cc",
        "native/src/kernels_scalar.cc",
        "native/src/strided_copy.cc",
        "native/src/thread_pool.cc",
        "native/src/training.cc",
        "native/src/workspace.cc"
      ],
      "cflags": ["-ffp-contract=off", "-fno-math-errno"],
      "xcode_settings": {"OTHER_CFLAGS": ["-ffp-contract=off", "-fno-math-errno"]}
    }
  ]
}
