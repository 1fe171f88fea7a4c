// GPU deployment on a serverless NVIDIA T4. Needs serverless GPU quota in the resource group's
// region (infra/README.md) and the cuda-linux image flavour. One replica is one GPU billed for as
// long as it runs, so the replica ceiling stays at 1.
using './main.bicep'

param environmentName = 'gpu'
param gpuWorkloadProfileType = 'Consumption-GPU-NC8as-T4'
param imageName = readEnvironmentVariable('FEATUREAUG_IMAGE', '')
param blobsExtensionKey = readEnvironmentVariable('FEATUREAUG_BLOBS_EXTENSION_KEY', '')
param minReplicas = 1
param maxReplicas = 1
// Artifact streaming (Premium only) shortens the start of multi-GB CUDA images.
param registrySkuName = 'Premium'
