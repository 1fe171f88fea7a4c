// The FeatureAug Functions app as a native Azure Functions app on Container Apps
// (Microsoft.App/containerApps with kind 'functionapp'). It runs as the user-assigned identity,
// pulls its image from the registry with that identity and reaches storage without any key.

@description('Azure region.')
param location string

@description('Container app name (2-32 lowercase letters, digits and hyphens).')
@minLength(2)
@maxLength(32)
param appName string

@description('Resource id of the Container Apps environment.')
param environmentId string

@description('Workload profile in that environment the app runs on (the GPU profile or Consumption).')
param workloadProfileName string

@description('Serverless GPU profile type of that workload profile, or None; selects FeatureAug__Device and the replica size.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'None'
])
param gpuWorkloadProfileType string

@description('Registry login server, e.g. crfeatureaugdev.azurecr.io.')
param registryLoginServer string

@description('Image repository and tag inside the registry, e.g. featureaug-functions:cuda-20260101.')
param imageName string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Storage account name (host storage, Durable task hub, artifacts).')
param storageAccountName string

@description('Primary blob endpoint of the storage account.')
param blobEndpoint string

@description('Primary queue endpoint of the storage account.')
param queueEndpoint string

@description('Application Insights connection string. It only lets a caller send telemetry, so it is an ordinary setting rather than a secret.')
param appInsightsConnectionString string

@description('NCRONTAB schedule of the nightly rebalance timer.')
param nightlyRebalanceSchedule string

@description('Durable Functions task hub name.')
param durableTaskHubName string

@description('Minimum replicas. At least 1: the Durable Azure Storage backend is not scaled from zero by Container Apps.')
@minValue(1)
param minReplicas int

@description('Maximum replicas.')
@minValue(1)
@maxValue(1000)
param maxReplicas int

@description('KEDA scale rules that replace the rules Container Apps derives from the Functions triggers; empty keeps the platform-managed rules.')
param customScaleRules array

@description('vCPUs per replica; empty picks the size the workload profile is built for.')
param containerCpu string

@description('Memory per replica (e.g. 4Gi); empty picks the size the workload profile is built for.')
param containerMemory string

@description('Port the Functions host listens on inside the image (the Dockerfile sets 8080 so it can run as non-root).')
param targetPort int

@description('Tags applied to every resource.')
param tags object

// A serverless GPU replica is sized to its profile (T4: 8 vCPU / 56 GiB, A100: 24 vCPU / 220 GiB)
// and one replica holds the whole GPU. The CPU-only size stays inside the Consumption profile's
// 4 vCPU / 8 GiB per-replica limit.
var replicaSizeByProfile = {
  'Consumption-GPU-NC8as-T4': { cpu: '8', memory: '56Gi' }
  'Consumption-GPU-NC24-A100': { cpu: '24', memory: '220Gi' }
  None: { cpu: '2', memory: '4Gi' }
}
var defaultReplicaSize = replicaSizeByProfile[gpuWorkloadProfileType]
var usesGpu = gpuWorkloadProfileType != 'None'

// Every setting the app reads, in one literal list (tests check it against the app's contract).
var environmentVariables = [
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  { name: 'DurableTaskHubName', value: durableTaskHubName }
  { name: 'NightlyRebalanceSchedule', value: nightlyRebalanceSchedule }
  { name: 'FeatureAug__Device', value: usesGpu ? 'cuda' : 'cpu' }
  // Host storage and the Durable Functions Azure Storage backend, identity-based.
  { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  // FeatureAug's artifact store (data sets, runs, models).
  { name: 'FeatureAug__Storage__Kind', value: 'blob' }
  { name: 'FeatureAug__Storage__AccountUrl', value: blobEndpoint }
  { name: 'FeatureAug__Storage__ManagedIdentityClientId', value: identityClientId }
  // Connection of the dataset.json blob trigger (Event Grid source): blobs for the content, queues
  // for the trigger's internal bookkeeping.
  { name: 'DatasetUploadConnection__blobServiceUri', value: blobEndpoint }
  { name: 'DatasetUploadConnection__queueServiceUri', value: queueEndpoint }
  { name: 'DatasetUploadConnection__credential', value: 'managedidentity' }
  { name: 'DatasetUploadConnection__clientId', value: identityClientId }
]

// Container Apps generates KEDA rules from the Functions triggers unless the override flag is set;
// user rules are rejected without it. The flag is newer than Bicep's type definitions for this API
// version, hence the object is assembled with union() instead of a typed literal.
var scaleLimits = {
  minReplicas: minReplicas
  maxReplicas: maxReplicas
}
var scaleRuleOverride = empty(customScaleRules)
  ? {}
  : {
      allowScalingRuleOverride: true
      rules: customScaleRules
    }

resource app 'Microsoft.App/containerApps@2026-03-02-preview' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: targetPort
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: '${registryLoginServer}/${imageName}'
          env: environmentVariables
          resources: {
            cpu: json(empty(containerCpu) ? defaultReplicaSize.cpu : containerCpu)
            memory: empty(containerMemory) ? defaultReplicaSize.memory : containerMemory
          }
        }
      ]
      scale: union(scaleLimits, scaleRuleOverride)
    }
  }
}

output appName string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
