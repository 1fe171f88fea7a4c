namespace FeatureAug.Core.Data;

/// <summary>How class sizes fall from the first (largest) class to the last.</summary>
public enum ImbalanceProfile
{
    /// <summary>n_i = floor(n_max * (1/IF)^(i/(C-1))) (Cui et al. 2019; LDAM).</summary>
    Exp,

    /// <summary>The first ceil(C/2) classes keep n_max, the rest floor(n_max/IF).</summary>
    Step,
}

/// <summary>Which images of a class a long-tailed subset keeps.</summary>
public enum LongTailSelection
{
    /// <summary>The first n_i images of the class in file order (the fsa.md benchmark rule).</summary>
    FirstInFileOrder,

    /// <summary>n_i images drawn at random with the given seed.</summary>
    SeededRandom,
}

/// <summary>Builds long-tailed training subsets from balanced sets (fsa.md, "Long-tailed benchmark construction").</summary>
public static class LongTailed
{
    /// <summary>
    /// Images kept per class, in label order. A value that is an integer in exact arithmetic but lands
    /// a hair below it in floating point (e.g. 6000 * (1/64)^(4/6) = 374.99999...) is taken as that
    /// integer, so the floor matches the formula rather than rounding error.
    /// </summary>
    public static int[] Counts(int nMax, int classes, double imbalanceFactor, ImbalanceProfile profile)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nMax);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        CheckImbalanceFactor(imbalanceFactor);
        var counts = new int[classes];
        for (int i = 0; i < classes; i++)
        {
            counts[i] = profile switch
            {
                ImbalanceProfile.Exp when i == 0 => nMax,
                // The last class is exactly n_max / IF; dividing avoids pow's rounding.
                ImbalanceProfile.Exp when i == classes - 1 => FloorExact(nMax / imbalanceFactor),
                ImbalanceProfile.Exp => FloorExact(nMax * Math.Pow(1.0 / imbalanceFactor, (double)i / (classes - 1))),
                ImbalanceProfile.Step => i < (classes + 1) / 2 ? nMax : FloorExact(nMax / imbalanceFactor),
                _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "Unknown imbalance profile."),
            };
        }
        return counts;
    }

    /// <summary>
    /// A long-tailed subset of a balanced set. n_max is the smallest class count of
    /// <paramref name="balanced"/>; classes shrink in label order per <see cref="Counts"/>;
    /// <paramref name="maxPerClass"/>, when given, caps every class afterwards (with IF 1 it just caps).
    /// The result keeps the images in their original file order.
    /// </summary>
    /// <exception cref="ArgumentException">IF below 1, a class without images, or an IF so large that a class keeps none.</exception>
    public static ImageDataset Build(
        ImageDataset balanced, double imbalanceFactor, ImbalanceProfile profile,
        LongTailSelection selection = LongTailSelection.FirstInFileOrder, int seed = 0, int? maxPerClass = null)
    {
        ArgumentNullException.ThrowIfNull(balanced);
        CheckImbalanceFactor(imbalanceFactor);
        if (maxPerClass is < 1)
            throw new ArgumentOutOfRangeException(nameof(maxPerClass), maxPerClass, "The per-class cap must be at least 1.");
        var available = balanced.ClassCounts();
        for (int c = 0; c < available.Length; c++)
        {
            if (available[c] == 0)
                throw new ArgumentException($"Class {c} ('{balanced.ClassNames[c]}') has no samples, so no long-tailed subset can be built.", nameof(balanced));
        }

        var targets = Counts(available.Min(), available.Length, imbalanceFactor, profile);
        for (int c = 0; c < targets.Length; c++)
        {
            if (maxPerClass is int cap) targets[c] = Math.Min(targets[c], cap);
            if (targets[c] == 0)
                throw new ArgumentException(
                    $"Imbalance factor {imbalanceFactor} leaves class {c} ('{balanced.ClassNames[c]}') with no images (n_max = {available.Min()}).",
                    nameof(imbalanceFactor));
        }
        return Select(balanced, targets, selection, seed);
    }

    /// <summary>Keeps at most <paramref name="maxPerClass"/> images of each class, in file order; smaller classes stay whole.</summary>
    public static ImageDataset CapPerClass(
        ImageDataset dataset, int maxPerClass, LongTailSelection selection = LongTailSelection.FirstInFileOrder, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerClass, 1);
        var targets = dataset.ClassCounts().Select(count => Math.Min(count, maxPerClass)).ToArray();
        return Select(dataset, targets, selection, seed);
    }

    private static ImageDataset Select(ImageDataset dataset, int[] targets, LongTailSelection selection, int seed)
    {
        var byClass = new List<int>[dataset.NumClasses];
        for (int c = 0; c < byClass.Length; c++) byClass[c] = new List<int>();
        for (int i = 0; i < dataset.Count; i++) byClass[dataset.Labels[i]].Add(i);

        var keep = new bool[dataset.Count];
        var random = new Random(seed);
        for (int c = 0; c < byClass.Length; c++)
        {
            var members = byClass[c];
            int target = targets[c];
            if (selection == LongTailSelection.SeededRandom)
            {
                // Partial Fisher-Yates: the first `target` slots end up a uniform random sample.
                for (int k = 0; k < target; k++)
                {
                    int swap = random.Next(k, members.Count);
                    (members[k], members[swap]) = (members[swap], members[k]);
                }
            }
            for (int k = 0; k < target; k++) keep[members[k]] = true;
        }

        var indices = new List<int>(targets.Sum());
        for (int i = 0; i < keep.Length; i++)
        {
            if (keep[i]) indices.Add(i);
        }
        return dataset.Subset(indices);
    }

    private static void CheckImbalanceFactor(double imbalanceFactor)
    {
        if (!(imbalanceFactor >= 1) || double.IsInfinity(imbalanceFactor))
            throw new ArgumentOutOfRangeException(nameof(imbalanceFactor), imbalanceFactor, "The imbalance factor must be a finite number >= 1.");
    }

    private static int FloorExact(double value)
    {
        double nearest = Math.Round(value);
        return Math.Abs(value - nearest) <= 1e-9 * Math.Max(1.0, nearest) ? (int)nearest : (int)Math.Floor(value);
    }
}
