# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""``AzureModule``: the one wrapper every module of the collection uses (composition over AnsibleModule)."""

from __future__ import annotations

import datetime
import enum
import traceback
from email.utils import parsedate_to_datetime

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ._auth import AUTH_ARGUMENT_SPEC, AuthConfigError, build_credential, resolve_settings
from ._errors import AzureModuleError, classify
from ._ids import validate_name
from ._retry import RETRY_ARGUMENT_SPEC, ArmRetryPolicy, RetryStats, activate, is_transient_status, resolve_retry_settings

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "ansible-goldenimage.avd/%s" % COLLECTION_VERSION

_SDK_PACKAGES = (
    ("azure-core", "azure.core"),
    ("azure-identity", "azure.identity"),
    ("azure-mgmt-compute", "azure.mgmt.compute"),
    ("azure-mgmt-desktopvirtualization", "azure.mgmt.desktopvirtualization"),
)


def auth_argument_spec():
    """A fresh copy of the shared options: authentication and the retries of Azure calls."""
    spec = {name: dict(option) for name, option in AUTH_ARGUMENT_SPEC.items()}
    spec.update({name: dict(option) for name, option in RETRY_ARGUMENT_SPEC.items()})
    return spec


def wait_options(timeout=1800, poll_interval=15):
    """``timeout`` and ``poll_interval``, as the ``goldenimage.avd.wait`` doc fragment documents them."""
    return dict(timeout=dict(type="int", default=timeout), poll_interval=dict(type="float", default=poll_interval))


def gallery_image_options():
    """``resource_group``, ``gallery`` and ``image``, as the ``goldenimage.avd.gallery_image`` doc fragment has them."""
    return dict(resource_group=dict(type="str", required=True), gallery=dict(type="str", required=True),
                image=dict(type="str", required=True))


def host_pool_options():
    """``resource_group`` and ``host_pool``, as the ``goldenimage.avd.host_pool`` doc fragment has them."""
    return dict(resource_group=dict(type="str", required=True), host_pool=dict(type="str", required=True))


def vm_options():
    """``resource_group`` and ``name`` of one VM, as the ``goldenimage.avd.vm`` doc fragment has them."""
    return dict(resource_group=dict(type="str", required=True), name=dict(type="str", required=True))


def check_vm_options(params):
    """Validate the options of ``vm_options``: Azure's rules for resource group and VM names."""
    validate_name("resource_group", params["resource_group"])
    validate_name("vm", params["name"], option="name")


def to_wire(obj):
    """Turn an SDK response into its wire-format dict (camelCase, as the REST API sends it).

    Handles TypeSpec models (azure-mgmt-compute >= 39: ``as_dict()`` already gives the wire
    form), msrest models (azure-mgmt-compute 33 to 38 and azure-mgmt-desktopvirtualization 2.0.0:
    ``serialize(keep_readonly=True)``; their ``as_dict()`` would give snake_case attribute names),
    dicts, lists, pagers and scalars.
    """
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, enum.Enum):
        return to_wire(obj.value)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    # msrest models carry an _attribute_map; check them first, they also have an as_dict()
    if hasattr(obj, "_attribute_map") and callable(getattr(obj, "serialize", None)):
        return to_wire(obj.serialize(keep_readonly=True))
    if callable(getattr(obj, "as_dict", None)) and not isinstance(obj, dict):
        return to_wire(obj.as_dict())
    if hasattr(obj, "items") and callable(obj.items):
        return {str(key): to_wire(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_wire(item) for item in obj]
    if hasattr(obj, "__iter__") and not isinstance(obj, (bytes, bytearray)):
        # pagers (azure.core.paging.ItemPaged) and generators: every item, every page
        return [to_wire(item) for item in obj]
    return obj


def sdk_versions():
    """Installed versions of the Azure packages (for error reports)."""
    out = {}
    try:
        from importlib.metadata import PackageNotFoundError, version  # pylint: disable=import-outside-toplevel
    except ImportError:
        return out
    for dist, _import_name in _SDK_PACKAGES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


class AzureModule:
    """Wraps ``AnsibleModule``: shared auth options, lazily built clients, the ARM clock, exits.

    ``AzureModule(argument_spec, supports_check_mode=True, **ansible_module_kwargs)``
    """

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        spec = auth_argument_spec()
        for name, option in (argument_spec or {}).items():
            if name in spec:
                raise ValueError("Option %r is a shared option (authentication, retries); do not redefine it." % name)
            spec[name] = option
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self._settings = None
        self._credential = None
        self._compute = None
        self._desktop = None
        self._server_date = None
        self._retry = None
        self.retry_stats = RetryStats()

    # ------------------------------------------------------------------------------ basics
    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff  # pylint: disable=protected-access

    # ------------------------------------------------------------------------------ auth
    @property
    def auth(self):
        """The resolved ``AuthSettings`` (source, identity, subscription, cloud)."""
        if self._settings is None:
            try:
                self._settings = resolve_settings(self.params)
            except AuthConfigError as exc:
                self.fail(str(exc))
            for value in (self._settings.secret, self._settings.password):
                if value:
                    # a secret from the environment is not a module option, so Ansible would not mask it
                    self.module.no_log_values.add(value)
        return self._settings

    @property
    def subscription_id(self):
        return self.auth.subscription_id

    @property
    def cloud(self):
        return self.auth.cloud

    @property
    def credential(self):
        if self._credential is None:
            settings = self.auth
            try:
                self._credential = build_credential(settings)
            except ImportError:
                self.fail(missing_required_lib("azure-identity"), exception=traceback.format_exc())
            except ValueError as exc:
                self.fail("Cannot build the %s credential: %s" % (settings.kind, exc))
        return self._credential

    @property
    def retry_settings(self):
        """The resolved ``api_retries``, ``api_retry_timeout`` and ``api_retry_backoff`` (``_retry``);
        a value out of range raises ``ValueError`` naming the option."""
        if self._retry is None:
            self._retry = resolve_retry_settings(self.params)
            activate(self._retry, self.retry_stats)
        return self._retry

    def prepare_retries(self):
        """Resolve the retry options now (a bad value fails before any call); the settings."""
        return self.retry_settings

    def _client_kwargs(self):
        # every client sends through one retry policy: throttling and transient 5xx are retried
        # within the api_retry_* options, on both ends of the supported azure-core range
        return dict(
            base_url=self.cloud.resource_manager,
            credential_scopes=list(self.cloud.credential_scopes),
            raw_response_hook=self._record_response,
            user_agent=USER_AGENT,
            retry_policy=ArmRetryPolicy(self.retry_settings, self.retry_stats),
        )

    @property
    def compute(self):
        """``azure.mgmt.compute.ComputeManagementClient`` for the resolved cloud and subscription."""
        if self._compute is None:
            try:
                from azure.mgmt.compute import ComputeManagementClient  # pylint: disable=import-outside-toplevel
            except ImportError:
                self.fail(missing_required_lib("azure-mgmt-compute"), exception=traceback.format_exc())
            self._compute = ComputeManagementClient(self.credential, self.subscription_id, **self._client_kwargs())
        return self._compute

    @property
    def desktop(self):
        """``azure.mgmt.desktopvirtualization.DesktopVirtualizationMgmtClient`` for the resolved cloud."""
        if self._desktop is None:
            try:
                from azure.mgmt.desktopvirtualization import (  # pylint: disable=import-outside-toplevel
                    DesktopVirtualizationMgmtClient,
                )
            except ImportError:
                self.fail(missing_required_lib("azure-mgmt-desktopvirtualization"), exception=traceback.format_exc())
            self._desktop = DesktopVirtualizationMgmtClient(self.credential, self.subscription_id,
                                                            **self._client_kwargs())
        return self._desktop

    # ------------------------------------------------------------------------------ ARM clock
    def _record_response(self, pipeline_response):
        headers = getattr(pipeline_response.http_response, "headers", None) or {}
        value = headers.get("Date")
        if not value:
            return
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        self._server_date = parsed.astimezone(datetime.timezone.utc)

    def server_now(self):
        """The ARM clock: UTC time of the latest ARM response (its ``Date`` header), else local UTC.

        Use it for every timestamp written to Azure; a local clock may be skewed, and the
        simulator's clock moves through the waits a client keeps (not at the controller's pace).
        """
        if self._server_date is not None:
            return self._server_date
        return datetime.datetime.now(datetime.timezone.utc)

    # ------------------------------------------------------------------------------ results
    @staticmethod
    def make_diff(before, after):
        """``{before, after}`` for ``--diff``; pass what the resource was and would be/is."""
        return {"before": before if before is not None else {}, "after": after if after is not None else {}}

    def exit(self, changed, diff=None, **result):
        """Exit successfully; ``diff`` is returned only when --diff is on."""
        if diff is not None and self.diff_mode:
            result["diff"] = diff
        self.module.exit_json(changed=bool(changed), **result)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def fail_json_azure(self, exc, msg=None, **result):
        """Fail with an Azure error: code, message, HTTP status, request and correlation ids, a hint.

        ``exc`` may be an SDK exception or one of the typed errors of ``_errors.py``; its
        ``partial`` result (what was done before the error) is returned too.
        """
        error = classify(exc)
        out = dict(error.partial)
        out.update(result)
        details = error.details()
        out["azure_error"] = details
        if error.operation:
            details["operation"] = error.operation
        retries = self._retry_report(error)
        if retries:
            details["retries"] = retries
        text = _failure_text(error, details, msg)
        if not isinstance(exc, AzureModuleError):
            out["sdk_versions"] = sdk_versions()
            out.setdefault("exception", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self.module.fail_json(msg=text, **out)

    def _retry_report(self, error):
        """What the retries did, for a failure that retries were made for (a transient status, or an
        operation that was restarted); None otherwise."""
        stats = self.retry_stats.as_dict()
        if not (is_transient_status(error.status) or stats["retries"] or stats["operations_restarted"]):
            return None
        settings = self._retry or resolve_retry_settings({})
        stats.update(settings.describe())
        return stats

    def run(self, handler):
        """Run ``handler(self)`` and turn errors into failures: ``ValueError`` is bad input
        (failed before anything changed), everything else is an Azure error."""
        try:
            self.prepare_retries()  # bad retry options fail before any call to Azure
            handler(self)
        except AuthConfigError as exc:
            self.fail(str(exc))
        except ValueError as exc:
            self.fail(str(exc))
        except Exception as exc:  # pylint: disable=broad-except
            self.fail_json_azure(exc)


def _failure_text(error, details, msg=None):
    """The failure message: the step, Azure's message, its code (and HTTP status, or the state the
    operation ended in), the hint, and for a transient failure what the retries did and what to do."""
    text = error.message
    if details.get("operation_status"):
        text = "Azure accepted the request, then the operation ended %s: %s" % (details["operation_status"], text)
    if details.get("code"):
        text = "%s (%s%s)" % (text, details["code"], ", HTTP %s" % details["status"] if details.get("status") else "")
    elif details.get("status"):
        text = "%s (HTTP %s)" % (text, details["status"])
    if error.operation:
        text = "Could not %s: %s" % (error.operation, text)
    if msg:
        text = "%s: %s" % (msg, text)
    if details.get("hint"):
        text = "%s %s" % (text, details["hint"])
    retries = details.get("retries")
    if retries and is_transient_status(details.get("status")):
        text = ("%s The collection retried %d failed Azure calls in this task (api_retries=%d per call, within "
                "api_retry_timeout=%ds) and this one still failed: if Azure is throttling or unavailable for "
                "longer, run again later, or raise api_retries/api_retry_timeout (ANSIBLE_AZURE_API_RETRIES, "
                "ANSIBLE_AZURE_API_RETRY_TIMEOUT)." % (text, retries["retries"], retries["api_retries"],
                                                       retries["api_retry_timeout"]))
    return text
