namespace FeatureAug.Core.Evaluation;

/// <summary>
/// Accuracy figures of one classifier on a test set. Accuracies are fractions in [0, 1].
/// Top1 is the mean per-class accuracy (equal to plain top-1 on a class-balanced test set).
/// Many/Medium/Few group classes by training count (&gt;100, 20..100, &lt;20); null where a group is empty.
/// </summary>
public sealed record ClassificationMetrics(
    double Top1,
    double HeadTop1,
    double TailTop1,
    double? Many,
    double? Medium,
    double? Few,
    double[] PerClass,
    int[][] ConfusionMatrix)
{
    public const int ManyShotAbove = 100;
    public const int FewShotBelow = 20;

    /// <summary>Computes every figure from predicted and true labels.</summary>
    /// <param name="predicted">Predicted class of each test sample.</param>
    /// <param name="actual">True class of each test sample.</param>
    /// <param name="trainCounts">Training samples per class (for many/medium/few).</param>
    /// <param name="headClasses">Classes in the head of the h_r split; the rest are tail.</param>
    public static ClassificationMetrics Compute(
        IReadOnlyList<int> predicted, IReadOnlyList<int> actual, IReadOnlyList<int> trainCounts, IReadOnlyCollection<int> headClasses)
    {
        if (predicted.Count != actual.Count)
            throw new ArgumentException($"{predicted.Count} predictions for {actual.Count} labels.");
        int classes = trainCounts.Count;
        var confusion = new int[classes][];
        for (int c = 0; c < classes; c++) confusion[c] = new int[classes];
        for (int i = 0; i < actual.Count; i++)
        {
            if (actual[i] < 0 || actual[i] >= classes || predicted[i] < 0 || predicted[i] >= classes)
                throw new ArgumentException($"Sample {i}: label {actual[i]} or prediction {predicted[i]} is outside 0..{classes - 1}.");
            confusion[actual[i]][predicted[i]]++;
        }

        var perClass = new double[classes];
        var present = new bool[classes];
        for (int c = 0; c < classes; c++)
        {
            int total = confusion[c].Sum();
            present[c] = total > 0;
            perClass[c] = total == 0 ? 0 : (double)confusion[c][c] / total;
        }

        double? MeanOver(Func<int, bool> include)
        {
            var chosen = Enumerable.Range(0, classes).Where(c => present[c] && include(c)).ToList();
            return chosen.Count == 0 ? null : chosen.Average(c => perClass[c]);
        }

        var head = new HashSet<int>(headClasses);
        return new ClassificationMetrics(
            Top1: MeanOver(_ => true) ?? 0,
            HeadTop1: MeanOver(head.Contains) ?? 0,
            TailTop1: MeanOver(c => !head.Contains(c)) ?? 0,
            Many: MeanOver(c => trainCounts[c] > ManyShotAbove),
            Medium: MeanOver(c => trainCounts[c] >= FewShotBelow && trainCounts[c] <= ManyShotAbove),
            Few: MeanOver(c => trainCounts[c] < FewShotBelow),
            PerClass: perClass,
            ConfusionMatrix: confusion);
    }
}
