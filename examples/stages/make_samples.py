#!/usr/bin/env python3
"""Authors the sample stages the host opens by default, with Pixar's pxr (pip: usd-core).

    scripts/usd/setup-venv.sh            # once; prints the venv's python
    .venv/usd/bin/python examples/stages/make_samples.py

Writes, next to this script:
  sample_yup.usda  Y-up, /World with a ground plane, a red cube, a green sphere, a blue cylinder
                   (spread apart so each is visible from a 3/4 view), an Xform hierarchy, a
                   camera, and a `shapeVariant` variant set on /World/Props/Showcase.
  sample_zup.usda  Z-up, metersPerUnit 1, a few meshes.
"""
import math
import os

from pxr import Gf, Sdf, Usd, UsdGeom, Vt

HERE = os.path.dirname(os.path.abspath(__file__))


def box(stage, path, size, color):
    """An axis-aligned cube mesh of edge `size`, centered on its origin."""
    h = size / 2.0
    pts = [Gf.Vec3f(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return mesh(stage, path, pts, faces, color)


def sphere(stage, path, radius, color, rings=6, segments=10):
    pts = [Gf.Vec3f(0, radius, 0)]
    for r in range(1, rings):
        phi = math.pi * r / rings
        for s in range(segments):
            theta = 2 * math.pi * s / segments
            pts.append(Gf.Vec3f(round(radius * math.sin(phi) * math.cos(theta), 3), round(radius * math.cos(phi), 3),
                                round(radius * math.sin(phi) * math.sin(theta), 3)))
    pts.append(Gf.Vec3f(0, -radius, 0))
    faces = []
    for s in range(segments):
        faces.append((0, 1 + (s + 1) % segments, 1 + s))
    for r in range(rings - 2):
        for s in range(segments):
            a = 1 + r * segments + s
            b = 1 + r * segments + (s + 1) % segments
            faces.append((a, b, b + segments, a + segments))
    last = len(pts) - 1
    base = 1 + (rings - 2) * segments
    for s in range(segments):
        faces.append((last, base + s, base + (s + 1) % segments))
    return mesh(stage, path, pts, faces, color)


def cylinder(stage, path, radius, height, color, segments=12):
    pts = []
    for y in (-height / 2, height / 2):
        for s in range(segments):
            t = 2 * math.pi * s / segments
            pts.append(Gf.Vec3f(round(radius * math.cos(t), 3), y, round(radius * math.sin(t), 3)))
    faces = [(s, (s + 1) % segments, segments + (s + 1) % segments, segments + s) for s in range(segments)]
    faces.append(tuple(reversed(range(segments))))
    faces.append(tuple(range(segments, 2 * segments)))
    return mesh(stage, path, pts, faces, color)


def mesh(stage, path, pts, faces, color):
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr(Vt.Vec3fArray(pts))
    m.CreateFaceVertexCountsAttr([len(f) for f in faces])
    m.CreateFaceVertexIndicesAttr([i for f in faces for i in f])
    m.CreateDisplayColorAttr([Gf.Vec3f(*color)])
    m.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(Vt.Vec3fArray(pts)))
    return m


def make_yup(path):
    stage = Usd.Stage.CreateNew(path)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 0.01)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    ground = mesh(stage, "/World/Ground", [Gf.Vec3f(-300, 0, -300), Gf.Vec3f(300, 0, -300), Gf.Vec3f(300, 0, 300),
                                           Gf.Vec3f(-300, 0, 300)], [(0, 3, 2, 1)], (0.45, 0.45, 0.45))
    ground.CreateNormalsAttr([Gf.Vec3f(0, 1, 0)] * 4)
    props = UsdGeom.Xform.Define(stage, "/World/Props")
    props.AddTranslateOp().Set(Gf.Vec3d(0, 0, 0))
    red = UsdGeom.Xform.Define(stage, "/World/Props/RedGroup")
    red.AddTranslateOp().Set(Gf.Vec3d(-150, 50, 0))
    red.AddRotateXYZOp().Set(Gf.Vec3f(0, 30, 0))
    box(stage, "/World/Props/RedGroup/RedCube", 100, (0.9, 0.1, 0.1))
    green = sphere(stage, "/World/Props/GreenSphere", 50, (0.1, 0.8, 0.2))
    green.AddTranslateOp().Set(Gf.Vec3d(0, 50, -120))
    blue = cylinder(stage, "/World/Props/BlueCylinder", 40, 120, (0.1, 0.3, 0.9))
    blue.AddTranslateOp().Set(Gf.Vec3d(150, 60, 0))
    # A variant set: the showcase prim is a small cube or a small sphere.
    showcase = UsdGeom.Xform.Define(stage, "/World/Props/Showcase")
    showcase.AddTranslateOp().Set(Gf.Vec3d(0, 30, 140))
    vset = showcase.GetPrim().GetVariantSets().AddVariantSet("shapeVariant")
    for name in ("cube", "sphere"):
        vset.AddVariant(name)
        vset.SetVariantSelection(name)
        with vset.GetVariantEditContext():
            if name == "cube":
                box(stage, "/World/Props/Showcase/Shape", 60, (0.95, 0.75, 0.1))
            else:
                sphere(stage, "/World/Props/Showcase/Shape", 30, (0.8, 0.2, 0.8))
    vset.SetVariantSelection("cube")
    cam = UsdGeom.Camera.Define(stage, "/World/Camera")
    cam.AddTranslateOp().Set(Gf.Vec3d(0, 250, 600))
    cam.AddRotateXYZOp().Set(Gf.Vec3f(-20, 0, 0))
    cam.CreateFocalLengthAttr(35.0)
    cam.CreateClippingRangeAttr(Gf.Vec2f(1, 10000))
    light = stage.DefinePrim("/World/Sun", "DistantLight")
    light.CreateAttribute("inputs:intensity", Sdf.ValueTypeNames.Float).Set(3000.0)
    stage.GetRootLayer().Save()


def make_zup(path):
    stage = Usd.Stage.CreateNew(path)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    mesh(stage, "/World/Floor", [Gf.Vec3f(-3, -3, 0), Gf.Vec3f(3, -3, 0), Gf.Vec3f(3, 3, 0), Gf.Vec3f(-3, 3, 0)],
         [(0, 1, 2, 3)], (0.5, 0.5, 0.5))
    tower = box(stage, "/World/Tower", 1.0, (0.9, 0.4, 0.1))
    tower.AddTranslateOp().Set(Gf.Vec3d(-1.5, 0, 1.5))
    tower.AddScaleOp().Set(Gf.Vec3f(1, 1, 3))
    ball = sphere(stage, "/World/Ball", 0.6, (0.1, 0.6, 0.9))
    ball.AddTranslateOp().Set(Gf.Vec3d(1.5, 0, 0.6))
    ball.AddRotateXOp().Set(90.0)
    stage.GetRootLayer().Save()


if __name__ == "__main__":
    make_yup(os.path.join(HERE, "sample_yup.usda"))
    make_zup(os.path.join(HERE, "sample_zup.usda"))
    print("wrote sample_yup.usda and sample_zup.usda in", HERE)
