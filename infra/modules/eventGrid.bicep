// Event Grid system topic on the storage account, and the subscription that pushes BlobCreated
// events for datasets/<id>/dataset.json (container datasets, blob <id>/dataset.json) to the Functions
// blob trigger (Event Grid source), whose path is datasets/{name}/dataset.json.
//
// The subscription's webhook needs the Functions host's `blobs_extension` system key, which exists
// only once the app is running; it is therefore created only when the webhook URL is passed in (last
// deployment pass, see infra/README.md). Event Grid also validates the endpoint on creation, which the
// running blob extension answers.

@description('Azure region; must be the storage account\'s region.')
param location string

@description('System topic name.')
param systemTopicName string

@description('Name of the storage account whose events are published.')
param storageAccountName string

@description('Webhook URL of the blob trigger, key included (empty: no subscription yet). Built by main.bicep.')
@secure()
param webhookEndpointUrl string

@description('Tags applied to every resource.')
param tags object

var createSubscription = !empty(webhookEndpointUrl)

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource datasetUploaded 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (createSubscription) {
  parent: systemTopic
  name: 'dataset-uploaded'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: webhookEndpointUrl
        // One event per delivery: each new data set starts its own orchestration.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      // Subjects read /blobServices/default/containers/<container>/blobs/<blob name>.
      subjectBeginsWith: '/blobServices/default/containers/datasets/blobs/'
      subjectEndsWith: '/dataset.json'
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = systemTopic.name
output subscriptionCreated bool = createSubscription
