// Container Apps environment (workload-profiles type). It always has the Consumption profile; for a
// GPU deployment it also gets one serverless (consumption) GPU profile, on which the Functions app runs.

@description('Azure region. Serverless GPU profiles exist only in some regions (see infra/README.md).')
param location string

@description('Container Apps environment name.')
param environmentName string

@description('Serverless GPU workload profile type, or None for a CPU-only environment.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
  'None'
])
param gpuWorkloadProfileType string

@description('Log Analytics workspace (same resource group) that receives container logs.')
param logAnalyticsName string

@description('Tags applied to every resource.')
param tags object

var consumptionProfile = {
  name: 'Consumption'
  workloadProfileType: 'Consumption'
}
var gpuProfileName = 'gpu'
var usesGpu = gpuWorkloadProfileType != 'None'

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
    workloadProfiles: usesGpu
      ? [
          consumptionProfile
          {
            name: gpuProfileName
            workloadProfileType: gpuWorkloadProfileType
          }
        ]
      : [
          consumptionProfile
        ]
  }
}

output environmentId string = environment.id
output environmentName string = environment.name
output defaultDomain string = environment.properties.defaultDomain
@description('The workload profile the Functions app should run on.')
output appWorkloadProfileName string = usesGpu ? gpuProfileName : consumptionProfile.name
