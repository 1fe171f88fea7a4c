namespace FeatureAug.Core.Fsa;

/// <summary>The classes a model confuses with each tail class (spec/fsa.md, "Confusing classes").</summary>
public static class ConfusingClasses
{
    /// <summary>
    /// For each tail class c: the <paramref name="nf"/> classes other than c with the highest mean softmax score
    /// over c's training samples, highest first (ties by class index). With <paramref name="headOnly"/>
    /// only head classes are candidates, and fewer than <paramref name="nf"/> come back when the head is smaller.
    /// </summary>
    /// <param name="meanScores">Row c: mean softmax vector over class c's training samples (C x C; only tail rows are read).</param>
    /// <param name="tailClasses">The tail classes to rank for.</param>
    /// <param name="headClasses">The head classes (used with <paramref name="headOnly"/>).</param>
    public static IReadOnlyDictionary<int, int[]> Rank(
        double[][] meanScores, IReadOnlyList<int> tailClasses, int nf, bool headOnly, IReadOnlyCollection<int> headClasses)
    {
        ArgumentNullException.ThrowIfNull(meanScores);
        ArgumentNullException.ThrowIfNull(tailClasses);
        ArgumentNullException.ThrowIfNull(headClasses);
        if (nf < 1) throw new ArgumentOutOfRangeException(nameof(nf), nf, "N_f must be at least 1.");
        int classes = meanScores.Length;
        if (nf >= classes) throw new ArgumentOutOfRangeException(nameof(nf), nf, $"N_f must be below the class count {classes}.");
        var head = new HashSet<int>(headClasses);
        var result = new Dictionary<int, int[]>();
        foreach (int tail in tailClasses)
        {
            if (tail < 0 || tail >= classes) throw new ArgumentOutOfRangeException(nameof(tailClasses), tail, $"Tail class outside 0..{classes - 1}.");
            var scores = meanScores[tail];
            if (scores is null || scores.Length != classes)
                throw new ArgumentException($"Mean scores of class {tail} must hold {classes} values, got {scores?.Length ?? 0}.", nameof(meanScores));
            result[tail] = TopScoring(scores, nf, c => c != tail && (!headOnly || head.Contains(c)));
        }
        return result;
    }

    /// <summary>
    /// The (up to) <paramref name="count"/> eligible indices with the highest scores, highest first, ties to the lower
    /// index (the order of a stable descending sort) in one pass: O(C count) instead of sorting all C classes per
    /// tail class, which made planning grow as T C log C at 10,000 classes.
    /// </summary>
    internal static int[] TopScoring(double[] scores, int count, Func<int, bool> eligible)
    {
        var best = new List<int>(count + 1);
        for (int c = 0; c < scores.Length; c++)
        {
            if (!eligible(c)) continue;
            if (best.Count == count && !(scores[c] > scores[best[^1]])) continue;
            int at = best.Count;
            while (at > 0 && scores[c] > scores[best[at - 1]]) at--;
            best.Insert(at, c);
            if (best.Count > count) best.RemoveAt(best.Count - 1);
        }
        return best.ToArray();
    }
}
