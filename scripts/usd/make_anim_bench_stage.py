#!/usr/bin/env python3
"""Authors the animation benchmark's input with pxr into OUTDIR.

    make_anim_bench_stage.py OUTDIR

anim_100k.usdc  a 316 x 316 grid (99,856 points, 99,225 quads) whose points carry 200 time
                samples (a travelling wave), time codes 1-200 at 24 per second
"""
import math
import os
import sys

from pxr import Gf, Usd, UsdGeom, Vt

N = 316
SAMPLES = 200


def main(out_dir):
    path = os.path.join(out_dir, "anim_100k.usdc")
    if os.path.exists(path):
        return
    stage = Usd.Stage.CreateNew(path)
    stage.SetStartTimeCode(1)
    stage.SetEndTimeCode(SAMPLES)
    stage.SetTimeCodesPerSecond(24)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    mesh = UsdGeom.Mesh.Define(stage, "/World/Wave")
    counts, indices = [], []
    for z in range(N - 1):
        for x in range(N - 1):
            a = z * N + x
            counts.append(4)
            indices += [a, a + N, a + N + 1, a + 1]
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray(counts))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray(indices))
    # y = 2 sin(0.05 x + 0.1 t) cos(0.05 z) = A(x, z) cos(0.1 t) + B(x, z) sin(0.1 t):
    # two fixed arrays blended per sample (Vt arithmetic, no per-point Python work per sample).
    grid = [(x, z) for z in range(N) for x in range(N)]
    base = Vt.Vec3fArray([Gf.Vec3f(x, 0, z) for x, z in grid])
    wave_a = Vt.Vec3fArray([Gf.Vec3f(0, 2 * math.sin(0.05 * x) * math.cos(0.05 * z), 0) for x, z in grid])
    wave_b = Vt.Vec3fArray([Gf.Vec3f(0, 2 * math.cos(0.05 * x) * math.cos(0.05 * z), 0) for x, z in grid])
    points = mesh.CreatePointsAttr()
    for t in range(1, SAMPLES + 1):
        points.Set(base + wave_a * math.cos(0.1 * t) + wave_b * math.sin(0.1 * t), t)
    stage.GetRootLayer().Save()


if __name__ == "__main__":
    main(sys.argv[1])
