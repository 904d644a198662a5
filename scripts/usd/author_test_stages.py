#!/usr/bin/env python3
"""Authors the stage service's test stages with pxr into OUTDIR (the test's asset root).

    author_test_stages.py OUTDIR

composed.usda/.usdc/.usdz  sublayers, references, payloads, variants, inherits, specializes,
                           native instancing, a PointInstancer, invisible / guide / inactive
                           prims, every xformOp kind, faceVarying normals, indexed uniform colors
zup_meters.usda            Z-up, metersPerUnit 1, defaultPrim "Robot", a /Render scope
no_default.usda            no /World, no defaultPrim: the root is the first non-viewer prim
wide.usdc                  /World/Wide with 10,000 children
gprims.usda                every implicit gprim (Cube, Sphere, Cylinder, Cone, Capsule, Plane,
                           Cylinder_1, Capsule_1) with fallback and authored attributes on each
                           axis under a translated, rotated, scaled parent; a hidden and a guide one
crash.usda                 nested inherits that recurse without end in openusd
truncated.usdc, not_usd.usda  bad input
"""
import os
import shutil
import sys

from pxr import Gf, Sdf, Usd, UsdGeom, UsdUtils, Vt


def quad_mesh(stage, path, size=1.0, color=None):
    h = size / 2.0
    pts = [Gf.Vec3f(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr(Vt.Vec3fArray(pts))
    m.CreateFaceVertexCountsAttr([4] * 6)
    m.CreateFaceVertexIndicesAttr([i for f in faces for i in f])
    m.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(Vt.Vec3fArray(pts)))
    if color:
        m.CreateDisplayColorAttr([Gf.Vec3f(*color)])
    return m


def polygon_mesh(stage, path, sides, radius):
    """One n-gon plus a pentagon: fan triangulation gives (n-2) + 3 triangles."""
    import math
    pts = [Gf.Vec3f(radius * math.cos(2 * math.pi * i / sides), radius * math.sin(2 * math.pi * i / sides), 0)
           for i in range(sides)]
    pts += [Gf.Vec3f(p[0], p[1], 1.0) for p in pts[:5]]
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr(Vt.Vec3fArray(pts))
    m.CreateFaceVertexCountsAttr([sides, 5])
    m.CreateFaceVertexIndicesAttr(list(range(sides)) + list(range(sides, sides + 5)))
    m.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(Vt.Vec3fArray(pts)))
    return m


def make_assets(out):
    # Referenced asset: an instanceable chair-like model.
    ref = Usd.Stage.CreateNew(os.path.join(out, "ref_asset.usda"))
    model = UsdGeom.Xform.Define(ref, "/Model")
    ref.SetDefaultPrim(model.GetPrim())
    seat = quad_mesh(ref, "/Model/Seat", 1.0, (0.6, 0.3, 0.1))
    seat.AddScaleOp().Set(Gf.Vec3f(2, 0.2, 2))
    leg = quad_mesh(ref, "/Model/Leg", 0.2)
    leg.AddTranslateOp().Set(Gf.Vec3d(0, -1, 0))
    ref.GetRootLayer().Save()
    # Payload asset.
    pay = Usd.Stage.CreateNew(os.path.join(out, "payload_asset.usda"))
    heavy = UsdGeom.Xform.Define(pay, "/Heavy")
    pay.SetDefaultPrim(heavy.GetPrim())
    polygon_mesh(pay, "/Heavy/Disc", 12, 2.0)
    pay.GetRootLayer().Save()
    # Sublayer with an opinion on a prim defined in the root and a prim of its own.
    sub = Sdf.Layer.CreateNew(os.path.join(out, "sub_layer.usda"))
    sub_stage = Usd.Stage.Open(sub)
    UsdGeom.Xform.Define(sub_stage, "/World")
    quad_mesh(sub_stage, "/World/FromSublayer", 1.0, (0.2, 0.2, 0.9)).AddTranslateOp().Set(Gf.Vec3d(0, 0, -8))
    sub.Save()


def make_composed(out):
    path = os.path.join(out, "composed.usda")
    stage = Usd.Stage.CreateNew(path)
    stage.GetRootLayer().subLayerPaths.append("./sub_layer.usda")
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 0.01)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())

    # Every xformOp kind.
    ops = UsdGeom.Xform.Define(stage, "/World/Ops")
    ops.AddTranslateOp().Set(Gf.Vec3d(10, 0, 0))
    ops.AddRotateZYXOp().Set(Gf.Vec3f(10, 20, 30))
    ops.AddTranslateOp(opSuffix="pivot").Set(Gf.Vec3d(0.5, 0, 0))
    ops.AddScaleOp().Set(Gf.Vec3f(1, 2, 1))
    ops.AddTranslateOp(opSuffix="pivot", isInverseOp=True)
    m = quad_mesh(stage, "/World/Ops/Oriented", 1.0, (1, 0, 0))
    m.AddOrientOp().Set(Gf.Quatf(0.9238795, 0, 0.3826834, 0))
    m.AddRotateXOp().Set(15.0)
    m.AddRotateYOp().Set(25.0)
    m.AddRotateZOp().Set(35.0)
    m2 = quad_mesh(stage, "/World/Ops/Matrix", 1.0)
    m2.AddTransformOp().Set(Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(1, 1, 0), 40)) *
                            Gf.Matrix4d().SetTranslate(Gf.Vec3d(0, 3, 0)))
    reset = quad_mesh(stage, "/World/Ops/Reset", 0.5)
    reset.SetResetXformStack(True)
    reset.AddTranslateOp().Set(Gf.Vec3d(-20, 1, 1))

    # Primvars: faceVarying normals, indexed uniform colors, left-handed winding.
    pv = quad_mesh(stage, "/World/Primvars", 1.0)
    pv.AddTranslateOp().Set(Gf.Vec3d(0, 0, 6))
    pv.CreateNormalsAttr([Gf.Vec3f(0, 0, 1)] * 24)
    pv.SetNormalsInterpolation(UsdGeom.Tokens.faceVarying)
    colors = UsdGeom.PrimvarsAPI(pv).CreatePrimvar("displayColor", Sdf.ValueTypeNames.Color3fArray,
                                                   UsdGeom.Tokens.uniform)
    colors.Set([Gf.Vec3f(1, 0, 0), Gf.Vec3f(0, 1, 0)])
    colors.SetIndices(Vt.IntArray([0, 1, 0, 1, 0, 1]))
    pv.CreateOrientationAttr(UsdGeom.Tokens.leftHanded)

    # References + native instancing (3 instances of one prototype).
    for i in range(3):
        inst = UsdGeom.Xform.Define(stage, f"/World/Chairs/Chair_{i}")
        inst.GetPrim().GetReferences().AddReference("./ref_asset.usda")
        inst.GetPrim().SetInstanceable(True)
        inst.AddTranslateOp().Set(Gf.Vec3d(4 * i, 0, -4))
    # A non-instanced reference.
    solo = UsdGeom.Xform.Define(stage, "/World/SoloChair")
    solo.GetPrim().GetReferences().AddReference("./ref_asset.usda", "/Model")
    solo.AddTranslateOp().Set(Gf.Vec3d(-6, 0, 0))
    # Payload.
    heavy = UsdGeom.Xform.Define(stage, "/World/Heavy")
    heavy.GetPrim().GetPayloads().AddPayload("./payload_asset.usda")
    heavy.AddTranslateOp().Set(Gf.Vec3d(0, 5, 0))

    # Variants: the selected variant adds geometry.
    varprim = UsdGeom.Xform.Define(stage, "/World/Switch")
    vset = varprim.GetPrim().GetVariantSets().AddVariantSet("size")
    for name, size in (("small", 0.5), ("large", 3.0)):
        vset.AddVariant(name)
        vset.SetVariantSelection(name)
        with vset.GetVariantEditContext():
            quad_mesh(stage, f"/World/Switch/Box_{name}", size)
    vset.SetVariantSelection("small")

    # Inherits and specializes from classes.
    cls = stage.CreateClassPrim("/_Base")
    UsdGeom.Xformable(cls).AddTranslateOp().Set(Gf.Vec3d(0, 0, 12))
    quad_mesh(stage, "/_Base/Body", 1.0)
    inh = stage.DefinePrim("/World/Inheritor", "Xform")
    inh.GetInherits().AddInherit("/_Base")
    spec_base = stage.CreateClassPrim("/_Special")
    polygon_mesh(stage, "/_Special/Shape", 7, 1.0)
    spz = stage.DefinePrim("/World/Specialized", "Xform")
    spz.GetSpecializes().AddSpecialize("/_Special")
    UsdGeom.Xformable(spz).AddTranslateOp().Set(Gf.Vec3d(8, 0, 8))

    # PointInstancer with two prototypes and 5 instances (one hidden by invisibleIds).
    pi = UsdGeom.PointInstancer.Define(stage, "/World/Scatter")
    pi.AddTranslateOp().Set(Gf.Vec3d(0, 0, 20))
    protos = UsdGeom.Scope.Define(stage, "/World/Scatter/Protos")
    quad_mesh(stage, "/World/Scatter/Protos/Cube", 0.5)
    tri = polygon_mesh(stage, "/World/Scatter/Protos/Poly", 6, 0.4)
    tri.AddTranslateOp().Set(Gf.Vec3d(0, 0.5, 0))
    pi.CreatePrototypesRel().SetTargets(["/World/Scatter/Protos/Cube", "/World/Scatter/Protos/Poly"])
    pi.CreateProtoIndicesAttr([0, 1, 0, 1, 1])
    pi.CreatePositionsAttr([Gf.Vec3f(i * 2.0, 0, 0) for i in range(5)])
    pi.CreateOrientationsAttr([Gf.Quath(1, 0, 0, 0), Gf.Quath(0.7071068, 0, 0.7071068, 0), Gf.Quath(1, 0, 0, 0),
                               Gf.Quath(1, 0, 0, 0), Gf.Quath(0.7071068, 0.7071068, 0, 0)])
    pi.CreateScalesAttr([Gf.Vec3f(1, 1, 1), Gf.Vec3f(2, 2, 2), Gf.Vec3f(1, 3, 1), Gf.Vec3f(1, 1, 1),
                         Gf.Vec3f(1, 1, 1)])
    pi.CreateInvisibleIdsAttr([3])

    # Not drawn: invisible (inherited), guide purpose, inactive (with children), over-only.
    hidden = UsdGeom.Xform.Define(stage, "/World/Hidden")
    hidden.CreateVisibilityAttr(UsdGeom.Tokens.invisible)
    quad_mesh(stage, "/World/Hidden/Child", 50.0)
    guide = quad_mesh(stage, "/World/Guide", 60.0)
    guide.CreatePurposeAttr(UsdGeom.Tokens.guide)
    inactive = UsdGeom.Xform.Define(stage, "/World/Inactive")
    quad_mesh(stage, "/World/Inactive/Child", 70.0)
    inactive.GetPrim().SetActive(False)
    stage.OverridePrim("/World/OnlyOver")
    # Misc typed prims for type classes.
    cam = UsdGeom.Camera.Define(stage, "/World/Cam")
    cam.AddTranslateOp().Set(Gf.Vec3d(0, 2, 30))
    cam.CreateFocalLengthAttr(24.0)
    stage.DefinePrim("/World/Lights", "Scope")
    stage.DefinePrim("/World/Lights/Key", "SphereLight")
    stage.DefinePrim("/World/Looks", "Scope")
    stage.DefinePrim("/World/Looks/Mat", "Material")
    stage.GetRootLayer().Save()

    # usdc copy of the root layer (same external files) and a usdz package of everything.
    stage.GetRootLayer().Export(os.path.join(out, "composed.usdc"))
    UsdUtils.CreateNewUsdzPackage(Sdf.AssetPath(path), os.path.join(out, "composed.usdz"))


def make_zup(out):
    stage = Usd.Stage.CreateNew(os.path.join(out, "zup_meters.usda"))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    stage.DefinePrim("/Render", "Scope")
    robot = UsdGeom.Xform.Define(stage, "/Robot")
    stage.SetDefaultPrim(robot.GetPrim())
    base = quad_mesh(stage, "/Robot/Base", 1.0)
    base.AddTranslateOp().Set(Gf.Vec3d(0, 0, 0.5))
    arm = quad_mesh(stage, "/Robot/Arm", 0.3)
    arm.AddTranslateOp().Set(Gf.Vec3d(0, 0, 1.5))
    arm.AddScaleOp().Set(Gf.Vec3f(1, 1, 4))
    stage.GetRootLayer().Save()

    nd = Usd.Stage.CreateNew(os.path.join(out, "no_default.usda"))
    nd.DefinePrim("/Render", "Scope")
    nd.DefinePrim("/Settings", "RenderSettings")
    env = UsdGeom.Xform.Define(nd, "/Env")
    quad_mesh(nd, "/Env/Box", 2.0)
    UsdGeom.Xform.Define(nd, "/Other")
    nd.GetRootLayer().Save()


def make_wide(out):
    layer = Sdf.Layer.CreateNew(os.path.join(out, "wide.usdc"))
    with Sdf.ChangeBlock():
        world = Sdf.CreatePrimInLayer(layer, "/World")
        world.specifier = Sdf.SpecifierDef
        world.typeName = "Xform"
        wide = Sdf.PrimSpec(world, "Wide", Sdf.SpecifierDef, "Scope")
        for i in range(10000):
            Sdf.PrimSpec(wide, f"Item_{i:05d}", Sdf.SpecifierDef, "Xform")
    layer.defaultPrim = "World"
    layer.Save()


def make_gprims(out):
    stage = Usd.Stage.CreateNew(os.path.join(out, "gprims.usda"))
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    parent = UsdGeom.Xform.Define(stage, "/World/Shapes")
    # Quarter-turn rotation: the world box of each shape stays its analytic box (no corner slack).
    parent.AddTranslateOp().Set(Gf.Vec3d(5, -2, 3))
    parent.AddRotateXOp().Set(90.0)
    parent.AddScaleOp().Set(Gf.Vec3f(2, 1, 0.5))
    shapes = []  # (name, type, {attr: (sdf type, value)})
    for t in ["Cube", "Sphere", "Cylinder", "Cone", "Capsule", "Plane", "Cylinder_1", "Capsule_1"]:
        shapes.append((t + "Default", t, {}))
    shapes.append(("CubeSized", "Cube", {"size": (Sdf.ValueTypeNames.Double, 3.0)}))
    shapes.append(("SphereSmall", "Sphere", {"radius": (Sdf.ValueTypeNames.Double, 0.75)}))
    D = Sdf.ValueTypeNames.Double
    for axis in ["X", "Y", "Z"]:
        a = {"axis": (Sdf.ValueTypeNames.Token, axis)}
        shapes.append(("Cylinder" + axis, "Cylinder", dict(a, height=(D, 3.0), radius=(D, 0.5))))
        shapes.append(("Cone" + axis, "Cone", dict(a, height=(D, 1.5), radius=(D, 0.8))))
        shapes.append(("Capsule" + axis, "Capsule", dict(a, height=(D, 2.0), radius=(D, 0.3))))
        shapes.append(("Plane" + axis, "Plane", dict(a, width=(D, 3.0), length=(D, 1.0))))
        shapes.append(("Cylinder_1" + axis, "Cylinder_1",
                       dict(a, height=(D, 2.0), radiusTop=(D, 0.25), radiusBottom=(D, 0.75))))
        shapes.append(("Capsule_1" + axis, "Capsule_1",
                       dict(a, height=(D, 1.5), radiusTop=(D, 0.4), radiusBottom=(D, 0.4))))
        shapes.append(("Capsule_1Tapered" + axis, "Capsule_1",
                       dict(a, height=(D, 1.5), radiusTop=(D, 0.2), radiusBottom=(D, 0.4))))
    for i, (name, type_name, attrs) in enumerate(shapes):
        prim = stage.DefinePrim("/World/Shapes/" + name, type_name)
        for attr, (value_type, value) in attrs.items():
            prim.CreateAttribute(attr, value_type).Set(value)
        UsdGeom.Xformable(prim).AddTranslateOp().Set(Gf.Vec3d((i % 8) * 5.0, (i // 8) * 5.0, 0))
    UsdGeom.Gprim(stage.GetPrimAtPath("/World/Shapes/CubeSized")).CreateDisplayColorAttr([Gf.Vec3f(1, 0, 0)])
    hidden = UsdGeom.Sphere.Define(stage, "/World/Hidden")
    hidden.CreateRadiusAttr(100.0)
    hidden.CreateVisibilityAttr(UsdGeom.Tokens.invisible)
    guide = UsdGeom.Cube.Define(stage, "/World/Guide")
    guide.CreateSizeAttr(200.0)
    guide.CreatePurposeAttr(UsdGeom.Tokens.guide)
    stage.GetRootLayer().Save()


def make_bad(out):
    # Classes that inherit each other through nested children: pxr reports a cycle and keeps
    # going; openusd 0.6.0 recurses until its stack overflows.
    with open(os.path.join(out, "crash.usda"), "w") as f:
        with open(CRASH_USDA_PATH) as crash:
            f.write(crash.read())
    data = open(os.path.join(out, "composed.usdc"), "rb").read()
    with open(os.path.join(out, "truncated.usdc"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(out, "not_usd.usda"), "w") as f:
        f.write("this is a shopping list, not a USD layer\n- eggs\n- milk {{{\n")


# Nested inherits that recurse without end in openusd; shared with the Rust tests.
CRASH_USDA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "stages", "nested_inherits_crash.usda")


def main():
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    make_assets(out)
    make_composed(out)
    make_zup(out)
    make_wide(out)
    make_gprims(out)
    make_bad(out)


if __name__ == "__main__":
    main()
