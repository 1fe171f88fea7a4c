namespace FeatureAug.Core.Runtime;

/// <summary>
/// Independent, repeatable seeds for the separate random streams of one run, from the run seed by one SplitMix64
/// finaliser (<see cref="Mix"/>): Phase I's per-epoch shuffle and augmentation, and the FSA part's views, schedules
/// and each class's fusion. So a resumed epoch repeats its order, and fusing class 7 on another machine draws the same
/// numbers as fusing it here. The two key layouts below predate this class; each is kept as it was so that every
/// stream draws the numbers it always drew (tests/FeatureAug.Core.Tests/Runtime/GoldenStreamsTests.cs).
/// </summary>
internal static class SeedStreams
{
    /// <summary>Phase I: the order of an epoch's samples.</summary>
    public const int EpochShuffle = 1;
    /// <summary>Phase I: an epoch's crops and flips.</summary>
    public const int EpochAugmentation = 2;

    public const int ViewAugmentation = 1_000;
    public const int FsaSchedule = 2_000;
    public const int NoAugSchedule = 3_000;
    public const int CrtSchedule = 4_000;
    public const int Fusion = 5_000;
    public const int ValidationSplit = 6_000;
    public const int CrtReinitSchedule = 7_000;
    public const int CrtReinitInit = 7_500;
    public const int BalancedSoftmaxSchedule = 8_000;
    public const int LwsSchedule = 9_000;

    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong Mix1 = 0xBF58476D1CE4E5B9UL;
    private const ulong Mix2 = 0x94D049BB133111EBUL;

    /// <summary>The seed of FSA stream <paramref name="stream"/> + <paramref name="index"/> of run seed <paramref name="seed"/>.</summary>
    public static int Derive(int seed, int stream, int index = 0) =>
        Mix(unchecked((ulong)(uint)seed * Golden + (ulong)(uint)(stream + index) * Mix1 + Mix2));

    /// <summary>
    /// The seed of Phase-I stream <paramref name="stream"/> in epoch <paramref name="epoch"/> (0-based): epochs get
    /// unrelated orders, and a resumed epoch the same order as an uninterrupted one.
    /// </summary>
    public static int ForEpoch(int seed, int epoch, int stream) =>
        Mix(unchecked(((ulong)(uint)seed << 32 | (uint)epoch) + Golden * (ulong)(stream + 1)));

    /// <summary>The SplitMix64 finaliser of <paramref name="key"/>, as a non-negative int (a System.Random seed).</summary>
    private static int Mix(ulong key)
    {
        ulong z = key;
        z = unchecked((z ^ (z >> 30)) * Mix1);
        z = unchecked((z ^ (z >> 27)) * Mix2);
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }
}
