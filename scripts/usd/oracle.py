#!/usr/bin/env python3
"""Pixar pxr as the oracle for the stage service: prints JSON facts per stage.

    oracle.py STAGE...            -> {"<stage>": {facts}, ...}
    oracle.py --time N STAGE...   -> {"<stage>": {"open_traverse_ms": median of N runs}, ...}

Facts: up_axis, meters_per_unit, root_prim_path, prim_count, hierarchy ({path: {type, class,
children}} over the default traversal: active, loaded, defined, non-abstract, no instance
proxies), world bounds (UsdGeom.BBoxCache, default + render purposes) for the stage and per prim,
triangles after fan triangulation grouped by the prim a pick selects (mesh, outermost instance,
or PointInstancer), and variant sets.
"""
import json
import sys
import time

from pxr import Usd, UsdGeom, UsdLux

PURPOSES = [UsdGeom.Tokens.default_, UsdGeom.Tokens.render]


def type_class(prim):
    if prim.IsA(UsdGeom.Gprim) or prim.IsA(UsdGeom.PointInstancer):
        return "geom"
    if prim.IsA(UsdGeom.Camera):
        return "camera"
    if prim.GetTypeName().endswith("Light") or prim.HasAPI(UsdLux.LightAPI):
        return "light"
    if prim.IsA(UsdGeom.Scope):
        return "scope"
    if prim.GetTypeName() == "Xform":
        return "xform"
    return "other"


def aligned(bbox):
    rng = bbox.ComputeAlignedRange()
    if rng.IsEmpty():
        return None
    return {"min": list(rng.GetMin()), "max": list(rng.GetMax())}


def root_prim_path(stage):
    if stage.GetPrimAtPath("/World") and stage.GetPrimAtPath("/World").IsActive():
        return "/World"
    default = stage.GetDefaultPrim()
    if default:
        return str(default.GetPath())
    for child in stage.GetPseudoRoot().GetChildren():
        if child.GetName() in ("Session", "Render"):
            continue
        if child.GetTypeName() in ("RenderSettings", "RenderProduct", "RenderVar", "RenderPass"):
            continue
        return str(child.GetPath())
    return "/"


def mesh_triangles(prim):
    counts = UsdGeom.Mesh(prim).GetFaceVertexCountsAttr().Get() or []
    return sum(max(c - 2, 0) for c in counts)


def drawable(prim):
    img = UsdGeom.Imageable(prim)
    if not img:
        return True
    if img.ComputeVisibility() == UsdGeom.Tokens.invisible:
        return False
    return img.ComputePurpose() in PURPOSES


def walk_triangles(root, pick_of, out, include_root=True):
    """Adds triangles under `root` to out[pick], honoring instancing and PointInstancers."""
    pred = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
    it = iter(Usd.PrimRange(root, pred))
    for prim in it:
        if not include_root and prim == root:
            continue
        if not drawable(prim):
            it.PruneChildren()
            continue
        pick = pick_of(prim)
        if prim.IsA(UsdGeom.Mesh):
            out[pick] = out.get(pick, 0) + mesh_triangles(prim)
        elif prim.IsA(UsdGeom.PointInstancer):
            pi = UsdGeom.PointInstancer(prim)
            indices = pi.GetProtoIndicesAttr().Get() or []
            protos = pi.GetPrototypesRel().GetTargets()
            invisible = set(pi.GetInvisibleIdsAttr().Get() or [])
            ids = pi.GetIdsAttr().Get()
            per_proto = []
            for target in protos:
                sub = {}
                walk_triangles(prim.GetStage().GetPrimAtPath(target), lambda p: "x", sub)
                per_proto.append(sum(sub.values()))
            for i, idx in enumerate(indices):
                ident = ids[i] if ids else i
                if ident in invisible or idx >= len(per_proto):
                    continue
                out[pick] = out.get(pick, 0) + per_proto[idx]
            it.PruneChildren()


def outermost_instance_pick(prim):
    pick = prim
    p = prim
    while p and not p.IsPseudoRoot():
        if p.IsInstance():
            pick = p
        p = p.GetParent()
    return str(pick.GetPath())


def facts(path):
    stage = Usd.Stage.Open(path)
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), PURPOSES, useExtentsHint=False)
    hierarchy = {}
    bounds = {}
    for prim in stage.Traverse():
        p = str(prim.GetPath())
        hierarchy[p] = {
            "type": prim.GetTypeName(),
            "class": type_class(prim),
            "children": [c.GetName() for c in prim.GetChildren()],
        }
        bounds[p] = aligned(cache.ComputeWorldBound(prim))
    triangles = {}
    walk_triangles(stage.GetPseudoRoot(), outermost_instance_pick, triangles, include_root=False)
    variants = {}
    for prim in stage.Traverse():
        vsets = prim.GetVariantSets()
        names = vsets.GetNames()
        if names:
            variants[str(prim.GetPath())] = {
                n: {"options": vsets.GetVariantSet(n).GetVariantNames(), "selection": vsets.GetVariantSelection(n)}
                for n in names
            }
    return {
        "up_axis": UsdGeom.GetStageUpAxis(stage),
        "meters_per_unit": UsdGeom.GetStageMetersPerUnit(stage),
        "root_prim_path": root_prim_path(stage),
        "root_children": [str(c.GetPath()) for c in stage.GetPseudoRoot().GetChildren()],
        "prim_count": len(hierarchy),
        "hierarchy": hierarchy,
        "bounds": aligned(cache.ComputeWorldBound(stage.GetPseudoRoot())),
        "prim_bounds": bounds,
        "triangles": {k: v for k, v in triangles.items() if v},
        "triangle_count": sum(triangles.values()),
        "variants": variants,
    }


def timed(path, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        stage = Usd.Stage.Open(path, Usd.Stage.LoadAll)
        n = 0
        for prim in stage.Traverse():
            if prim.IsA(UsdGeom.Mesh):
                mesh = UsdGeom.Mesh(prim)
                mesh.GetPointsAttr().Get()
                mesh.GetFaceVertexIndicesAttr().Get()
                mesh.GetFaceVertexCountsAttr().Get()
            n += 1
        samples.append((time.perf_counter() - start) * 1000.0)
        del stage
    first = samples[0]
    samples.sort()
    return {"open_traverse_ms": samples[len(samples) // 2], "first_run_ms": first, "runs": runs}


def main(argv):
    if len(argv) >= 2 and argv[0] == "--time":
        runs = int(argv[1])
        print(json.dumps({p: timed(p, runs) for p in argv[2:]}))
    else:
        print(json.dumps({p: facts(p) for p in argv}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
