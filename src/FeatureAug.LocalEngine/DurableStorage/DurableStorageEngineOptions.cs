using System.Text;
using System.Text.RegularExpressions;
using Azure.Core;

namespace FeatureAug.LocalEngine.DurableStorage;

/// <summary>
/// Where and how <see cref="DurableStorageEngine"/> keeps orchestration state: an Azure Storage account
/// (or Azurite) reached either by <see cref="ConnectionString"/> or by <see cref="AccountName"/> and a
/// token credential, and the task hub inside it. Set exactly one of the two ways in.
/// </summary>
public sealed partial record DurableStorageEngineOptions
{
    /// <summary>Storage connection string (Azurite's, or an account's). Excludes <see cref="AccountName"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// Storage account name for identity-based access (blob, queue and table endpoints in the public
    /// cloud: https://NAME.{blob,queue,table}.core.windows.net). Excludes <see cref="ConnectionString"/>.
    /// </summary>
    public string? AccountName { get; init; }

    /// <summary>
    /// Credential used with <see cref="AccountName"/>; null means <c>DefaultAzureCredential</c>. The identity
    /// needs the Storage Blob, Queue and Table Data Contributor roles on the account.
    /// </summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>
    /// Task hub name: 3 to 45 characters, letters and digits only, starting with a letter (the Azure
    /// Storage provider's rule). Queue and container names are derived in lower case, so two hub names
    /// that differ only in case share storage: do not do that. The default differs from the Functions
    /// app's hub ("featureaug"), so a local engine pointed at the app's account does not take its work.
    /// </summary>
    public string TaskHubName { get; init; } = "FeatureAugLocal";

    /// <summary>Activities run at the same time by this engine (the worker and the provider both honour it).</summary>
    public int ActivityConcurrency { get; init; } = 2;

    /// <summary>
    /// Control-queue partitions, 1 to 16. Fixed when the task hub is first created: a later value is
    /// ignored by the provider for an existing hub.
    /// </summary>
    public int PartitionCount { get; init; } = 4;

    /// <summary>
    /// How long a received message stays invisible to other workers. The engine renews it while the work
    /// runs, so this is not a limit on activity duration; it is how long a message held by a crashed
    /// process waits before another process may take it. Durable Functions uses 5 min, where nothing
    /// renews a prefetched message; 1 min here shortens recovery after a crash. At least 10 s.
    /// </summary>
    public TimeSpan MessageVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a partition lease lasts without renewal: after a crash, the longest another process waits
    /// to take the dead one's partitions (the provider's default is 30 s; a lease just claimed lasts 1 min
    /// regardless). Renewal and acquisition run every third of it. 6 s to 2 min.
    /// </summary>
    public TimeSpan PartitionLeaseInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest pause between polls of an idle queue (the provider backs off up to this). Durable Functions
    /// uses 30 s to save storage transactions; a local run prefers short latency. 100 ms to 5 min.
    /// </summary>
    public TimeSpan MaxQueuePollingInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that is missing or out of range.</summary>
    public void Validate()
    {
        bool hasConnectionString = !string.IsNullOrWhiteSpace(ConnectionString);
        bool hasAccountName = !string.IsNullOrWhiteSpace(AccountName);
        if (hasConnectionString == hasAccountName)
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}: set exactly one of {nameof(ConnectionString)} and {nameof(AccountName)} " +
                $"(got {(hasConnectionString ? "both" : "neither")}).");
        if (hasAccountName && !StorageAccountNamePattern().IsMatch(AccountName!))
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(AccountName)} '{AccountName}' is not a storage account name " +
                "(3 to 24 lower-case letters and digits).");
        if (!hasAccountName && Credential is not null)
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(Credential)} is only used with {nameof(AccountName)}; " +
                "a connection string carries its own key or SAS.");
        ValidateTaskHubName(TaskHubName);
        if (ActivityConcurrency < 1)
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(ActivityConcurrency)} must be at least 1 (got {ActivityConcurrency}).");
        if (PartitionCount is < 1 or > 16)
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(PartitionCount)} must be between 1 and 16 (got {PartitionCount}).");
        if (MessageVisibilityTimeout < TimeSpan.FromSeconds(10))
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(MessageVisibilityTimeout)} must be at least 10 s (got {MessageVisibilityTimeout}).");
        if (PartitionLeaseInterval < TimeSpan.FromSeconds(6) || PartitionLeaseInterval > TimeSpan.FromMinutes(2))
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(PartitionLeaseInterval)} must be between 6 s and 2 min (got {PartitionLeaseInterval}).");
        if (MaxQueuePollingInterval < TimeSpan.FromMilliseconds(100) || MaxQueuePollingInterval > TimeSpan.FromMinutes(5))
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(MaxQueuePollingInterval)} must be between 100 ms and 5 min (got {MaxQueuePollingInterval}).");
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="taskHubName"/> follows the Azure Storage task hub rules.</summary>
    public static void ValidateTaskHubName(string? taskHubName)
    {
        if (taskHubName is null || !TaskHubNamePattern().IsMatch(taskHubName))
            throw new ArgumentException(
                $"{nameof(DurableStorageEngineOptions)}.{nameof(TaskHubName)} '{taskHubName}' is not a valid task hub name: " +
                "use 3 to 45 letters and digits, starting with a letter.");
    }

    // A connection string may carry an account key: keep it out of ToString (and so out of logs).
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"{nameof(ConnectionString)} = {(ConnectionString is null ? "null" : "(set, not shown)")}, ");
        builder.Append($"{nameof(AccountName)} = {AccountName ?? "null"}, ");
        builder.Append($"{nameof(Credential)} = {Credential?.GetType().Name ?? "null"}, ");
        builder.Append($"{nameof(TaskHubName)} = {TaskHubName}, {nameof(ActivityConcurrency)} = {ActivityConcurrency}, ");
        builder.Append($"{nameof(PartitionCount)} = {PartitionCount}, {nameof(MessageVisibilityTimeout)} = {MessageVisibilityTimeout}, ");
        builder.Append($"{nameof(PartitionLeaseInterval)} = {PartitionLeaseInterval}, {nameof(MaxQueuePollingInterval)} = {MaxQueuePollingInterval}");
        return true;
    }

    // The hub name becomes part of queue, table and container names ("<hub>-control-00", "<hub>History").
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    private static partial Regex TaskHubNamePattern();

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex StorageAccountNamePattern();
}
