// FeatureAug on Azure: a Durable Functions app (native Functions on Container Apps, optionally on a
// serverless GPU) with its storage, registry, identity, monitoring and the Event Grid wiring that
// starts a run when datasets/<id>/dataset.json is uploaded.
//
// Deployed in up to three passes (infra/README.md): without imageName (infrastructure only, so the
// image can be pushed to the new registry), with imageName (the app), and with blobsExtensionKey
// (the Event Grid subscription, which needs a key the running app creates).
targetScope = 'resourceGroup'

@description('Azure region for every resource. For a GPU profile pick a region that offers serverless GPUs.')
param location string = resourceGroup().location

@description('Short name all resource names derive from.')
@minLength(3)
@maxLength(12)
param baseName string = 'featureaug'

@description('Deployment environment, part of every resource name (e.g. dev, prod).')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Serverless GPU workload profile for the Functions app, or None for a CPU-only deployment on the Consumption profile.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'None'
])
param gpuWorkloadProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Image repository:tag in the deployed registry, e.g. featureaug-functions:cuda-20260101. Empty deploys the infrastructure only.')
param imageName string = ''

@description('Minimum replicas; at least 1 because Container Apps does not scale a Durable app on the Azure Storage backend up from zero.')
@minValue(1)
param minReplicas int = 1

@description('Maximum replicas. Each GPU replica is one billed GPU.')
@minValue(1)
@maxValue(1000)
param maxReplicas int = 1

@description('Custom KEDA scale rules replacing the ones Container Apps derives from the Functions triggers (see infra/README.md); empty keeps the platform-managed rules.')
param customScaleRules array = []

@description('vCPUs per replica; empty uses the size the workload profile is built for.')
param containerCpu string = ''

@description('Memory per replica, e.g. 4Gi; empty uses the size the workload profile is built for.')
param containerMemory string = ''

@description('Port the Functions host listens on in the image.')
param targetPort int = 8080

@description('NCRONTAB schedule (UTC) of the nightly rebalance.')
param nightlyRebalanceSchedule string = '0 0 2 * * *'

@description('Durable Functions task hub name.')
param durableTaskHubName string = 'featureaug'

@description('Name of the Event Grid-sourced blob-triggered function in the app.')
param blobTriggerFunctionName string = 'DatasetUploaded'

@description('The running app\'s `blobs_extension` system key; empty skips the Event Grid subscription.')
@secure()
param blobsExtensionKey string = ''

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Days deleted blobs and containers stay restorable.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 7

@description('Container registry SKU (Premium adds artifact streaming for faster GPU cold starts).')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param registrySkuName string = 'Basic'

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Extra tags for every resource.')
param tags object = {}

var resourceToken = toLower(uniqueString(resourceGroup().id, baseName, environmentName))
var allTags = union(tags, {
  application: 'featureaug'
  environment: environmentName
})
var alphanumericBase = toLower(replace(baseName, '-', ''))
var names = {
  identity: 'id-${baseName}-${environmentName}'
  logAnalytics: 'log-${baseName}-${environmentName}'
  appInsights: 'appi-${baseName}-${environmentName}'
  storage: take('st${alphanumericBase}${resourceToken}', 24)
  registry: take('cr${alphanumericBase}${resourceToken}', 50)
  environment: 'cae-${baseName}-${environmentName}'
  app: take('ca-${baseName}-${environmentName}', 32)
  systemTopic: 'evgt-${baseName}-${environmentName}'
}
var deployApp = !empty(imageName)
var createEventSubscription = deployApp && !empty(blobsExtensionKey)

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    identityName: names.identity
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    retentionInDays: logRetentionInDays
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    storageAccountName: names.storage
    skuName: storageSkuName
    softDeleteRetentionDays: softDeleteRetentionDays
    appPrincipalId: identity.outputs.principalId
    tags: allTags
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    registryName: names.registry
    skuName: registrySkuName
    appPrincipalId: identity.outputs.principalId
    tags: allTags
  }
}

module containerAppsEnvironment 'modules/containerAppsEnvironment.bicep' = {
  name: 'containerAppsEnvironment'
  params: {
    location: location
    environmentName: names.environment
    gpuWorkloadProfileType: gpuWorkloadProfileType
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    tags: allTags
  }
}

module functionApp 'modules/functionApp.bicep' = if (deployApp) {
  name: 'functionApp'
  // Using the storage and registry outputs also orders the app after their role assignments, so it
  // never starts (or pulls) before its identity has access.
  params: {
    location: location
    appName: names.app
    environmentId: containerAppsEnvironment.outputs.environmentId
    workloadProfileName: containerAppsEnvironment.outputs.appWorkloadProfileName
    gpuWorkloadProfileType: gpuWorkloadProfileType
    registryLoginServer: registry.outputs.loginServer
    imageName: imageName
    identityId: identity.outputs.identityId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.storageAccountName
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    nightlyRebalanceSchedule: nightlyRebalanceSchedule
    durableTaskHubName: durableTaskHubName
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    customScaleRules: customScaleRules
    containerCpu: containerCpu
    containerMemory: containerMemory
    targetPort: targetPort
    tags: allTags
  }
}

module eventGrid 'modules/eventGrid.bicep' = {
  name: 'eventGrid'
  params: {
    location: location
    systemTopicName: names.systemTopic
    storageAccountName: storage.outputs.storageAccountName
    webhookEndpointUrl: createEventSubscription
      ? 'https://${functionApp!.outputs.fqdn}/runtime/webhooks/blobs?functionName=Host.Functions.${blobTriggerFunctionName}&code=${uriComponent(blobsExtensionKey)}'
      : ''
    tags: allTags
  }
}

@description('HTTPS URL of the Functions app; empty until imageName is given.')
output appUrl string = deployApp ? 'https://${functionApp!.outputs.fqdn}' : ''
@description('Name of the Functions container app (for az containerapp commands); empty until imageName is given.')
output containerAppName string = deployApp ? functionApp!.outputs.appName : ''
output storageAccountName string = storage.outputs.storageAccountName
output identityClientId string = identity.outputs.clientId
output registryLoginServer string = registry.outputs.loginServer
output registryName string = registry.outputs.registryName
output containerAppsEnvironmentName string = containerAppsEnvironment.outputs.environmentName
output eventSubscriptionCreated bool = eventGrid.outputs.subscriptionCreated
