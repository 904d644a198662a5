#!/usr/bin/env python3
"""Authors the stage benchmark's inputs with pxr into OUTDIR.

    make_bench_stages.py OUTDIR

grid_100k.usdc  one Y-up grid mesh of about 100k triangles (quads), with a display color
grid_1m.usdc    the same with about 1M triangles
wide.usdc       /World/Wide with 10,000 children (hierarchy query timing)
"""
import math
import os
import sys

from pxr import Gf, Sdf, Usd, UsdGeom, Vt


def grid(path, triangles):
    n = int(math.ceil(math.sqrt(triangles / 2.0)))  # n x n quads, 2 triangles each
    stage = Usd.Stage.CreateNew(path)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    mesh = UsdGeom.Mesh.Define(stage, "/World/Grid")
    points = Vt.Vec3fArray([Gf.Vec3f(x, 0.05 * math.sin(x * 0.1) * math.cos(z * 0.1), z)
                            for z in range(n + 1) for x in range(n + 1)])
    indices = []
    for z in range(n):
        for x in range(n):
            a = z * (n + 1) + x
            indices += [a, a + n + 1, a + n + 2, a + 1]
    mesh.CreatePointsAttr(points)
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray([4] * (n * n)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray(indices))
    mesh.CreateDisplayColorAttr([Gf.Vec3f(0.3, 0.6, 0.9)])
    mesh.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(points))
    stage.GetRootLayer().Save()
    return 2 * n * n


def wide(path):
    layer = Sdf.Layer.CreateNew(path)
    with Sdf.ChangeBlock():
        world = Sdf.CreatePrimInLayer(layer, "/World")
        world.specifier = Sdf.SpecifierDef
        world.typeName = "Xform"
        parent = Sdf.PrimSpec(world, "Wide", Sdf.SpecifierDef, "Scope")
        for i in range(10000):
            Sdf.PrimSpec(parent, f"Item_{i:05d}", Sdf.SpecifierDef, "Xform")
    layer.defaultPrim = "World"
    layer.Save()


def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    counts = {}
    for name, tris in (("grid_100k.usdc", 100_000), ("grid_1m.usdc", 1_000_000)):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            counts[name] = grid(path, tris)
    if not os.path.exists(os.path.join(out, "wide.usdc")):
        wide(os.path.join(out, "wide.usdc"))
    print(counts)


if __name__ == "__main__":
    main()
