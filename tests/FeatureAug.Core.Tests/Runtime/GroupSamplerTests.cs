using FeatureAug.Core.Fsa;
using FeatureAug.Core.Runtime;

namespace FeatureAug.Core.Tests.Runtime;

public class GroupSamplerTests
{
    // Class 2 is empty: class-balanced draws never pick it, uniform ones have nothing of it to pick.
    private static readonly int[] Counts = [4, 1, 0, 3, 2];
    private static readonly int[] Offsets = [0, 4, 5, 5, 8];

    [Theory]
    [InlineData(GroupSampling.Uniform, 1)]
    [InlineData(GroupSampling.Uniform, 3)]
    [InlineData(GroupSampling.ClassBalanced, 1)]
    [InlineData(GroupSampling.ClassBalanced, 2)]
    public void DrawsAreTheNumbersOfTheFormulaTheSamplersReplaced(GroupSampling sampling, int views)
    {
        // The plan's tail draws and Phase II's slots were written out inline before: the same Random calls, in order.
        int[] group = [1, 2, 3, 4];
        var sampler = new GroupSampler(group, Counts, Offsets, sampling, views, new Random(17));
        var random = new Random(17);
        int[] positions = group.SelectMany(c => Enumerable.Range(Offsets[c], Counts[c])).ToArray();
        int[] populated = group.Where(c => Counts[c] > 0).ToArray();
        for (int draw = 0; draw < 500; draw++)
        {
            int position;
            if (sampling == GroupSampling.ClassBalanced)
            {
                int label = populated[random.Next(populated.Length)];
                position = Offsets[label] + random.Next(Counts[label]);
            }
            else
            {
                position = positions[random.Next(positions.Length)];
            }
            int view = views > 1 ? random.Next(views) : 0;
            Assert.Equal((position, view), sampler.Next());
        }
    }

    [Fact]
    public void ClassBalancedDrawsGiveEachPopulatedClassAnEqualShare()
    {
        var sampler = new GroupSampler([0, 1, 2, 3, 4], Counts, Offsets, GroupSampling.ClassBalanced, 1, new Random(3));
        var draws = Enumerable.Range(0, 8000).Select(_ => sampler.Next().Position).ToArray();

        int[] perClass = Enumerable.Range(0, 5).Select(c => draws.Count(p => p >= Offsets[c] && p < Offsets[c] + Counts[c])).ToArray();
        Assert.Equal(0, perClass[2]);
        Assert.All(new[] { 0, 1, 3, 4 }, c => Assert.InRange(perClass[c], 2000 - 250, 2000 + 250));   // ~6.5 sd
        Assert.Equal(Enumerable.Range(0, 10), draws.Distinct().Order());   // every sample of every populated class
    }

    [Fact]
    public void AnEmptyGroupSaysSoAndRefusesToDraw()
    {
        var sampler = new GroupSampler([2], Counts, Offsets, GroupSampling.Uniform, 1, new Random(1));
        Assert.True(sampler.IsEmpty);
        Assert.Throws<InvalidOperationException>(() => sampler.Next());
        Assert.True(new GroupSampler([2], Counts, Offsets, GroupSampling.ClassBalanced, 1, new Random(1)).IsEmpty);
        Assert.False(new GroupSampler([1, 2], Counts, Offsets, GroupSampling.ClassBalanced, 1, new Random(1)).IsEmpty);
    }
}
