#!/usr/bin/env python3
"""Pixar pxr as the oracle for material binding and UsdPreviewSurface reading.

    material_oracle.py STAGE   -> {"bindings": {purpose: {prim path: material path or ""}},
                                   "materials": {material path: {"surface": id or "",
                                                                 "inputs": {name: input}}}}

bindings: `UsdShade.MaterialBindingAPI.ComputeBoundMaterial(purpose)` for every gprim and every
GeomSubset of family `materialBind`, for the purposes `preview`, `full` and all-purpose ("").
materials: for each bound material, the universal surface (`ComputeSurfaceSource()`): its shader
id, and each authored input of a UsdPreviewSurface: a constant `{"value": [...]}` or a texture
`{"texture": resolved file path, "channels": output name}`.
"""
import json
import sys

from pxr import Sdf, Usd, UsdGeom, UsdShade

PURPOSES = {"preview": UsdShade.Tokens.preview, "full": UsdShade.Tokens.full, "": UsdShade.Tokens.allPurpose}


def as_list(value):
    if isinstance(value, (int, float, bool)):
        return [float(value)]
    try:
        return [float(c) for c in value]
    except TypeError:
        return [str(value)]


def source_of(inp):
    """The (shader, output name) an input is connected to, following interface inputs."""
    for _ in range(16):
        sources = inp.GetConnectedSources()[0]
        if not sources:
            return None, None
        src = sources[0]
        prim = src.source.GetPrim()
        if src.sourceType == UsdShade.AttributeType.Output:
            return UsdShade.Shader(prim), src.sourceName
        inp = UsdShade.ConnectableAPI(prim).GetInput(src.sourceName)
    return None, None


def material_facts(material):
    shader = material.ComputeSurfaceSource()[0]
    if not shader:
        return {"surface": "", "inputs": {}}
    shader_id = shader.GetIdAttr().Get() or ""
    facts = {"surface": shader_id, "inputs": {}}
    if shader_id != "UsdPreviewSurface":
        return facts
    for inp in shader.GetInputs():
        name = inp.GetBaseName()
        src, output = source_of(inp)
        if src is not None and src.GetIdAttr().Get() == "UsdUVTexture":
            asset = src.GetInput("file").Get()
            facts["inputs"][name] = {"texture": asset.resolvedPath if asset else "", "channels": output}
        elif src is None:
            value = inp.Get()
            if value is not None:
                facts["inputs"][name] = {"value": as_list(value)}
    return facts


def main():
    stage = Usd.Stage.Open(sys.argv[1])
    bindings = {key: {} for key in PURPOSES}
    materials = {}
    for prim in stage.Traverse():
        targets = []
        if prim.IsA(UsdGeom.Gprim):
            targets.append(prim)
            for subset in UsdShade.MaterialBindingAPI(prim).GetMaterialBindSubsets():
                targets.append(subset.GetPrim())
        for target in targets:
            for key, purpose in PURPOSES.items():
                material, _ = UsdShade.MaterialBindingAPI(target).ComputeBoundMaterial(purpose)
                path = str(material.GetPath()) if material else ""
                bindings[key][str(target.GetPath())] = path
                if material and path not in materials:
                    materials[path] = material_facts(material)
    print(json.dumps({"bindings": bindings, "materials": materials}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
