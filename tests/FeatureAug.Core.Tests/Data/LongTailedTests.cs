using FeatureAug.Core.Data;

namespace FeatureAug.Core.Tests.Data;

public class LongTailedTests
{
    [Fact]
    public void FashionMnistIf100CountsMatchTheBenchmark()
    {
        Assert.Equal([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60],
            LongTailed.Counts(6000, 10, 100, ImbalanceProfile.Exp));
    }

    [Fact]
    public void CifarIf100CountsMatchThePublishedTotals()
    {
        // CIFAR-10-LT IF 100 (LDAM, Cao et al. 2019): 12,406 images; CIFAR-100-LT IF 100: 10,847.
        var cifar10 = LongTailed.Counts(5000, 10, 100, ImbalanceProfile.Exp);
        Assert.Equal([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50], cifar10);
        Assert.Equal(12406, cifar10.Sum());
        Assert.Equal(10847, LongTailed.Counts(500, 100, 100, ImbalanceProfile.Exp).Sum());
    }

    [Fact]
    public void ExactIntegersAreNotLostToRoundingError()
    {
        // 320 * (1/64)^(5/6) = 320 / 32 = 10 exactly, but Math.Pow gives 9.999999999999998.
        Assert.Equal(10, LongTailed.Counts(320, 7, 64, ImbalanceProfile.Exp)[5]);
        Assert.Equal(1, LongTailed.Counts(32, 7, 64, ImbalanceProfile.Exp)[5]);
    }

    [Fact]
    public void StepProfileKeepsTheFirstHalfWhole()
    {
        Assert.Equal([100, 100, 10, 10], LongTailed.Counts(100, 4, 10, ImbalanceProfile.Step));
        Assert.Equal([100, 100, 100, 10, 10], LongTailed.Counts(100, 5, 10, ImbalanceProfile.Step));
        Assert.Equal([7, 7, 2, 2], LongTailed.Counts(7, 4, 3, ImbalanceProfile.Step));
    }

    [Fact]
    public void ImbalanceFactorOneIsBalancedAndOneClassKeepsNMax()
    {
        Assert.Equal([50, 50, 50], LongTailed.Counts(50, 3, 1, ImbalanceProfile.Exp));
        Assert.Equal([50], LongTailed.Counts(50, 1, 10, ImbalanceProfile.Exp));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void InvalidImbalanceFactorIsRejected(double imbalanceFactor)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LongTailed.Counts(10, 3, imbalanceFactor, ImbalanceProfile.Exp));
        Assert.Throws<ArgumentOutOfRangeException>(() => LongTailed.Build(Interleaved(3, 4), imbalanceFactor, ImbalanceProfile.Exp));
    }

    /// <summary>Labels cycle 0,1,..,C-1 for perClass rounds; each 1x1 image's pixel is its index.</summary>
    private static ImageDataset Interleaved(int classes, int perClass)
    {
        int count = classes * perClass;
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        var pixels = Enumerable.Range(0, count).Select(i => (byte)i).ToArray();
        return new ImageDataset(pixels, labels, 1, 1, 1, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());
    }

    [Fact]
    public void FirstInFileOrderKeepsTheFirstImagesOfEachClass()
    {
        // 3 classes x 4 images; IF 4 -> counts 4, 2, 1.
        var longTailed = LongTailed.Build(Interleaved(3, 4), 4, ImbalanceProfile.Exp);

        Assert.Equal([4, 2, 1], longTailed.ClassCounts());
        // Original indices kept: class 0 -> 0,3,6,9; class 1 -> 1,4; class 2 -> 2; merged in file order.
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 6, 9 }, longTailed.Pixels);
        Assert.Equal([0, 1, 2, 0, 1, 0, 0], longTailed.Labels);
    }

    [Fact]
    public void SeededRandomIsRepeatableKeepsFileOrderAndDependsOnTheSeed()
    {
        var balanced = Interleaved(2, 50);

        var first = LongTailed.Build(balanced, 5, ImbalanceProfile.Exp, LongTailSelection.SeededRandom, seed: 7);
        var second = LongTailed.Build(balanced, 5, ImbalanceProfile.Exp, LongTailSelection.SeededRandom, seed: 7);
        var other = LongTailed.Build(balanced, 5, ImbalanceProfile.Exp, LongTailSelection.SeededRandom, seed: 8);

        Assert.Equal([50, 10], first.ClassCounts());
        Assert.Equal(first.Pixels, second.Pixels);
        Assert.NotEqual(first.Pixels, other.Pixels);
        Assert.Equal(first.Pixels.Order(), first.Pixels);
        // Class 1 (odd indices) is a random sample, not the first ten.
        var tail = first.Pixels.Where(p => p % 2 == 1).ToArray();
        Assert.NotEqual(Enumerable.Range(0, 10).Select(k => (byte)(2 * k + 1)), tail);
    }

    [Fact]
    public void NMaxIsTheSmallestClassCount()
    {
        var labels = new[] { 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2 };
        var dataset = new ImageDataset(new byte[labels.Length], labels, 1, 1, 1, ["a", "b", "c"]);

        Assert.Equal([4, 4, 4], LongTailed.Build(dataset, 1, ImbalanceProfile.Exp).ClassCounts());
        Assert.Equal([4, 2, 1], LongTailed.Build(dataset, 4, ImbalanceProfile.Exp).ClassCounts());
    }

    [Fact]
    public void MaxPerClassCapsEveryClass()
    {
        var balanced = Interleaved(3, 10);

        Assert.Equal([3, 3, 1], LongTailed.Build(balanced, 10, ImbalanceProfile.Exp, maxPerClass: 3).ClassCounts());
        Assert.Equal([2, 2, 2], LongTailed.Build(balanced, 1, ImbalanceProfile.Exp, maxPerClass: 2).ClassCounts());
    }

    [Fact]
    public void CapPerClassKeepsSmallerClassesWhole()
    {
        var labels = new[] { 1, 0, 1, 1, 0, 1, 2 };
        var dataset = new ImageDataset([0, 1, 2, 3, 4, 5, 6], labels, 1, 1, 1, ["a", "b", "c"]);

        var capped = LongTailed.CapPerClass(dataset, 2);

        Assert.Equal([2, 2, 1], capped.ClassCounts());
        Assert.Equal(new byte[] { 0, 1, 2, 4, 6 }, capped.Pixels);
    }

    [Fact]
    public void ClassWithoutSamplesIsRejected()
    {
        var dataset = new ImageDataset(new byte[4], [0, 0, 2, 2], 1, 1, 1, ["a", "b", "c"]);

        var error = Assert.Throws<ArgumentException>(() => LongTailed.Build(dataset, 10, ImbalanceProfile.Exp));

        Assert.StartsWith("Class 1 ('b') has no samples", error.Message);
    }

    [Fact]
    public void ImbalanceThatEmptiesAClassIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => LongTailed.Build(Interleaved(3, 4), 5, ImbalanceProfile.Exp));

        Assert.StartsWith("Imbalance factor 5 leaves class 2 ('c2') with no images", error.Message);
    }
}
