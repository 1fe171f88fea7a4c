using FeatureAug.Core.Fsa;

namespace FeatureAug.Core.Runtime;

/// <summary>
/// Draws real training samples of a group of classes (the tail of the plan, the head or tail half of a Phase-II batch,
/// all classes for cRT), with replacement, from a caller's <see cref="Random"/>: <see cref="GroupSampling.Uniform"/>
/// over the group's samples, or <see cref="GroupSampling.ClassBalanced"/>, a class of the group with samples uniformly
/// and then one of its samples. With several views per sample a view is drawn uniformly after the sample. Samples are
/// global positions in class-sorted order (class c's samples start at its offset). Callers that interleave groups pass
/// each sampler the same Random, so one seeded stream fixes the whole schedule.
/// </summary>
internal sealed class GroupSampler
{
    private readonly Random _random;
    private readonly GroupSampling _sampling;
    private readonly int _viewsPerSample;
    private readonly int[] _classCounts;
    private readonly int[] _classOffsets;
    /// <summary>Uniform: the group's positions; class-balanced: its classes that hold samples.</summary>
    private readonly int[] _choices;

    /// <param name="classes">The group's classes.</param>
    /// <param name="classCounts">Training samples of every class.</param>
    /// <param name="classOffsets">Global position of every class's first sample.</param>
    public GroupSampler(IEnumerable<int> classes, int[] classCounts, int[] classOffsets, GroupSampling sampling, int viewsPerSample, Random random)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(random);
        if (viewsPerSample < 1) throw new ArgumentOutOfRangeException(nameof(viewsPerSample), viewsPerSample, "At least one view per sample.");
        _random = random;
        _sampling = sampling;
        _viewsPerSample = viewsPerSample;
        _classCounts = classCounts;
        _classOffsets = classOffsets;
        _choices = sampling switch
        {
            GroupSampling.Uniform => classes.SelectMany(c => Enumerable.Range(classOffsets[c], classCounts[c])).ToArray(),
            GroupSampling.ClassBalanced => classes.Where(c => classCounts[c] > 0).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(sampling), sampling, "Unknown sampling."),
        };
    }

    /// <summary>False when the group holds no sample (nothing can be drawn).</summary>
    public bool IsEmpty => _choices.Length == 0;

    /// <summary>One draw: the sample's global position and its view (0 with one view per sample).</summary>
    public (int Position, int View) Next()
    {
        if (IsEmpty) throw new InvalidOperationException("The group holds no sample to draw.");
        int position;
        if (_sampling == GroupSampling.ClassBalanced)
        {
            int label = _choices[_random.Next(_choices.Length)];
            position = _classOffsets[label] + _random.Next(_classCounts[label]);
        }
        else
        {
            position = _choices[_random.Next(_choices.Length)];
        }
        int view = _viewsPerSample > 1 ? _random.Next(_viewsPerSample) : 0;
        return (position, view);
    }
}
