"""ARM error shape: ``{"error": {"code", "message"[, "target", "details"]}}``."""

from __future__ import annotations


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None,
                 headers: dict | None = None, details: list | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict:
        err = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def error_object(self) -> dict:
        return self.body()["error"]


def not_found(rtype: str, name: str, rg: str | None = None) -> ArmError:
    where = f" under resource group '{rg}'" if rg else ""
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{rtype}/{name}'{where} was not found. For more details "
                    "please go to https://aka.ms/ARMResourceNotFoundFix")


def parent_not_found(parent_type: str, parent_name: str) -> ArmError:
    return ArmError(404, "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{parent_name}' not found.")


def invalid_parameter(message: str, target: str | None = None) -> ArmError:
    return ArmError(400, "InvalidParameter", message, target=target)


def conflict(message: str, code: str = "Conflict") -> ArmError:
    return ArmError(409, code, message)


def operation_not_allowed(message: str) -> ArmError:
    return ArmError(409, "OperationNotAllowed", message)


def property_change_not_allowed(prop: str) -> ArmError:
    return ArmError(409, "PropertyChangeNotAllowed",
                    f"Changing property '{prop}' is not allowed.", target=prop)
