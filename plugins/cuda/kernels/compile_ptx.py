#!/usr/bin/env python3
"""Regenerates rgba_to_bgra.ptx from rgba_to_bgra.cu with NVRTC (no GPU needed).

    python3 -m venv /tmp/nvrtc && /tmp/nvrtc/bin/pip install nvidia-cuda-nvrtc-cu12
    /tmp/nvrtc/bin/python plugins/cuda/kernels/compile_ptx.py
"""
import ctypes
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ARCH = b"--gpu-architecture=compute_75"


def load_nvrtc():
    import nvidia.cuda_nvrtc  # noqa: F401  (installed by nvidia-cuda-nvrtc-cu12)
    base = list(nvidia.cuda_nvrtc.__path__)[0]
    libs = sorted(glob.glob(os.path.join(base, "lib", "libnvrtc.so.*")))
    if not libs:
        sys.exit("libnvrtc.so not found in " + base)
    return ctypes.CDLL(libs[0])


def check(nvrtc, code, what):
    if code != 0:
        nvrtc.nvrtcGetErrorString.restype = ctypes.c_char_p
        sys.exit(f"{what} failed: {nvrtc.nvrtcGetErrorString(code).decode()}")


def main():
    nvrtc = load_nvrtc()
    src = open(os.path.join(HERE, "rgba_to_bgra.cu"), "rb").read()
    prog = ctypes.c_void_p()
    check(nvrtc, nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src, b"rgba_to_bgra.cu", 0, None, None), "create")
    opts = (ctypes.c_char_p * 2)(ARCH, b"--use_fast_math")
    code = nvrtc.nvrtcCompileProgram(prog, 2, opts)
    log_size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(log_size))
    log = ctypes.create_string_buffer(log_size.value)
    nvrtc.nvrtcGetProgramLog(prog, log)
    if log.value.strip():
        print(log.value.decode(), file=sys.stderr)
    check(nvrtc, code, "compile")
    size = ctypes.c_size_t()
    check(nvrtc, nvrtc.nvrtcGetPTXSize(prog, ctypes.byref(size)), "ptx size")
    ptx = ctypes.create_string_buffer(size.value)
    check(nvrtc, nvrtc.nvrtcGetPTX(prog, ptx), "ptx")
    with open(os.path.join(HERE, "rgba_to_bgra.ptx"), "wb") as f:
        f.write(ptx.value)
    print("wrote rgba_to_bgra.ptx", len(ptx.value), "bytes")


if __name__ == "__main__":
    main()
