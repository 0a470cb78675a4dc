"""The regions the simulator knows: name -> display name (``GET /subscriptions/{id}/locations``,
the ``locations`` of each provider's resource types, and the "supported locations" part of ARM's
``NoRegisteredProviderFound`` message)."""

LOCATIONS = {
    "westeurope": "West Europe", "northeurope": "North Europe", "swedencentral": "Sweden Central",
    "germanywestcentral": "Germany West Central", "francecentral": "France Central",
    "uksouth": "UK South", "eastus": "East US", "eastus2": "East US 2", "westus": "West US",
    "westus2": "West US 2", "centralus": "Central US",
}
