namespace FeatureAug.Core.Fsa;

/// <summary>Head and tail classes of a long-tailed training set (spec/fsa.md, "Class split").</summary>
public sealed record ClassSplit(int[] HeadClasses, int[] TailClasses)
{
    /// <summary>
    /// Sorts classes by training count, largest first (ties by class index), and takes as head the smallest
    /// prefix whose share of all training samples is at least <paramref name="headRatio"/>; the rest are tail. With two
    /// or more classes the head holds at most C - 1 of them, so there is always a tail to augment (<see cref="HeadCapped"/>
    /// says when that limit, not h_r, ended the head). Both lists are returned in ascending class order.
    /// </summary>
    public static ClassSplit FromCounts(int[] trainCounts, double headRatio)
    {
        ArgumentNullException.ThrowIfNull(trainCounts);
        if (trainCounts.Length == 0) throw new ArgumentException("No classes given.", nameof(trainCounts));
        if (trainCounts.Any(c => c < 0)) throw new ArgumentException("Training counts must not be negative.", nameof(trainCounts));
        if (!(headRatio > 0 && headRatio <= 1)) throw new ArgumentOutOfRangeException(nameof(headRatio), headRatio, "The head ratio must lie in (0, 1].");
        long total = trainCounts.Sum(c => (long)c);
        if (total == 0) throw new ArgumentException("The training set is empty.", nameof(trainCounts));

        // OrderBy is stable, so equal counts keep ascending class order.
        var bySize = Enumerable.Range(0, trainCounts.Length).OrderByDescending(c => trainCounts[c]).ToArray();
        long prefix = 0;
        int headSize = 0;
        // Integer comparison prefix >= h_r * total, with a little slack for h_r * total computed in floating point.
        double needed = headRatio * total - 1e-9 * total;
        int maxHead = Math.Max(1, bySize.Length - 1);
        while (headSize < maxHead && prefix < needed)
            prefix += trainCounts[bySize[headSize++]];
        var head = bySize[..headSize].Order().ToArray();
        var tail = bySize[headSize..].Order().ToArray();
        return new ClassSplit(head, tail) { HeadCapped = bySize.Length > 1 && prefix < needed };
    }

    /// <summary>Whether h_r alone would have put every class in the head and the C - 1 limit ended it instead.</summary>
    public bool HeadCapped { get; init; }

    public bool IsHead(int classId) => Array.IndexOf(HeadClasses, classId) >= 0;
}
