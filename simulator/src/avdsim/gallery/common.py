"""Shared by galleries, image definitions and versions: resource types, path templates and
ids from a request."""

from __future__ import annotations

from ..arm import RG
from ..ids import resource_id

GAL_TYPE = "Microsoft.Compute/galleries"
IMG_TYPE = "Microsoft.Compute/galleries/images"
VER_TYPE = "Microsoft.Compute/galleries/images/versions"
GAL = RG + "/providers/Microsoft.Compute/galleries/{galleryName}"
IMG = GAL + "/images/{galleryImageName}"
VER = IMG + "/versions/{galleryImageVersionName}"


def gal_id(req):
    return resource_id(req.subscription_id, req.param("resourceGroupName"), "Microsoft.Compute",
                       "galleries", req.param("galleryName"))


def img_id(req):
    return gal_id(req) + "/images/" + req.param("galleryImageName")


def ver_id(req):
    return img_id(req) + "/versions/" + req.param("galleryImageVersionName")
