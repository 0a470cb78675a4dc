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
      - V(auto) tries, in order, the module options (O(profile), or O(client_id)), the environment
        (E(AZURE_PROFILE), or E(AZURE_CLIENT_ID) with E(AZURE_SECRET)/E(AZURE_CLIENT_SECRET) or
        E(AZURE_FEDERATED_TOKEN_FILE)), the C(default) profile of C(~/.azure/credentials), the Azure
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
  profile:
    description:
      - Section of the credential file C(~/.azure/credentials) (C($AZURE_CONFIG_DIR/credentials) when set)
        to read C(subscription_id), C(client_id), C(secret), C(tenant) and C(cloud_environment) from.
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
requirements:
  - python >= 3.11
  - azure-identity >= 1.19.0
  - azure-core >= 1.31.0
  - azure-mgmt-core >= 1.4.0
  - azure-mgmt-compute >= 33.0.0
  - azure-mgmt-desktopvirtualization >= 2.0.0
notes:
  - Set the authentication options once for all modules of this collection with
    C(module_defaults) and the action group C(group/goldenimage.avd.azure).
  - An AWX or Automation Platform "Microsoft Azure Resource Manager" credential sets E(AZURE_CLIENT_ID),
    E(AZURE_SECRET), E(AZURE_TENANT) and E(AZURE_SUBSCRIPTION_ID), which these modules read unchanged.
"""
