# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Authentication options shared by every module (names as in azure.azcollection and AWX).
    DOCUMENTATION = r"""
options:
  auth_source:
    description:
      - Where the credentials come from.
      - V(auto) tries, in order, the module options (O(profile), or O(client_id) or O(ad_user)), the
        environment (E(AZURE_PROFILE), or E(AZURE_CLIENT_ID) with E(AZURE_SECRET)/E(AZURE_CLIENT_SECRET) or
        E(AZURE_FEDERATED_TOKEN_FILE), or E(AZURE_AD_USER)), the C(default) profile of C(~/.azure/credentials), the Azure
        CLI when C(az) is installed, and managed identity where the platform announces one
        (E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT)).
      - V(env) uses only environment variables, V(credential_file) only C(~/.azure/credentials)
        (section O(profile), default C(default)), V(cli) the Azure CLI login, V(msi) the managed identity
        of the machine (a user-assigned one when O(client_id) is set).
      - When not set, the environment variable E(ANSIBLE_AZURE_AUTH_SOURCE) is used, else V(auto).
      - Module options always win over environment variables, field by field.
    type: str
    choices: [auto, env, credential_file, cli, msi]
  subscription_id:
    description:
      - The Azure subscription to work in.
      - Falls back to E(AZURE_SUBSCRIPTION_ID), then to the profile in the credential file
        (and, with O(auth_source=cli), to the default subscription of the Azure CLI).
    type: str
  client_id:
    description:
      - Application (client) id of the service principal, or the client id of a user-assigned
        managed identity with O(auth_source=msi).
      - Falls back to E(AZURE_CLIENT_ID).
      - With a federated token file in E(AZURE_FEDERATED_TOKEN_FILE) and no secret, workload identity
        federation is used.
    type: str
  secret:
    description:
      - Client secret of the service principal.
      - Falls back to E(AZURE_SECRET) (AWX), then E(AZURE_CLIENT_SECRET) (azure-identity).
      - Never returned, logged or written to Azure.
    type: str
  tenant:
    description:
      - Microsoft Entra tenant id of the service principal.
      - Falls back to E(AZURE_TENANT) (AWX), then E(AZURE_TENANT_ID) (azure-identity).
    type: str
  ad_user:
    description:
      - User principal name (V(name@example.com)) of a Microsoft Entra user to sign in with, with
        O(password), instead of a service principal (the resource-owner password flow, as
        C(azure.azcollection) and the username/password form of the AWX credential do).
      - Used when no client secret or federated token file is set. O(client_id) then names the public
        client to sign in through (default the Azure CLI's, C(04b07795-8ddb-461a-bbee-02f9e1bf7b46)), and
        O(tenant) the tenant (default V(organizations), the user's home tenant).
      - Only for cloud-only accounts without multi-factor authentication; Microsoft recommends a
        service principal or managed identity for automation.
      - Falls back to E(AZURE_AD_USER) (AWX).
    type: str
  password:
    description:
      - Password of O(ad_user).
      - Falls back to E(AZURE_PASSWORD) (AWX).
      - Never returned, logged or written to Azure.
    type: str
  profile:
    description:
      - Section of the credential file C(~/.azure/credentials) (C($AZURE_CONFIG_DIR/credentials) when set)
        to read C(subscription_id), C(client_id), C(secret), C(tenant), C(ad_user), C(password) and
        C(cloud_environment) from.
      - Falls back to E(AZURE_PROFILE).
    type: str
  cloud_environment:
    description:
      - The Azure cloud, as V(AzureCloud), V(AzureUSGovernment) or V(AzureChinaCloud), or the https URL of
        an Azure Resource Manager metadata document such as
        C(https://management.example.com/metadata/endpoints?api-version=2022-09-01) for a private cloud or
        the local simulator. From that document the modules read C(resourceManager),
        C(authentication.loginEndpoint) and C(authentication.audiences).
      - Falls back to E(AZURE_CLOUD_ENVIRONMENT), then to the profile in the credential file, then V(AzureCloud).
      - Honoured with every O(auth_source).
      - TLS certificates are always verified; trust a private CA with E(REQUESTS_CA_BUNDLE).
    type: str
  api_retries:
    description:
      - How many times one Azure call is retried when Azure throttles it (HTTP 429) or fails it
        transiently (HTTP 408, 500, 502, 503, 504, or the connection fails), from V(0) to V(100).
      - Each retry waits what the response asks for (C(Retry-After), C(retry-after-ms)), else an
        exponential back-off from O(api_retry_backoff). As in azure-core, a C(POST) or C(PATCH) is retried
        only after a 500, 503 or 504, or when the response names a wait.
      - A long-running operation that is safe to repeat (start, deallocate, power off, delete, and
        creates or updates with the same body) and that Azure reports C(Failed) with a transient error code
        (such as C(InternalExecutionError) or C(RetryableError)) is started again, at most this many times,
        within the module's C(timeout). Other failures stop at once.
      - Falls back to E(ANSIBLE_AZURE_API_RETRIES), then V(10).
    type: int
  api_retry_timeout:
    description:
      - Seconds, from V(1) to V(86400), that the retries of one Azure call may take in total; a retry
        whose wait would end later is not made, and the call fails with Azure's error and what to do.
      - Falls back to E(ANSIBLE_AZURE_API_RETRY_TIMEOUT), then V(600).
    type: int
  api_retry_backoff:
    description:
      - Seconds, from V(0) to V(60), of the first back-off when a failed response names no wait; each further
        retry of the same call waits twice as long, at most 120 seconds.
      - Falls back to E(ANSIBLE_AZURE_API_RETRY_BACKOFF), then V(0.8) (azure-core's default).
    type: float
requirements:
  - python >= 3.11
  - azure-core >= 1.31.0
  - azure-identity >= 1.19.0
  - azure-mgmt-compute >= 33.0.0
  - azure-mgmt-core >= 1.4.0
  - azure-mgmt-desktopvirtualization >= 2.0.0
notes:
  - Set the authentication and retry options once for all modules of this collection with
    C(module_defaults) and the action group C(group/goldenimage.avd.azure).
  - An AWX or Automation Platform "Microsoft Azure Resource Manager" credential sets E(AZURE_CLIENT_ID),
    E(AZURE_SECRET), E(AZURE_TENANT) and E(AZURE_SUBSCRIPTION_ID) (or, with a username and password,
    E(AZURE_AD_USER), E(AZURE_PASSWORD) and E(AZURE_SUBSCRIPTION_ID)), which these modules read unchanged.
"""
