namespace FeatureAug.Testing;

/// <summary>Names of the xunit collections the test projects define (a definition must live in its test assembly).</summary>
public static class TestCollections
{
    /// <summary>
    /// Tests that compare training results bit for bit. torch's thread count is process-wide and other
    /// activities change it, so these run alone, after the parallel tests.
    /// </summary>
    public const string BitExact = "Bit-exact training";
}
