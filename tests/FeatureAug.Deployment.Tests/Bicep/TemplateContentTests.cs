namespace FeatureAug.Deployment.Tests.Bicep;

/// <summary>
/// What the compiled templates deploy: the security settings, role assignments, app settings and
/// Event Grid filter the app relies on. These read the ARM JSON that bicep emits, so they check the
/// template as Azure receives it.
/// </summary>
[Collection(BicepCollection.Name)]
public class TemplateContentTests
{
    private const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

    // The settings the Functions app reads (the contract with src/FeatureAug.Functions). No container
    // settings: the app's blob store always uses the containers datasets, runs and models.
    private static readonly string[] AppSettingNames =
    {
        "FUNCTIONS_WORKER_RUNTIME",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "DurableTaskHubName",
        "NightlyRebalanceSchedule",
        "FeatureAug__Device",
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "FeatureAug__Storage__Kind",
        "FeatureAug__Storage__AccountUrl",
        "FeatureAug__Storage__ManagedIdentityClientId",
        "DatasetUploadConnection__blobServiceUri",
        "DatasetUploadConnection__queueServiceUri",
        "DatasetUploadConnection__credential",
        "DatasetUploadConnection__clientId",
    };

    private readonly CompiledInfrastructure _infrastructure;

    public TemplateContentTests(CompiledInfrastructure infrastructure) => _infrastructure = infrastructure;

    [Fact]
    public void Storage_AllowsOnlyEntraIdOverTls12AndKeepsDeletedBlobs()
    {
        var template = _infrastructure.Load("modules/storage.json");
        var account = template.Single("Microsoft.Storage/storageAccounts").GetProperty("properties");
        var blobService = template.Single("Microsoft.Storage/storageAccounts/blobServices").GetProperty("properties");

        Assert.False(account.GetProperty("allowSharedKeyAccess").GetBoolean());
        Assert.Equal("TLS1_2", account.GetProperty("minimumTlsVersion").GetString());
        Assert.False(account.GetProperty("allowBlobPublicAccess").GetBoolean());
        Assert.True(blobService.GetProperty("deleteRetentionPolicy").GetProperty("enabled").GetBoolean());
        Assert.Equal(
            new[] { "datasets", "runs", "models" },
            template.Variable("containerNames").EnumerateArray().Select(name => name.GetString()));
    }

    [Fact]
    public void Storage_GrantsTheAppIdentityTheThreeDataRolesTheDurableBackendNeeds()
    {
        var template = _infrastructure.Load("modules/storage.json");

        Assert.Equal(
            new[] { StorageBlobDataOwner, StorageQueueDataContributor, StorageTableDataContributor }.Order(),
            RoleDefinitionIds(template).Order());
        Assert.All(template.ResourcesOfType("Microsoft.Authorization/roleAssignments"), assignment =>
        {
            Assert.Contains("Microsoft.Storage/storageAccounts", assignment.GetProperty("scope").GetString());
            Assert.Equal("ServicePrincipal", assignment.GetProperty("properties").GetProperty("principalType").GetString());
        });
    }

    [Fact]
    public void Registry_GrantsAcrPullAndKeepsTheAdminUserOff()
    {
        var template = _infrastructure.Load("modules/registry.json");

        Assert.Equal(new[] { AcrPull }, RoleDefinitionIds(template));
        Assert.False(template.Single("Microsoft.ContainerRegistry/registries").GetProperty("properties").GetProperty("adminUserEnabled").GetBoolean());
    }

    [Fact]
    public void FunctionApp_IsANativeFunctionsContainerAppRunningAsTheUserAssignedIdentity()
    {
        var template = _infrastructure.Load("modules/functionApp.json");
        var app = template.Single("Microsoft.App/containerApps");

        Assert.Equal("functionapp", app.GetProperty("kind").GetString());
        Assert.Equal("UserAssigned", app.GetProperty("identity").GetProperty("type").GetString());
        var registry = Assert.Single(app.GetProperty("properties").GetProperty("configuration").GetProperty("registries").EnumerateArray());
        Assert.Equal("[parameters('identityId')]", registry.GetProperty("identity").GetString());
        Assert.Equal(1, template.Parameter("minReplicas").GetProperty("minValue").GetInt32());
    }

    [Fact]
    public void FunctionApp_SetsExactlyTheSettingsTheAppReads()
    {
        var settings = AppSettings();

        Assert.Equal(AppSettingNames.Order(), settings.Keys.Order());
        Assert.Equal("dotnet-isolated", settings["FUNCTIONS_WORKER_RUNTIME"]);
        Assert.Equal("blob", settings["FeatureAug__Storage__Kind"]);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("managedidentity", settings["DatasetUploadConnection__credential"]);
        Assert.Equal("[if(variables('usesGpu'), 'cuda', 'cpu')]", settings["FeatureAug__Device"]);
        // Both identity-based connections and the artifact store use the same identity.
        Assert.Equal(settings["AzureWebJobsStorage__clientId"], settings["DatasetUploadConnection__clientId"]);
        Assert.Equal(settings["AzureWebJobsStorage__clientId"], settings["FeatureAug__Storage__ManagedIdentityClientId"]);
    }

    [Fact]
    public void Main_DefaultsMatchTheAppsConventions()
    {
        var main = _infrastructure.Load("main.json");

        Assert.Equal("0 0 2 * * *", main.Parameter("nightlyRebalanceSchedule").GetProperty("defaultValue").GetString());
        Assert.Equal("featureaug", main.Parameter("durableTaskHubName").GetProperty("defaultValue").GetString());
        Assert.Equal("DatasetUploaded", main.Parameter("blobTriggerFunctionName").GetProperty("defaultValue").GetString());
        Assert.Equal("securestring", main.Parameter("blobsExtensionKey").GetProperty("type").GetString());
    }

    [Fact]
    public void Main_OffersTheTwoServerlessGpuProfilesOrCpuOnly()
    {
        var main = _infrastructure.Load("main.json");
        var allowed = main.Parameter("gpuWorkloadProfileType").GetProperty("allowedValues").EnumerateArray().Select(value => value.GetString());

        Assert.Equal(new[] { "Consumption-GPU-NC8as-T4", "Consumption-GPU-NC24-A100", "None" }, allowed);
        var environmentTemplate = _infrastructure.Load("modules/containerAppsEnvironment.json");
        Assert.Equal(allowed, environmentTemplate.Parameter("gpuWorkloadProfileType").GetProperty("allowedValues").EnumerateArray().Select(value => value.GetString()));
    }

    [Fact]
    public void Main_OutputsTheAppUrlStorageAccountAndIdentityClientId()
    {
        var outputs = _infrastructure.Load("main.json").OutputNames;

        Assert.Contains("appUrl", outputs);
        Assert.Contains("storageAccountName", outputs);
        Assert.Contains("identityClientId", outputs);
    }

    [Fact]
    public void EventGrid_DeliversOnlyDatasetJsonCreationsToTheBlobTriggerWebhook()
    {
        var template = _infrastructure.Load("modules/eventGrid.json");
        var topic = template.Single("Microsoft.EventGrid/systemTopics");
        var subscription = template.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions");
        var filter = subscription.GetProperty("properties").GetProperty("filter");

        Assert.Equal("Microsoft.Storage.StorageAccounts", topic.GetProperty("properties").GetProperty("topicType").GetString());
        Assert.Equal(new[] { "Microsoft.Storage.BlobCreated" }, filter.GetProperty("includedEventTypes").EnumerateArray().Select(type => type.GetString()));
        // Blob <name>/dataset.json in container datasets: artifact datasets/<name>/dataset.json, trigger path datasets/{name}/dataset.json.
        Assert.Equal("/blobServices/default/containers/datasets/blobs/", filter.GetProperty("subjectBeginsWith").GetString());
        Assert.Equal("/dataset.json", filter.GetProperty("subjectEndsWith").GetString());
        Assert.Equal("WebHook", subscription.GetProperty("properties").GetProperty("destination").GetProperty("endpointType").GetString());
        // Created only once the runtime key is known (second deployment).
        Assert.Equal("[variables('createSubscription')]", subscription.GetProperty("condition").GetString());
    }

    [Fact]
    public void Main_PointsTheSubscriptionAtTheBlobsExtensionWebhookWithTheEncodedKey()
    {
        var eventGrid = _infrastructure.Load("main.json").Module("eventGrid");
        string endpoint = eventGrid.GetProperty("properties").GetProperty("parameters").GetProperty("webhookEndpointUrl").GetString()!;

        Assert.Contains("'https://{0}/runtime/webhooks/blobs?functionName=Host.Functions.{1}&code={2}'", endpoint);
        Assert.Contains("parameters('blobTriggerFunctionName')", endpoint);
        Assert.Contains("uriComponent(parameters('blobsExtensionKey'))", endpoint);
    }

    private static IReadOnlyList<string> RoleDefinitionIds(ArmTemplate template) =>
        template.ResourcesOfType("Microsoft.Authorization/roleAssignments")
            .Select(assignment => template.ReferencedVariableValue(assignment.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!))
            .ToList();

    private Dictionary<string, string> AppSettings()
    {
        var template = _infrastructure.Load("modules/functionApp.json");
        var container = Assert.Single(template.Single("Microsoft.App/containerApps").GetProperty("properties").GetProperty("template").GetProperty("containers").EnumerateArray());
        Assert.Equal("[variables('environmentVariables')]", container.GetProperty("env").GetString());
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var setting in template.Variable("environmentVariables").EnumerateArray())
        {
            string name = setting.GetProperty("name").GetString()!;
            Assert.True(settings.TryAdd(name, setting.GetProperty("value").GetString()!), $"setting {name} is set twice");
        }
        return settings;
    }
}
