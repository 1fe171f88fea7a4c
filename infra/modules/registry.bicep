// Azure Container Registry for the Functions image (CPU and CUDA tags). The admin user stays off:
// the app pulls with its managed identity (AcrPull), people push with `az acr login`.

@description('Azure region.')
param location string

@description('Registry name (5-50 letters and digits, globally unique).')
@minLength(5)
@maxLength(50)
param registryName string

@description('Registry SKU. Premium enables artifact streaming, which shortens GPU cold starts of multi-GB CUDA images.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string

@description('Principal id of the app identity that pulls images.')
param appPrincipalId string

@description('Tags applied to every resource.')
param tags object

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, appPrincipalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output registryName string = registry.name
output loginServer string = registry.properties.loginServer
