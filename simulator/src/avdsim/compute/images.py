"""VM create checks on the source image and the OS profile: gallery image resolution,
admin password and computer name rules, the security profile an image allows."""

from __future__ import annotations

import copy
import re

from .. import gallery as _gallery
from ..errors import ArmError, invalid_parameter
from ..ids import parse

_COMPUTER_NAME = re.compile(r"^[A-Za-z0-9-]{1,15}$")

# OSProfile.adminUsername / adminPassword in Microsoft's Compute definition
# (specification/compute/resource-manager/Microsoft.Compute/Compute/stable/2026-04-01/ComputeRP.json):
# Windows user names have at most 20 characters, do not end in '.', and are none of the disallowed
# values below; passwords have 3 of 4 character classes and are none of the disallowed passwords.
# https://learn.microsoft.com/azure/virtual-machines/windows/faq ("What are the username / password
# requirements when creating a VM?") asks 12-123 characters for a Windows password, as here.
# Characters a Windows account name cannot hold: the -Name parameter of New-LocalUser,
# https://learn.microsoft.com/powershell/module/microsoft.powershell.localaccounts/new-localuser.
# Azure answers a refused user name with InvalidParameter "The Admin Username specified is not
# allowed." (target adminUsername).
DISALLOWED_ADMIN_USERNAMES = frozenset((
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123",
    "a", "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner",
    "root", "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4", "user5"))
_USERNAME_BAD = set('"/\\[]:;|=,+*?<>@')
DISALLOWED_PASSWORDS = frozenset(p.lower() for p in (
    "abc@123", "P@$$w0rd", "P@ssw0rd", "P@ssword123", "Pa$$word", "pass@word1", "Password!",
    "Password1", "Password22", "iloveyou!"))


def resolve_image(sim, image_ref: dict, location: str) -> tuple[dict, dict]:
    """(image version, image definition) for imageReference.id (version id, or definition id
    meaning the latest version not excluded from latest)."""
    ref_id = (image_ref or {}).get("id") or (image_ref or {}).get("sharedGalleryImageId")
    if not ref_id:
        if image_ref and image_ref.get("publisher"):
            raise invalid_parameter(
                "Marketplace images are not available in this simulator; use a gallery image "
                "version id in storageProfile.imageReference.id.", "imageReference")
        raise invalid_parameter("Required parameter 'imageReference' is missing (null).",
                                "imageReference")
    p = parse(ref_id)
    if not p or p["type"].lower() not in ("microsoft.compute/galleries/images",
                                          "microsoft.compute/galleries/images/versions"):
        raise invalid_parameter(f"The value of parameter imageReference.id '{ref_id}' is "
                                "invalid.", "imageReference.id")
    if p["type"].lower().endswith("/versions"):
        version = sim.store.get(ref_id)
        definition = sim.store.get(ref_id.rsplit("/versions/", 1)[0])
        if version is None or definition is None:
            raise ArmError(404, "GalleryImageNotFound",
                           f"The gallery image {ref_id} is not available in {location} region. "
                           "Please contact image owner to replicate to this region, or change "
                           "your requested region.")
    else:
        definition = sim.store.get(ref_id)
        if definition is None:
            raise ArmError(404, "GalleryImageNotFound",
                           f"The gallery image {ref_id} is not available in {location} region.")
        version = _gallery.latest_version(sim, definition, location)
        if version is None:
            raise ArmError(404, "GalleryImageNotFound",
                           f"The gallery image {ref_id}/versions/latest is not available in "
                           f"{location} region. Please contact image owner to replicate to "
                           "this region, or change your requested region.")
    if version["properties"]["provisioningState"] != "Succeeded" or not _gallery.available_in(
            sim, version, location):
        raise ArmError(404, "GalleryImageNotFound",
                       f"The gallery image {version['id']} is not available in {location} "
                       "region. Please contact image owner to replicate to this region, or "
                       "change your requested region.")
    return version, definition


def check_password(pw: str | None):
    if not pw:
        raise invalid_parameter("Required parameter 'adminPassword' is missing (null).",
                                "adminPassword")
    classes = sum(bool(re.search(r, pw)) for r in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[\W_]"))
    control = any(ord(c) < 32 or ord(c) == 127 for c in pw)
    if not 12 <= len(pw) <= 123 or classes < 3 or control or pw.lower() in DISALLOWED_PASSWORDS:
        raise invalid_parameter(
            "The supplied password must be between 12-123 characters long and must satisfy at "
            "least 3 of password complexity requirements from the following: 1) Contains an "
            "uppercase character 2) Contains a lowercase character 3) Contains a numeric digit "
            "4) Contains a special character 5) Control characters are not allowed",
            "adminPassword")


def security_profile(requested: dict | None, features: dict, hyper_v: str) -> dict | None:
    sec = (features.get("securitytype") or "").lower()
    want = ((requested or {}).get("securityType") or "")
    if want and want.lower() == "trustedlaunch":
        if hyper_v != "V2" or sec not in ("trustedlaunch", "trustedlaunchsupported",
                                          "trustedlaunchandconfidentialvmsupported"):
            raise invalid_parameter(
                "The provided gallery image only supports Standard security type. Please "
                "change the security type to Standard.", "securityProfile.securityType")
    if want and want.lower() == "standard" and sec == "trustedlaunch":
        raise invalid_parameter("The provided gallery image only supports TrustedLaunch "
                                "security type.", "securityProfile.securityType")
    if (want.lower() == "trustedlaunch") or (not want and sec in (
            "trustedlaunch", "trustedlaunchsupported", "trustedlaunchandconfidentialvmsupported")):
        uefi = (requested or {}).get("uefiSettings") or {}
        return {"uefiSettings": {"secureBootEnabled": uefi.get("secureBootEnabled", True),
                                 "vTpmEnabled": uefi.get("vTpmEnabled", True)},
                "securityType": "TrustedLaunch"}
    return copy.deepcopy(requested) if requested else None


def check_admin_username(user: str) -> None:
    """Windows rules for OSProfile.adminUsername (see DISALLOWED_ADMIN_USERNAMES)."""
    if (len(user) > 20 or user.endswith(".") or user.lower() in DISALLOWED_ADMIN_USERNAMES
            or any(c in _USERNAME_BAD or ord(c) < 32 for c in user)):
        raise invalid_parameter("The Admin Username specified is not allowed.", "adminUsername")


def check_os_profile(osp: dict | None, name: str) -> None:
    """A generalized image needs an OS profile: admin user, password, computer name."""
    if not osp or not osp.get("adminUsername"):
        raise invalid_parameter("Required parameter 'osProfile' is missing (null).",
                                "osProfile")
    check_admin_username(osp["adminUsername"])
    check_password(osp.get("adminPassword"))
    cn = osp.get("computerName") or name
    if not _COMPUTER_NAME.match(cn) or cn.isdigit():
        raise invalid_parameter(
            f"Windows computer name cannot be more than 15 characters long, be entirely "
            f"numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + "
            f"_ [ ] {{ }} \\ | ; : . ' \" , < > / ?. (computerName '{cn}')",
            "osProfile.computerName")
