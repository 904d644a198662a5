#!/usr/bin/env python3
"""Authors the material test stages with pxr into OUTDIR (the test's asset root).

    author_material_stages.py OUTDIR

bindings.usda     UsdPreviewSurface materials bound every way UsdShade allows: direct,
                  inherited from an ancestor, `bindMaterialAs = strongerThanDescendants`,
                  GeomSubset (per-face) bindings, collection-based bindings (alone and against a
                  direct binding), purpose-specific bindings (preview, full), a binding without
                  MaterialBindingAPI applied, a MaterialX-only material with and without a
                  UsdPreviewSurface output, an implicit Sphere
textured.usda     a quad with UV-mapped textures: a 2x2 checker on diffuseColor through
                  UsdPrimvarReader_float2 (varname from a material interface input) and
                  UsdTransform2d, a roughness map read from the `g` channel, scale/bias, wrap
                  modes, sourceColorSpace; plus a material whose texture is truncated and one
                  whose texture is not an image
textured.usdz     textured.usda packaged with its textures (relative paths inside the archive)
tex/*.png         the textures (written without any imaging library)
"""
import os
import shutil
import struct
import sys
import zlib

from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade, UsdUtils, Vt


def write_png(path, width, height, pixel):
    """An 8-bit RGBA PNG; pixel(x, y) -> (r, g, b, a), rows top to bottom."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw.extend(pixel(x, y))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(png)
    return png


# The checker's quadrants as authored (top-left, top-right, bottom-left, bottom-right in the image).
CHECKER = [(230, 30, 30, 255), (30, 200, 30, 255), (30, 30, 230, 255), (240, 220, 20, 255)]


def checker_pixel(x, y):
    return CHECKER[(0 if y < 1 else 2) + (0 if x < 1 else 1)]


def cube_mesh(stage, path, size=1.0):
    h = size / 2.0
    pts = [Gf.Vec3f(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr(Vt.Vec3fArray(pts))
    m.CreateFaceVertexCountsAttr([4] * 6)
    m.CreateFaceVertexIndicesAttr([i for f in faces for i in f])
    m.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(Vt.Vec3fArray(pts)))
    return m


def preview_material(stage, path, diffuse, **inputs):
    mat = UsdShade.Material.Define(stage, path)
    shader = UsdShade.Shader.Define(stage, path + "/Surface")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*diffuse))
    for name, (type_name, value) in inputs.items():
        shader.CreateInput(name, type_name).Set(value)
    mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    return mat


def mtlx_material(stage, path, with_preview):
    mat = UsdShade.Material.Define(stage, path)
    std = UsdShade.Shader.Define(stage, path + "/StandardSurface")
    std.CreateIdAttr("ND_standard_surface_surfaceshader")
    std.CreateInput("base_color", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.1, 0.2, 0.9))
    mat.CreateSurfaceOutput("mtlx").ConnectToSource(std.ConnectableAPI(), "out")
    if with_preview:
        prev = UsdShade.Shader.Define(stage, path + "/Preview")
        prev.CreateIdAttr("UsdPreviewSurface")
        prev.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.1, 0.2, 0.9))
        mat.CreateSurfaceOutput().ConnectToSource(prev.ConnectableAPI(), "surface")
    return mat


def bind(prim, material, purpose=UsdShade.Tokens.allPurpose, strength=None, apply=True):
    api = UsdShade.MaterialBindingAPI.Apply(prim) if apply else UsdShade.MaterialBindingAPI(prim)
    if strength is None:
        api.Bind(material, materialPurpose=purpose)
    else:
        api.Bind(material, bindingStrength=strength, materialPurpose=purpose)


def author_bindings(out_dir):
    stage = Usd.Stage.CreateNew(os.path.join(out_dir, "bindings.usda"))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(stage.GetPrimAtPath("/World"))
    f = Sdf.ValueTypeNames
    red = preview_material(stage, "/World/Looks/Red", (0.8, 0.05, 0.05), roughness=(f.Float, 0.3))
    green = preview_material(stage, "/World/Looks/Green", (0.05, 0.7, 0.1), metallic=(f.Float, 0.0))
    blue = preview_material(stage, "/World/Looks/Blue", (0.05, 0.1, 0.8), opacity=(f.Float, 0.5))
    gold = preview_material(
        stage,
        "/World/Looks/Gold",
        (1.0, 0.77, 0.33),
        metallic=(f.Float, 1.0),
        roughness=(f.Float, 0.25),
        useSpecularWorkflow=(f.Int, 0),
        emissiveColor=(f.Color3f, Gf.Vec3f(0.0, 0.0, 0.0)),
        clearcoat=(f.Float, 0.5),
        clearcoatRoughness=(f.Float, 0.1),
        ior=(f.Float, 1.45),
        opacityThreshold=(f.Float, 0.0),
    )
    spec = preview_material(
        stage,
        "/World/Looks/Specular",
        (0.2, 0.2, 0.2),
        useSpecularWorkflow=(f.Int, 1),
        specularColor=(f.Color3f, Gf.Vec3f(0.9, 0.9, 0.2)),
    )
    mtlx_only = mtlx_material(stage, "/World/Looks/MtlxOnly", with_preview=False)
    mtlx_prev = mtlx_material(stage, "/World/Looks/MtlxWithPreview", with_preview=True)

    def mesh_at(path, x, z=0.0):
        m = cube_mesh(stage, path, 0.8)
        UsdGeom.XformCommonAPI(m).SetTranslate(Gf.Vec3d(x, 0.5, z))
        return m.GetPrim()

    bind(mesh_at("/World/Direct", -4.0), red)
    group = UsdGeom.Xform.Define(stage, "/World/Group").GetPrim()
    bind(group, green)
    mesh_at("/World/Group/Inherits", -3.0)
    bind(mesh_at("/World/Group/Own", -2.0), blue)
    strong = UsdGeom.Xform.Define(stage, "/World/Strong").GetPrim()
    bind(strong, gold, strength=UsdShade.Tokens.strongerThanDescendants)
    bind(mesh_at("/World/Strong/Overridden", -1.0), red)

    sub = mesh_at("/World/Subsets", 0.0)
    bind(sub, green)
    geom = UsdGeom.Imageable(sub)
    s0 = UsdGeom.Subset.CreateGeomSubset(geom, "front", UsdGeom.Tokens.face, Vt.IntArray([0, 1]),
                                         UsdShade.Tokens.materialBind, UsdGeom.Tokens.nonOverlapping)
    bind(s0.GetPrim(), red)
    s1 = UsdGeom.Subset.CreateGeomSubset(geom, "top", UsdGeom.Tokens.face, Vt.IntArray([3]),
                                         UsdShade.Tokens.materialBind, UsdGeom.Tokens.nonOverlapping)
    bind(s1.GetPrim(), blue)
    # A subset with no binding of its own inherits the mesh's material.
    UsdGeom.Subset.CreateGeomSubset(geom, "plain", UsdGeom.Tokens.face, Vt.IntArray([5]),
                                    UsdShade.Tokens.materialBind, UsdGeom.Tokens.nonOverlapping)

    # Collection binding on /World: includes two meshes; one also has its own direct binding.
    world = stage.GetPrimAtPath("/World")
    coll = Usd.CollectionAPI.Apply(world, "shiny")
    coll.CreateIncludesRel().AddTarget("/World/CollOnly")
    coll.CreateIncludesRel().AddTarget("/World/CollGroup")
    coll.CreateIncludesRel().AddTarget("/World/CollAndDirect")
    coll.CreateExcludesRel().AddTarget("/World/CollGroup/Excluded")
    api = UsdShade.MaterialBindingAPI.Apply(world)
    api.Bind(coll, gold, "shiny")
    mesh_at("/World/CollOnly", 1.0)
    UsdGeom.Xform.Define(stage, "/World/CollGroup")
    mesh_at("/World/CollGroup/Member", 2.0)
    mesh_at("/World/CollGroup/Excluded", 3.0)
    bind(mesh_at("/World/CollAndDirect", 4.0), red)
    # A collection binding and a direct binding on the same prim.
    same = UsdGeom.Xform.Define(stage, "/World/Same").GetPrim()
    same_coll = Usd.CollectionAPI.Apply(same, "mine")
    same_coll.CreateIncludesRel().AddTarget("/World/Same")
    same_api = UsdShade.MaterialBindingAPI.Apply(same)
    same_api.Bind(same_coll, blue, "mine")
    same_api.Bind(red)
    mesh_at("/World/Same/Child", 5.0)

    # Purposes: all-purpose red, preview blue, full green.
    purp = mesh_at("/World/Purposes", -4.0, 2.0)
    bind(purp, red)
    bind(purp, blue, purpose=UsdShade.Tokens.preview)
    bind(purp, green, purpose=UsdShade.Tokens.full)
    full_only = mesh_at("/World/FullOnly", -3.0, 2.0)
    bind(full_only, green, purpose=UsdShade.Tokens.full)

    # A binding relationship without MaterialBindingAPI applied.
    bind(mesh_at("/World/NoApi", -2.0, 2.0), red, apply=False)

    bind(mesh_at("/World/MtlxOnlyMesh", -1.0, 2.0), mtlx_only)
    bind(mesh_at("/World/MtlxPreviewMesh", 0.0, 2.0), mtlx_prev)
    bind(mesh_at("/World/SpecularMesh", 1.0, 2.0), spec)
    mesh_at("/World/Unbound", 2.0, 2.0)

    sphere = UsdGeom.Sphere.Define(stage, "/World/Ball")
    sphere.CreateRadiusAttr(0.4)
    UsdGeom.XformCommonAPI(sphere).SetTranslate(Gf.Vec3d(3.0, 0.5, 2.0))
    bind(sphere.GetPrim(), red)
    stage.GetRootLayer().Save()


def quad(stage, path, size=2.0):
    h = size / 2.0
    m = UsdGeom.Mesh.Define(stage, path)
    m.CreatePointsAttr(Vt.Vec3fArray([Gf.Vec3f(-h, -h, 0), Gf.Vec3f(h, -h, 0), Gf.Vec3f(h, h, 0), Gf.Vec3f(-h, h, 0)]))
    m.CreateFaceVertexCountsAttr([4])
    m.CreateFaceVertexIndicesAttr([0, 1, 2, 3])
    m.CreateExtentAttr([Gf.Vec3f(-h, -h, 0), Gf.Vec3f(h, h, 0)])
    st = UsdGeom.PrimvarsAPI(m).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.faceVarying)
    st.Set(Vt.Vec2fArray([Gf.Vec2f(0, 0), Gf.Vec2f(1, 0), Gf.Vec2f(1, 1), Gf.Vec2f(0, 1)]))
    return m


def textured_material(stage, path, file, rotation=None, varname_interface=True, extra=None):
    f = Sdf.ValueTypeNames
    mat = UsdShade.Material.Define(stage, path)
    surf = UsdShade.Shader.Define(stage, path + "/Surface")
    surf.CreateIdAttr("UsdPreviewSurface")
    reader = UsdShade.Shader.Define(stage, path + "/StReader")
    reader.CreateIdAttr("UsdPrimvarReader_float2")
    if varname_interface:
        iface = mat.CreateInput("frame:stPrimvarName", f.Token)
        iface.Set("st")
        reader.CreateInput("varname", f.Token).ConnectToSource(iface)
    else:
        reader.CreateInput("varname", f.String).Set("st")
    st_source = reader.ConnectableAPI()
    st_output = "result"
    if rotation is not None:
        xf = UsdShade.Shader.Define(stage, path + "/Transform")
        xf.CreateIdAttr("UsdTransform2d")
        xf.CreateInput("in", f.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
        xf.CreateInput("rotation", f.Float).Set(rotation)
        xf.CreateInput("scale", f.Float2).Set(Gf.Vec2f(1, 1))
        xf.CreateInput("translation", f.Float2).Set(Gf.Vec2f(0, 0))
        st_source = xf.ConnectableAPI()
    tex = UsdShade.Shader.Define(stage, path + "/Diffuse")
    tex.CreateIdAttr("UsdUVTexture")
    tex.CreateInput("file", f.Asset).Set(file)
    tex.CreateInput("st", f.Float2).ConnectToSource(st_source, st_output)
    tex.CreateInput("wrapS", f.Token).Set("repeat")
    tex.CreateInput("wrapT", f.Token).Set("clamp")
    tex.CreateInput("sourceColorSpace", f.Token).Set("sRGB")
    tex.CreateInput("fallback", f.Float4).Set(Gf.Vec4f(1.0, 0.0, 1.0, 1.0))
    tex.CreateOutput("rgb", f.Float3)
    surf.CreateInput("diffuseColor", f.Color3f).ConnectToSource(tex.ConnectableAPI(), "rgb")
    if extra:
        rough = UsdShade.Shader.Define(stage, path + "/Roughness")
        rough.CreateIdAttr("UsdUVTexture")
        rough.CreateInput("file", f.Asset).Set(extra)
        rough.CreateInput("st", f.Float2).ConnectToSource(reader.ConnectableAPI(), "result")
        rough.CreateInput("sourceColorSpace", f.Token).Set("raw")
        rough.CreateInput("scale", f.Float4).Set(Gf.Vec4f(0.5, 0.5, 0.5, 1.0))
        rough.CreateInput("bias", f.Float4).Set(Gf.Vec4f(0.1, 0.1, 0.1, 0.0))
        rough.CreateOutput("g", f.Float)
        surf.CreateInput("roughness", f.Float).ConnectToSource(rough.ConnectableAPI(), "g")
    surf.CreateInput("metallic", f.Float).Set(0.0)
    mat.CreateSurfaceOutput().ConnectToSource(surf.ConnectableAPI(), "surface")
    return mat


def author_textured(out_dir):
    tex_dir = os.path.join(out_dir, "tex")
    write_png(os.path.join(tex_dir, "checker.png"), 2, 2, checker_pixel)
    write_png(os.path.join(tex_dir, "rough.png"), 4, 4, lambda x, y: (0, 64 * x, 0, 255))
    good = write_png(os.path.join(tex_dir, "full.png"), 8, 8, lambda x, y: (200, 100, 50, 255))
    with open(os.path.join(tex_dir, "truncated.png"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(tex_dir, "not_an_image.png"), "wb") as f:
        f.write(b"this is not an image at all\n" * 10)
    path = os.path.join(out_dir, "textured.usda")
    stage = Usd.Stage.CreateNew(path)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(stage.GetPrimAtPath("/World"))
    plain = textured_material(stage, "/World/Looks/Checker", "./tex/checker.png", extra="tex/rough.png")
    rotated = textured_material(stage, "/World/Looks/Rotated", "tex/checker.png", rotation=90.0, varname_interface=False)
    truncated = textured_material(stage, "/World/Looks/Truncated", "tex/truncated.png")
    garbage = textured_material(stage, "/World/Looks/Garbage", "tex/not_an_image.png")
    for name, mat, x in [("Quad", plain, -3.3), ("RotatedQuad", rotated, -1.1), ("TruncatedQuad", truncated, 1.1),
                         ("GarbageQuad", garbage, 3.3)]:
        q = quad(stage, "/World/" + name)
        UsdGeom.XformCommonAPI(q).SetTranslate(Gf.Vec3d(x, 1.0, 0.0))
        UsdShade.MaterialBindingAPI.Apply(q.GetPrim()).Bind(mat)
    stage.GetRootLayer().Save()
    return path


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    author_bindings(out_dir)
    textured = author_textured(out_dir)
    usdz = os.path.join(out_dir, "textured.usdz")
    if os.path.exists(usdz):
        os.remove(usdz)
    UsdUtils.CreateNewUsdzPackage(textured, usdz)
    # The archive must carry its own textures: check that it opens and resolves inside itself.
    assert Usd.Stage.Open(usdz)


if __name__ == "__main__":
    main()
