// RGBA8 -> BGRA8 on the GPU. Compiled to PTX by compile_ptx.py (NVRTC, compute_75) and embedded
// in the crate as rgba_to_bgra.ptx, so the target needs only the driver, not NVRTC.
//
// One thread converts 4 consecutive pixels of one row: a 16-byte vector load/store when both
// addresses are 16-byte aligned and the 4 pixels are inside the row, 4-byte words when both are
// 4-byte aligned, bytes otherwise (odd pitches). grid = (ceil(ceil(width / 4) / blockDim.x), height).

__device__ __forceinline__ unsigned int swap_rb(unsigned int p) {
    // Result bytes (low to high): source byte 2 (B), 1 (G), 0 (R), 3 (A).
    return __byte_perm(p, 0, 0x3012);
}

extern "C" __global__ void rgba_to_bgra(const unsigned char* __restrict__ src, unsigned long long src_pitch,
                                        unsigned char* __restrict__ dst, unsigned long long dst_pitch,
                                        unsigned int width, unsigned int height) {
    unsigned int y = blockIdx.y;
    unsigned int x = (blockIdx.x * blockDim.x + threadIdx.x) * 4u;
    if (y >= height || x >= width) {
        return;
    }
    const unsigned char* s = src + y * src_pitch + (unsigned long long)x * 4ull;
    unsigned char* d = dst + y * dst_pitch + (unsigned long long)x * 4ull;
    unsigned int n = min(4u, width - x);
    unsigned long long align = (unsigned long long)s | (unsigned long long)d;
    if (n == 4u && (align & 15ull) == 0ull) {
        uint4 v = *reinterpret_cast<const uint4*>(s);
        v.x = swap_rb(v.x);
        v.y = swap_rb(v.y);
        v.z = swap_rb(v.z);
        v.w = swap_rb(v.w);
        *reinterpret_cast<uint4*>(d) = v;
    } else if ((align & 3ull) == 0ull) {
        for (unsigned int i = 0; i < n; ++i) {
            reinterpret_cast<unsigned int*>(d)[i] = swap_rb(reinterpret_cast<const unsigned int*>(s)[i]);
        }
    } else {
        for (unsigned int i = 0; i < n; ++i) {
            d[i * 4 + 0] = s[i * 4 + 2];
            d[i * 4 + 1] = s[i * 4 + 1];
            d[i * 4 + 2] = s[i * 4 + 0];
            d[i * 4 + 3] = s[i * 4 + 3];
        }
    }
}
