using FeatureAug.Core.Runtime;

namespace FeatureAug.Core.Data;

/// <summary>
/// The validation split every method choice of a run is made on: held out of the training images before Phase I,
/// never the test set. Stratified: each class keeps its share.
/// </summary>
public static class ValidationSplit
{
    /// <summary>Where the validation images of a run came from.</summary>
    public const string FromFolder = "val folder", FromTraining = "held out of train", None = "none";

    /// <summary>
    /// The split a run trains and chooses on: the data set's own validation set when it has one, else
    /// <paramref name="fraction"/> of every class held out of the training set (seeded by the run seed), else
    /// (fraction 0) none.
    /// </summary>
    public static (DatasetSplit Split, string Source) Apply(DatasetSplit split, double fraction, int runSeed)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Validation is not null) return (split, FromFolder);
        if (fraction == 0) return (split, None);
        var (train, validation) = Stratified(split.Train, fraction, SeedStreams.Derive(runSeed, SeedStreams.ValidationSplit));
        return (split with { Train = train, Validation = validation }, FromTraining);
    }

    /// <summary>
    /// Seeded per-class hold-out: ceil(fraction n_c) images of class c go to validation, at least one and never all, so
    /// a class with a single image keeps it for training and has no validation image. Both parts keep dataset order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fraction"/> is not in (0, 1).</exception>
    public static (ImageDataset Train, ImageDataset Validation) Stratified(ImageDataset data, double fraction, int randomSeed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must lie in (0, 1).");
        var random = new Random(randomSeed);
        var byClass = new List<int>[data.NumClasses];
        for (int c = 0; c < byClass.Length; c++) byClass[c] = [];
        for (int i = 0; i < data.Count; i++) byClass[data.Labels[i]].Add(i);
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var members in byClass)
        {
            var shuffled = members.OrderBy(_ => random.Next()).ToArray();
            int held = shuffled.Length < 2 ? 0 : Math.Clamp((int)Math.Ceiling(fraction * shuffled.Length), 1, shuffled.Length - 1);
            validation.AddRange(shuffled.Take(held));
            train.AddRange(shuffled.Skip(held));
        }
        train.Sort();
        validation.Sort();
        return (data.Subset(train), data.Subset(validation));
    }
}
