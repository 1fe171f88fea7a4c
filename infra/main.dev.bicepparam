// Development deployment: CPU-only (Consumption profile), the cheapest shape that runs the whole
// workflow. The image and the Event Grid key come from the environment so that the three deployment
// passes in infra/README.md reuse this file unchanged and no key is ever committed.
using './main.bicep'

param environmentName = 'dev'
param gpuWorkloadProfileType = 'None'
param imageName = readEnvironmentVariable('FEATUREAUG_IMAGE', '')
param blobsExtensionKey = readEnvironmentVariable('FEATUREAUG_BLOBS_EXTENSION_KEY', '')
param minReplicas = 1
param maxReplicas = 2
param registrySkuName = 'Basic'
