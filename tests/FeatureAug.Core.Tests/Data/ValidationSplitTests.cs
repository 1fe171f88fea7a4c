using FeatureAug.Core.Data;
using FeatureAug.Core.Tests.Fsa;

namespace FeatureAug.Core.Tests.Data;

public sealed class ValidationSplitTests
{
    private static readonly int[] Labels = [.. Enumerable.Repeat(0, 50), .. Enumerable.Repeat(1, 9), .. Enumerable.Repeat(2, 2), 3];

    [Fact]
    public void EveryClassKeepsItsShareAtLeastOneImageAndNeverAll()
    {
        var data = FsaTestData.Images(Labels, classes: 4, seed: 1);

        var (train, validation) = ValidationSplit.Stratified(data, 0.1, randomSeed: 5);

        // ceil(0.1 n): 5 of 50, 1 of 9, 1 of 2; a class with a single image keeps it for training.
        Assert.Equal(new[] { 5, 1, 1, 0 }, validation.ClassCounts());
        Assert.Equal(new[] { 45, 8, 1, 1 }, train.ClassCounts());
        // Disjoint and complete: every image is in exactly one part (images are random, so pixels identify them).
        var all = Enumerable.Range(0, data.Count).Select(i => Convert.ToHexString(data.Pixels, i * 16, 16)).Order().ToArray();
        var parts = Enumerable.Range(0, train.Count).Select(i => Convert.ToHexString(train.Pixels, i * 16, 16))
            .Concat(Enumerable.Range(0, validation.Count).Select(i => Convert.ToHexString(validation.Pixels, i * 16, 16))).Order().ToArray();
        Assert.Equal(all, parts);
    }

    [Fact]
    public void TheSeedFixesTheSplit()
    {
        var data = FsaTestData.Images(Labels, classes: 4, seed: 1);
        var first = ValidationSplit.Stratified(data, 0.2, randomSeed: 5).Validation;
        var again = ValidationSplit.Stratified(data, 0.2, randomSeed: 5).Validation;
        var other = ValidationSplit.Stratified(data, 0.2, randomSeed: 6).Validation;
        Assert.Equal(first.Pixels, again.Pixels);
        Assert.NotEqual(first.Pixels, other.Pixels);
    }

    [Fact]
    public void ADataSetsOwnValidationSetWinsAndFractionZeroMeansNone()
    {
        var train = FsaTestData.Images(Labels, classes: 4, seed: 1);
        var test = FsaTestData.Images([0, 1, 2, 3], classes: 4, seed: 2);
        var own = FsaTestData.Images([0, 1], classes: 4, seed: 3);

        var (withFolder, folderSource) = ValidationSplit.Apply(new DatasetSplit("d", train, test, own), 0.1, runSeed: 0);
        Assert.Same(own, withFolder.Validation);
        Assert.Same(train, withFolder.Train);
        Assert.Equal(ValidationSplit.FromFolder, folderSource);

        var (none, noneSource) = ValidationSplit.Apply(new DatasetSplit("d", train, test), 0, runSeed: 0);
        Assert.Null(none.Validation);
        Assert.Equal(ValidationSplit.None, noneSource);

        var (held, heldSource) = ValidationSplit.Apply(new DatasetSplit("d", train, test), 0.1, runSeed: 0);
        Assert.Equal(train.Count, held.Train.Count + held.Validation!.Count);
        Assert.Equal(ValidationSplit.FromTraining, heldSource);
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSplit.Stratified(train, 1.0, 0));
    }
}
