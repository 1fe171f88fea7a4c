namespace FeatureAug.Core.Runtime;

/// <summary>
/// Independent, repeatable seeds for the separate random streams of one run (views, schedules, each class's
/// fusion), so that e.g. fusing class 7 on another machine draws the same numbers as fusing it here.
/// </summary>
internal static class SeedStreams
{
    public const int ViewAugmentation = 1_000;
    public const int FsaSchedule = 2_000;
    public const int NoAugSchedule = 3_000;
    public const int CrtSchedule = 4_000;
    public const int Fusion = 5_000;

    /// <summary>A seed for stream <paramref name="stream"/> + <paramref name="index"/> of run seed <paramref name="seed"/> (SplitMix64 finaliser).</summary>
    public static int Derive(int seed, int stream, int index = 0)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)(stream + index) * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
