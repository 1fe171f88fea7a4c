// The one user-assigned identity the Functions app runs as: host storage, Durable task hub,
// artifact blobs, the blob-trigger connection and the image pull all use it.

@description('Azure region.')
param location string

@description('User-assigned managed identity name.')
param identityName string

@description('Tags applied to every resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: identityName
  location: location
  tags: tags
}

output identityId string = identity.id
output identityName string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
