#!/usr/bin/env python3
"""Animated test stages, and pxr as the oracle for stage time.

    time_stages.py author DIR             -> writes DIR/anim.usda (and anim_unranged.usda)
    time_stages.py oracle STAGE T...      -> JSON: the stage's time metadata, and per time code
                                             per prim: world transform (UsdGeom.XformCache),
                                             world bounds (UsdGeom.BBoxCache, default + render),
                                             and Mesh points

anim.usda: startTimeCode 1, endTimeCode 48, 24 codes per second;
  /World/Mover     translate and rotateY sampled (interpolated), scale held at one sample
  /World/Mover/Box a Cube (size 2) under it
  /World/Blinker   a Sphere whose visibility is sampled (held: tokens never interpolate)
  /World/Wave      a Mesh whose points are sampled at 1, 24, 48
  /World/Still     a static Cube
anim_unranged.usda: one xform animated at 10..20, no authored time range.
tet.usda: a TetMesh of two tetrahedra sharing a face, translated.
curves.usda: BasisCurves of every type/basis/wrap with constant, vertex and no widths; Points with widths.
anim_shapes.usda: startTimeCode 1, endTimeCode 24: a Sphere whose radius and displayColor are
  sampled, linear BasisCurves and Points whose points and widths are sampled, a TetMesh whose
  points are sampled, a static Cube, and a PointInstancer of 3 cubes whose invisibleIds is
  sampled (none at 1, id 1 from 10, ids 0 and 2 from 20), and a Camera whose translate,
  rotateY, focalLength and clippingRange are sampled.
skinned.usda: a 3-joint arm (UsdSkel) skinning a 28-point column, rotations sampled at 1, 12, 24,
  and a sparse blend shape on its top ring weighted 0, 1, 0.5 at 1, 12, 24.

    time_stages.py camera STAGE PATH T... -> JSON: {T: world transform, vertical field of view,
                                             clipping range} of the camera at PATH (pxr GfCamera)
    time_stages.py skinned STAGE T...     -> JSON: {T: world-space points of /Rig/Arm} from pxr's
                                             UsdSkel.BakeSkinning, and the stage's time range
"""
import json
import sys

from pxr import Gf, Sdf, Usd, UsdGeom, UsdSkel, Vt

PURPOSES = [UsdGeom.Tokens.default_, UsdGeom.Tokens.render]


def author(out_dir):
    stage = Usd.Stage.CreateNew(f"{out_dir}/anim.usda")
    stage.SetStartTimeCode(1)
    stage.SetEndTimeCode(48)
    stage.SetTimeCodesPerSecond(24)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())

    mover = UsdGeom.Xform.Define(stage, "/World/Mover")
    translate = mover.AddTranslateOp()
    translate.Set(Gf.Vec3d(0, 0, 0), 1)
    translate.Set(Gf.Vec3d(10, 0, 0), 24)
    translate.Set(Gf.Vec3d(10, 5, -2), 48)
    rotate = mover.AddRotateYOp()
    rotate.Set(0.0, 1)
    rotate.Set(170.0, 48)
    mover.AddScaleOp().Set(Gf.Vec3f(1.5, 1.5, 1.5), 1)
    box = UsdGeom.Cube.Define(stage, "/World/Mover/Box")
    box.CreateSizeAttr(2.0)
    box.AddTranslateOp().Set(Gf.Vec3d(3, 0, 0))

    blinker = UsdGeom.Sphere.Define(stage, "/World/Blinker")
    blinker.CreateRadiusAttr(0.5)
    blinker.AddTranslateOp().Set(Gf.Vec3d(-4, 0, 0))
    vis = blinker.CreateVisibilityAttr()
    vis.Set(UsdGeom.Tokens.inherited, 1)
    vis.Set(UsdGeom.Tokens.invisible, 20)
    vis.Set(UsdGeom.Tokens.inherited, 30)

    wave = UsdGeom.Mesh.Define(stage, "/World/Wave")
    wave.CreateFaceVertexCountsAttr([4])
    wave.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    wave.AddTranslateOp().Set(Gf.Vec3d(0, -3, 0))
    pts = wave.CreatePointsAttr()
    for t, lift in ((1, 0.0), (24, 2.0), (48, -1.0)):
        pts.Set(Vt.Vec3fArray([(0, 0, 0), (2, 0, 0), (2, lift, 2), (0, 0, 2)]), t)

    still = UsdGeom.Cube.Define(stage, "/World/Still")
    still.AddTranslateOp().Set(Gf.Vec3d(0, 0, -6))
    stage.GetRootLayer().Save()

    stage = Usd.Stage.CreateNew(f"{out_dir}/anim_unranged.usda")
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    slider = UsdGeom.Xform.Define(stage, "/World/Slider")
    op = slider.AddTranslateOp()
    op.Set(Gf.Vec3d(0, 0, 0), 10)
    op.Set(Gf.Vec3d(0, 4, 0), 20)
    UsdGeom.Cube.Define(stage, "/World/Slider/Box")
    stage.GetRootLayer().Save()


def author_shapes(out_dir):
    stage = Usd.Stage.CreateNew(f"{out_dir}/anim_shapes.usda")
    stage.SetStartTimeCode(1)
    stage.SetEndTimeCode(24)
    stage.SetTimeCodesPerSecond(24)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    ball = UsdGeom.Sphere.Define(stage, "/World/Ball")
    ball.AddTranslateOp().Set(Gf.Vec3d(-4, 0, 0))
    radius = ball.CreateRadiusAttr()
    radius.Set(0.5, 1)
    radius.Set(2.0, 24)
    color = ball.CreateDisplayColorAttr()
    color.Set(Vt.Vec3fArray([(1, 0, 0)]), 1)
    color.Set(Vt.Vec3fArray([(0, 0, 1)]), 24)
    hair = UsdGeom.BasisCurves.Define(stage, "/World/Hair")
    hair.CreateTypeAttr(UsdGeom.Tokens.linear)
    hair.CreateCurveVertexCountsAttr([3])
    pts = hair.CreatePointsAttr()
    pts.Set(Vt.Vec3fArray([(0, 0, 0), (1, 1, 0), (2, 0, 0)]), 1)
    pts.Set(Vt.Vec3fArray([(0, 0, 0), (1, 3, 1), (2, 0, 2)]), 24)
    widths = hair.CreateWidthsAttr()
    hair.SetWidthsInterpolation(UsdGeom.Tokens.constant)
    widths.Set(Vt.FloatArray([0.1]), 1)
    widths.Set(Vt.FloatArray([0.4]), 24)
    dots = UsdGeom.Points.Define(stage, "/World/Dots")
    dots.AddTranslateOp().Set(Gf.Vec3d(0, 0, 5))
    dpts = dots.CreatePointsAttr()
    dpts.Set(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0)]), 1)
    dpts.Set(Vt.Vec3fArray([(0, 2, 0), (3, 0, 0)]), 24)
    dw = dots.CreateWidthsAttr()
    dw.Set(Vt.FloatArray([0.2, 0.2]), 1)
    dw.Set(Vt.FloatArray([0.6, 1.0]), 24)
    tet = UsdGeom.TetMesh.Define(stage, "/World/Tet")
    tet.AddTranslateOp().Set(Gf.Vec3d(5, 0, 0))
    tet.CreateTetVertexIndicesAttr(Vt.Vec4iArray([(0, 1, 2, 3)]))
    tpts = tet.CreatePointsAttr()
    tpts.Set(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]), 1)
    tpts.Set(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0), (0, 3, 0), (0, 0, 1)]), 24)
    UsdGeom.Cube.Define(stage, "/World/Still").AddTranslateOp().Set(Gf.Vec3d(0, 0, -6))
    crowd = UsdGeom.PointInstancer.Define(stage, "/World/Crowd")
    crowd.AddTranslateOp().Set(Gf.Vec3d(0, 0, -12))
    UsdGeom.Cube.Define(stage, "/World/Crowd/Protos/Box").CreateSizeAttr(1.0)
    crowd.CreatePrototypesRel().SetTargets(["/World/Crowd/Protos/Box"])
    crowd.CreateProtoIndicesAttr([0, 0, 0])
    crowd.CreatePositionsAttr(Vt.Vec3fArray([(-3, 0, 0), (0, 0, 0), (3, 0, 0)]))
    mask = crowd.CreateInvisibleIdsAttr()
    mask.Set(Vt.Int64Array([]), 1)
    mask.Set(Vt.Int64Array([1]), 10)
    mask.Set(Vt.Int64Array([0, 2]), 20)
    cam = UsdGeom.Camera.Define(stage, "/World/Cam")
    ct = cam.AddTranslateOp()
    ct.Set(Gf.Vec3d(0, 1, 10), 1)
    ct.Set(Gf.Vec3d(4, 1, 20), 24)
    cr = cam.AddRotateYOp()
    cr.Set(0.0, 1)
    cr.Set(30.0, 24)
    focal = cam.CreateFocalLengthAttr()
    focal.Set(24.0, 1)
    focal.Set(85.0, 24)
    clip = cam.CreateClippingRangeAttr()
    clip.Set(Gf.Vec2f(0.1, 100), 1)
    clip.Set(Gf.Vec2f(1, 500), 24)
    stage.GetRootLayer().Save()


def author_skinned(out_dir):
    stage = Usd.Stage.CreateNew(f"{out_dir}/skinned.usda")
    stage.SetStartTimeCode(1)
    stage.SetEndTimeCode(24)
    stage.SetTimeCodesPerSecond(24)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    root = UsdSkel.Root.Define(stage, "/Rig")
    stage.SetDefaultPrim(root.GetPrim())
    UsdGeom.Xformable(root.GetPrim()).AddTranslateOp().Set(Gf.Vec3d(1, 0, 0))
    skel = UsdSkel.Skeleton.Define(stage, "/Rig/Skel")
    joints = ["Shoulder", "Shoulder/Elbow", "Shoulder/Elbow/Hand"]
    skel.CreateJointsAttr(joints)
    t = lambda y: Gf.Matrix4d(1).SetTranslate(Gf.Vec3d(0, y, 0))
    skel.CreateBindTransformsAttr(Vt.Matrix4dArray([t(0), t(2), t(4)]))
    skel.CreateRestTransformsAttr(Vt.Matrix4dArray([t(0), t(2), t(2)]))
    anim = UsdSkel.Animation.Define(stage, "/Rig/Skel/Anim")
    anim.CreateJointsAttr(joints)
    anim.CreateTranslationsAttr(Vt.Vec3fArray([(0, 0, 0), (0, 2, 0), (0, 2, 0)]))
    anim.CreateScalesAttr(Vt.Vec3hArray([(1, 1, 1), (1, 1, 1), (1, 1, 1)]))
    rot = anim.CreateRotationsAttr()
    about_z = lambda deg: Gf.Quatf(Gf.Rotation(Gf.Vec3d(0, 0, 1), deg).GetQuat())
    for time, (a, b, c) in ((1, (0, 0, 0)), (12, (30, 45, 10)), (24, (60, 90, -20))):
        rot.Set(Vt.QuatfArray([about_z(a), about_z(b), about_z(c)]), time)
    UsdSkel.BindingAPI.Apply(skel.GetPrim()).CreateAnimationSourceRel().SetTargets([anim.GetPath()])
    arm = UsdGeom.Mesh.Define(stage, "/Rig/Arm")
    rings, points, counts, indices, joint_indices, weights = 7, [], [], [], [], []
    for r in range(rings):
        y = r
        for (x, z) in ((-0.25, -0.25), (0.25, -0.25), (0.25, 0.25), (-0.25, 0.25)):
            points.append((x, y, z))
            # Two influences: the joint below the point and the next one up, blended by height.
            lo = min(int(y // 2), 2)
            hi = min(lo + 1, 2)
            f = (y - 2 * lo) / 2.0 if hi != lo else 0.0
            joint_indices += [lo, hi]
            weights += [1.0 - f, f]
    for r in range(rings - 1):
        for k in range(4):
            a, b = r * 4 + k, r * 4 + (k + 1) % 4
            counts.append(4)
            indices += [a, b, b + 4, a + 4]
    arm.CreatePointsAttr(Vt.Vec3fArray(points))
    arm.CreateFaceVertexCountsAttr(counts)
    arm.CreateFaceVertexIndicesAttr(indices)
    binding = UsdSkel.BindingAPI.Apply(arm.GetPrim())
    binding.CreateSkeletonRel().SetTargets([skel.GetPath()])
    binding.CreateJointIndicesPrimvar(False, 2).Set(Vt.IntArray(joint_indices))
    binding.CreateJointWeightsPrimvar(False, 2).Set(Vt.FloatArray(weights))
    binding.CreateGeomBindTransformAttr(Gf.Matrix4d(1))
    # A blend shape pushing the top ring out along +x (sparse: pointIndices), weighted 0 -> 1 -> 0.5.
    bulge = UsdSkel.BlendShape.Define(stage, "/Rig/Arm/Bulge")
    bulge.CreateOffsetsAttr(Vt.Vec3fArray([(0.5, 0, 0)] * 4))
    bulge.CreatePointIndicesAttr(Vt.IntArray([24, 25, 26, 27]))
    binding.CreateBlendShapesAttr(["bulge"])
    binding.CreateBlendShapeTargetsRel().SetTargets([bulge.GetPrim().GetPath()])
    anim.CreateBlendShapesAttr(["bulge"])
    bsw = anim.CreateBlendShapeWeightsAttr()
    for time, w in ((1, 0.0), (12, 1.0), (24, 0.5)):
        bsw.Set(Vt.FloatArray([w]), time)
    stage.GetRootLayer().Save()


def author_tet(out_dir):
    stage = Usd.Stage.CreateNew(f"{out_dir}/tet.usda")
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    tet = UsdGeom.TetMesh.Define(stage, "/Tet")
    stage.SetDefaultPrim(tet.GetPrim())
    tet.CreatePointsAttr(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)]))
    tet.CreateTetVertexIndicesAttr(Vt.Vec4iArray([(0, 1, 2, 3), (1, 2, 3, 4)]))
    tet.AddTranslateOp().Set(Gf.Vec3d(2, 0, 0))
    stage.GetRootLayer().Save()


def author_curves(out_dir):
    stage = Usd.Stage.CreateNew(f"{out_dir}/curves.usda")
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    cv = [(0, 0, 0), (1, 2, 0), (2, 2, 1), (3, 0, 1), (4, -1, 0), (5, 1, 0), (6, 0, 0)]
    n = 0
    for kind, basis in (("linear", None), ("cubic", "bezier"), ("cubic", "bspline"), ("cubic", "catmullRom")):
        for wrap in ("nonperiodic", "periodic", "pinned"):
            if kind == "linear" and wrap == "pinned":
                continue
            if basis == "bezier" and wrap == "pinned":
                continue
            c = UsdGeom.BasisCurves.Define(stage, f"/World/C{n}_{kind}_{basis or 'none'}_{wrap}")
            c.CreateTypeAttr(kind)
            if basis:
                c.CreateBasisAttr(basis)
            c.CreateWrapAttr(wrap)
            count = 6 if (basis == "bezier" and wrap == "periodic") else 7
            c.CreatePointsAttr(Vt.Vec3fArray([(x, y, z + 3 * n) for x, y, z in cv[:count]]))
            c.CreateCurveVertexCountsAttr([count])
            if n % 3 == 0:
                c.CreateWidthsAttr(Vt.FloatArray([0.2]))
                c.SetWidthsInterpolation(UsdGeom.Tokens.constant)
            elif n % 3 == 1:
                c.CreateWidthsAttr(Vt.FloatArray([0.1 + 0.05 * i for i in range(count)]))
                c.SetWidthsInterpolation(UsdGeom.Tokens.vertex)
            n += 1
    pts = UsdGeom.Points.Define(stage, "/World/Dots")
    pts.CreatePointsAttr(Vt.Vec3fArray([(0, 5, 0), (1, 6, 0), (2, 5, 1)]))
    pts.CreateWidthsAttr(Vt.FloatArray([0.2, 0.5, 0.3]))
    stage.GetRootLayer().Save()


def bounds_oracle(path):
    stage = Usd.Stage.Open(path)
    bb = UsdGeom.BBoxCache(Usd.TimeCode.Default(), PURPOSES, useExtentsHint=False)
    out = {}
    for prim in stage.Traverse():
        rng = bb.ComputeWorldBound(prim).ComputeAlignedRange()
        out[str(prim.GetPath())] = None if rng.IsEmpty() else {"min": list(rng.GetMin()), "max": list(rng.GetMax())}
    print(json.dumps(out))


def tet_oracle(path):
    stage = Usd.Stage.Open(path)
    tet = UsdGeom.TetMesh(stage.GetPrimAtPath("/Tet"))
    faces = UsdGeom.TetMesh.ComputeSurfaceFaces(tet, Usd.TimeCode.Default())
    rng = UsdGeom.BBoxCache(Usd.TimeCode.Default(), PURPOSES).ComputeWorldBound(tet.GetPrim()).ComputeAlignedRange()
    print(json.dumps({
        "faces": [sorted(list(f)) for f in faces],
        "bounds": {"min": list(rng.GetMin()), "max": list(rng.GetMax())},
    }))


def skinned_oracle(path, times):
    stage = Usd.Stage.Open(path)
    out = {"start": stage.GetStartTimeCode(), "end": stage.GetEndTimeCode(), "points": {}}
    UsdSkel.BakeSkinning(stage.Traverse(), Gf.Interval(stage.GetStartTimeCode(), stage.GetEndTimeCode()))
    arm = stage.GetPrimAtPath("/Rig/Arm")
    for t in times:
        code = Usd.TimeCode(t)
        world = UsdGeom.XformCache(code).GetLocalToWorldTransform(arm)
        pts = UsdGeom.Mesh(arm).GetPointsAttr().Get(code)
        out["points"][repr(float(t))] = [list(world.Transform(Gf.Vec3d(p))) for p in pts]
    print(json.dumps(out))


def camera_oracle(path, cam_path, times):
    stage = Usd.Stage.Open(path)
    cam = UsdGeom.Camera(stage.GetPrimAtPath(cam_path))
    out = {}
    for t in times:
        code = Usd.TimeCode(t)
        gf = cam.GetCamera(code)
        m = UsdGeom.XformCache(code).GetLocalToWorldTransform(cam.GetPrim())
        clip = gf.clippingRange
        out[repr(float(t))] = {
            "world": [m[i][j] for i in range(4) for j in range(4)],
            "fov_y_deg": gf.GetFieldOfView(Gf.Camera.FOVVertical),
            "near": clip.min,
            "far": clip.max,
        }
    print(json.dumps(out))


def oracle(path, times):
    stage = Usd.Stage.Open(path)
    out = {
        "start": stage.GetStartTimeCode(),
        "end": stage.GetEndTimeCode(),
        "tcps": stage.GetTimeCodesPerSecond(),
        "authored_range": stage.HasAuthoredTimeCodeRange(),
        "times": {},
    }
    for t in times:
        code = Usd.TimeCode(t)
        xf = UsdGeom.XformCache(code)
        bb = UsdGeom.BBoxCache(code, PURPOSES, useExtentsHint=False)
        prims = {}
        for prim in stage.Traverse():
            if not prim.IsA(UsdGeom.Imageable):
                continue
            m = xf.GetLocalToWorldTransform(prim)
            rng = bb.ComputeWorldBound(prim).ComputeAlignedRange()
            entry = {
                "world": [m[i][j] for i in range(4) for j in range(4)],
                "bounds": None if rng.IsEmpty() else {"min": list(rng.GetMin()), "max": list(rng.GetMax())},
            }
            if prim.IsA(UsdGeom.Mesh):
                entry["points"] = [list(p) for p in UsdGeom.Mesh(prim).GetPointsAttr().Get(code)]
            if prim.IsA(UsdGeom.Gprim):
                colors = UsdGeom.Gprim(prim).GetDisplayColorAttr().Get(code)
                if colors:
                    entry["displayColor"] = [list(c) for c in colors]
            prims[str(prim.GetPath())] = entry
        out["times"][repr(float(t))] = prims
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "author":
        author(sys.argv[2])
        author_skinned(sys.argv[2])
        author_shapes(sys.argv[2])
        author_tet(sys.argv[2])
        author_curves(sys.argv[2])
    elif sys.argv[1] == "bounds":
        bounds_oracle(sys.argv[2])
    elif sys.argv[1] == "tet":
        tet_oracle(sys.argv[2])
    elif sys.argv[1] == "camera":
        camera_oracle(sys.argv[2], sys.argv[3], [float(t) for t in sys.argv[4:]])
    elif sys.argv[1] == "skinned":
        skinned_oracle(sys.argv[2], [float(t) for t in sys.argv[3:]])
    else:
        oracle(sys.argv[2], [float(t) for t in sys.argv[3:]])
