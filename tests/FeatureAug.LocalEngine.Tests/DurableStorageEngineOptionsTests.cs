using Azure.Identity;
using FeatureAug.LocalEngine.DurableStorage;

namespace FeatureAug.LocalEngine.Tests;

public sealed class DurableStorageEngineOptionsTests
{
    private static readonly DurableStorageEngineOptions Valid = new() { ConnectionString = "UseDevelopmentStorage=true" };

    [Theory]
    [InlineData("abc")]
    [InlineData("FeatureAug")]
    [InlineData("Hub2026")]
    [InlineData("a23456789012345678901234567890123456789012345")] // 45 characters
    public void TaskHubNamesFollowingTheStorageRulesAreAccepted(string name) =>
        (Valid with { TaskHubName = name }).Validate();

    [Theory]
    [InlineData("")]
    [InlineData("ab")] // too short
    [InlineData("a234567890123456789012345678901234567890123456")] // 46 characters
    [InlineData("1hub")] // starts with a digit
    [InlineData("feature-aug")] // hyphen
    [InlineData("feature_aug")]
    [InlineData("hub name")]
    [InlineData("hübname")] // non-ASCII letter
    public void TaskHubNamesBreakingTheStorageRulesAreRejected(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => (Valid with { TaskHubName = name }).Validate());
        Assert.Contains($"TaskHubName '{name}'", error.Message);
    }

    [Fact]
    public void ExactlyOneWayIntoTheAccountIsRequired()
    {
        var neither = Assert.Throws<ArgumentException>(() => new DurableStorageEngineOptions().Validate());
        Assert.Contains("got neither", neither.Message);
        var both = Assert.Throws<ArgumentException>(() => (Valid with { AccountName = "featureaug" }).Validate());
        Assert.Contains("got both", both.Message);
    }

    [Fact]
    public void AccountNameWithCredentialIsAcceptedAndBadAccountNamesAreRejected()
    {
        new DurableStorageEngineOptions { AccountName = "featureaug01", Credential = new DefaultAzureCredential() }.Validate();
        var error = Assert.Throws<ArgumentException>(() => new DurableStorageEngineOptions { AccountName = "Feature-Aug" }.Validate());
        Assert.Contains("AccountName 'Feature-Aug'", error.Message);
    }

    [Fact]
    public void CredentialWithAConnectionStringIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => (Valid with { Credential = new DefaultAzureCredential() }).Validate());
        Assert.Contains("Credential", error.Message);
    }

    [Theory]
    [InlineData(nameof(DurableStorageEngineOptions.ActivityConcurrency))]
    [InlineData(nameof(DurableStorageEngineOptions.PartitionCount))]
    [InlineData(nameof(DurableStorageEngineOptions.MessageVisibilityTimeout))]
    [InlineData(nameof(DurableStorageEngineOptions.PartitionLeaseInterval))]
    [InlineData(nameof(DurableStorageEngineOptions.MaxQueuePollingInterval))]
    public void OutOfRangeSettingsAreRejectedByName(string field)
    {
        var options = field switch
        {
            nameof(DurableStorageEngineOptions.ActivityConcurrency) => Valid with { ActivityConcurrency = 0 },
            nameof(DurableStorageEngineOptions.PartitionCount) => Valid with { PartitionCount = 17 },
            nameof(DurableStorageEngineOptions.MessageVisibilityTimeout) => Valid with { MessageVisibilityTimeout = TimeSpan.FromSeconds(9) },
            nameof(DurableStorageEngineOptions.PartitionLeaseInterval) => Valid with { PartitionLeaseInterval = TimeSpan.FromSeconds(5) },
            _ => Valid with { MaxQueuePollingInterval = TimeSpan.FromMinutes(6) },
        };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains($"DurableStorageEngineOptions.{field}", error.Message);
    }

    [Fact]
    public void ToStringDoesNotShowTheConnectionString()
    {
        var options = Valid with { ConnectionString = "AccountName=x;AccountKey=c2VjcmV0" };
        string text = options.ToString();
        Assert.DoesNotContain("c2VjcmV0", text);
        Assert.Contains("ConnectionString = (set, not shown)", text);
        Assert.Contains("TaskHubName = FeatureAugLocal", text);
    }
}
